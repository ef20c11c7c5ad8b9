"""Batch runs in the window: what the batches the window follows are doing, said in the status
bar ("2 batches waiting at OpenAI — following them") and in the Batches dialog (Run ▸
Batches…), the results they bring filling the grid, following the open ones when a workspace
opens, Stop Following and Cancel, and sending failed requests again.

The batches themselves are read from the workspace (each poll is recorded there before its news
arrives), on the store thread, a moment after the news; the following is done by the run
controller's `following` (see batch_follow).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QMainWindow, QMessageBox

from lab.core.run import events as run_events
from lab.gui.actions import WindowActions
from lab.gui.controllers.run_controller import RunController
from lab.gui.controllers.running import RunningController
from lab.gui.controllers.session import Session
from lab.gui.panes.run_status import RunStatus
from lab.gui.tasks import when_done

if TYPE_CHECKING:
    from lab.core.workspace.store import Store
    from lab.gui.dialogs.batches import BatchesDialog

OPEN = ("submitted", "in_progress", "cancelling", "ended")
KINDS = {"openai": "OpenAI", "anthropic": "Anthropic", "gemini": "Gemini"}
LINK = " · <a href='batches'>Batches…</a>"


def where(batches: list[dict[str, Any]]) -> str:
    """The providers of `batches` in words: "OpenAI", "fake (OpenAI) and Anthropic"."""
    names = []
    for b in batches:
        kind = KINDS.get(b["kind"], b["kind"])
        name = kind if b["provider"].lower() == kind.lower() else f"{b['provider']} ({kind})"
        if name not in names:
            names.append(name)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def batches_count(n: int) -> str:
    return f"{n} batch{'es' if n != 1 else ''}"


def _load(store: Store, run_ids: set[int], shown: int | None) -> dict[str, Any]:
    """Batches of the runs with batches at a provider and of `run_ids`, with the requests of
    each that did not succeed, and the cells of run `shown` waiting in a batch (store thread)."""
    ids = set(store.runs_with_open_batches()) | run_ids
    batches = {r: rows for r in ids if (rows := store.batches_for_run(r))}
    waiting = [(r["variant_name"], r["case_index"], f"{b['provider']}/{b['model']}")
               for b in (store.open_batches(shown) if shown in batches else [])
               for r in b["requests"] if r["call_id"] is None and r["sample_index"] == 0]
    return {"batches": batches, "failures": {r: store.batch_failures(r) for r in batches},
            "shown": shown, "waiting": waiting}


class BatchesController(QObject):
    TICK_MS = 30_000  # ages and estimates move with the clock

    def __init__(self, session: Session, runs: RunController, running: RunningController, *,
                 run_status: RunStatus, actions: WindowActions, window: QMainWindow):
        super().__init__(window)
        self._session = session
        self._runs = runs
        self._following = runs.following
        self._running = running
        self._status = run_status
        self._cancel_action = actions.cancel_action
        self._window = window
        self._dialog: BatchesDialog | None = None
        self._overview: dict[str, Any] = {"batches": {}, "failures": {}}
        self._seen: set[int] = set()  # runs sent or followed while this workspace is open
        self._note = ""  # the latest news worth keeping: batches in, cancelled, not followed
        self._sessions: dict[int, dict[str, Any]] = {}  # run id -> what its session did
        self._reload = QTimer(self)  # news comes in bursts: one read at most every 250 ms
        self._reload.setSingleShot(True)
        self._reload.setInterval(250)
        self._reload.timeout.connect(self.reload)
        self._tick = QTimer(self)
        self._tick.setInterval(self.TICK_MS)
        self._tick.timeout.connect(self._ticked)

        f = self._following
        f.event.connect(self._followed_event)
        f.changed.connect(self._changed)
        f.ended.connect(self._ended)
        f.refused.connect(self._refused)
        runs.event.connect(self._run_event)
        runs.finished.connect(lambda _outcome: self._changed())
        actions.batches_action.triggered.connect(self.show_dialog)
        run_status.batches_label.linkActivated.connect(lambda _link: self.show_dialog())

    # ---- the workspace

    def workspace_opened(self) -> None:
        """Follow the workspace's runs that have batches at a provider."""
        self._seen, self._note, self._sessions = set(), "", {}
        self._following.follow_open()
        self._changed()

    # ---- news

    def _session_of(self, run_id: int) -> dict[str, Any]:
        """What the session following `run_id` did so far."""
        return self._sessions.setdefault(run_id, {"ok": 0, "failed": 0, "cancelled": 0,
                                                  "trouble": "", "stopped": False})

    def _run_event(self, event: Any) -> None:
        """News from the run being sent (its batches go to the provider)."""
        if isinstance(event, run_events.RunStarted):
            self._seen.add(event.run_id)
        elif isinstance(event, run_events.BatchProgress):
            if event.status == "cancelling" and self._session.last_run_id is not None:
                self._session_of(self._session.last_run_id)["cancelled"] += 1
                self._note = (f"Cancelled {batches_count(1)} at the provider; what it finished "
                              "is billed and collected when the run is resumed.")
            self._soon()

    def _followed_event(self, run_id: int, event: Any) -> None:
        shown = run_id == self._session.last_run_id and not self._runs.busy
        if isinstance(event, (run_events.CallFinished, run_events.JudgeFinished)):
            self._running.show_followed(event, shown)
            if isinstance(event, run_events.CallFinished):
                self._session_of(run_id)["ok" if event.call.status == "ok" else "failed"] += 1
        elif isinstance(event, run_events.BatchProgress):
            news = self._session_of(run_id)
            if event.status == "cancelling":
                news["cancelled"] += 1
            elif event.status == "waiting" and event.message:
                news["trouble"] = event.message
            self._soon()

    def _changed(self) -> None:
        self._seen.update(self._following.runs)
        self._cancel_action.setEnabled(
            self._runs.running or self._following.follows(self._session.last_run_id))
        if self._following.runs:
            self._tick.start()
        self._soon()

    def _ended(self, run_id: int, outcome: Any) -> None:
        news = self._session_of(run_id)
        del self._sessions[run_id]
        status = getattr(outcome, "status", None)
        if isinstance(outcome, BaseException):
            self._note = f"Following run #{run_id}'s batches stopped: {outcome}"
        elif status == "cancelled" and news["cancelled"]:
            self._note = (f"Cancelled {batches_count(news['cancelled'])} of run #{run_id} at the "
                          "provider; what they finished is billed and collected when the run "
                          "is resumed.")
        elif status == "waiting" and news["stopped"]:
            self._note = (f"Stopped following run #{run_id}'s batches; they keep running at the "
                          "provider and are followed again when the workspace next opens.")
        elif status == "waiting":
            why = f" ({news['trouble']})" if news["trouble"] else ""
            self._note = (f"Run #{run_id}'s batches are no longer followed{why}; Follow in "
                          "Batches… tries again.")
        elif status == "done":
            failed = (f" ({news['failed']} did not succeed: Batches… sends them again)"
                      if news["failed"] else "")
            self._note = (f"✓ Run #{run_id}'s batches are in: {news['ok'] + news['failed']} "
                          f"results{failed}.")
        if outcome is not None:
            self._running.after_logging()
        self._changed()

    def _refused(self, run_id: int, problems: list[str]) -> None:
        self._note = f"Run #{run_id}'s batches cannot be followed: {' '.join(problems)}"
        self._changed()

    # ---- what is shown

    def _soon(self) -> None:
        """Read the batches again shortly (news that comes meanwhile joins that read)."""
        if not self._reload.isActive():
            self._reload.start()

    def reload(self) -> None:
        if self._following.closed:  # the window closed: its workspace is closing too
            self._tick.stop()
            return
        run_ids = set(self._seen)
        shown = self._session.last_run_id
        if shown is not None:
            run_ids.add(shown)
        store = self._session.store
        when_done(store.submit(lambda s: _load(s, run_ids, shown)),
                  lambda loaded: store is self._session.store and self._show(loaded),
                  lambda _exc: None)  # the workspace is closing or did not open: nothing to show

    def _show(self, loaded: dict[str, Any]) -> None:
        self._overview = loaded
        if (loaded["waiting"] and loaded["shown"] == self._session.last_run_id
                and not self._runs.busy and self._running.viewing in (None, loaded["shown"])):
            self._running.show_waiting(loaded["waiting"])
        followed = set(self._following.runs)
        open_rows = [b for rows in loaded["batches"].values() for b in rows if b["status"] in OPEN]
        parts = []
        mine = [b for b in open_rows if b["run_id"] in followed]
        others = [b for b in open_rows if b["run_id"] not in followed]
        if mine:
            total = sum(b["request_count"] for b in mine)
            done = sum((b["succeeded_count"] or 0) + (b["failed_count"] or 0) for b in mine)
            parts.append(f"{batches_count(len(mine))} waiting at {where(mine)} — following "
                         f"{'it' if len(mine) == 1 else 'them'} ({done:,}/{total:,} done)")
        if others:
            parts.append(f"{batches_count(len(others))} at {where(others)} not followed")
        if self._note:
            parts.append(self._note)
        text = " · ".join(parts)
        self._status.show_batches(text + LINK if text else "",
                                  "Run ▸ Batches… lists every batch, with when it may end")
        if self._dialog is not None and self._dialog.isVisible():
            self._fill_dialog()

    def _ticked(self) -> None:
        if self._dialog is not None and self._dialog.isVisible():
            self._dialog.refresh()
        elif not self._following.runs:
            self._tick.stop()

    # ---- the dialog

    def show_dialog(self) -> None:
        if self._dialog is None:
            from lab.gui.dialogs.batches import BatchesDialog  # opened when asked for

            dialog = self._dialog = BatchesDialog(self._window)
            dialog.follow_requested.connect(self._follow)
            dialog.stop_requested.connect(self._stop)
            dialog.cancel_requested.connect(self._ask_cancel)
            dialog.resend_requested.connect(self._resend)
        self._fill_dialog()
        if self._session.last_run_id in self._overview["batches"]:
            self._dialog.select_run(self._session.last_run_id)
        if self._dialog.isVisible():
            self._dialog.raise_()  # already open, perhaps behind the window
        else:
            self._dialog.show()
        self._tick.start()
        self.reload()

    def _fill_dialog(self) -> None:
        assert self._dialog is not None
        overview = {**self._overview, "followed": set(self._following.runs)}
        self._dialog.show_overview(overview, self._note, self._runs.busy)

    def _follow(self, run_id: int) -> None:
        self._note = ""
        self._following.follow(run_id)

    def _stop(self, run_id: int) -> None:
        self._session_of(run_id)["stopped"] = True
        self._following.stop(run_id)

    def _resend(self, run_id: int, batch: bool) -> None:
        if self._runs.busy:
            self._window.statusBar().showMessage("A run is in progress: send them again after it.",
                                                 4000)
            return
        self._note = ""
        self._running.resume_run(run_id, batch)

    # ---- cancel

    def cancel(self) -> None:
        """Run ▸ Cancel Run: the run being sent, else the batches of the run in the grid."""
        if self._runs.running:
            self._running.cancel_run()
            return
        run_id = self._session.last_run_id
        if not self._following.follows(run_id):
            self._window.statusBar().showMessage(
                "No run to cancel here: Run ▸ Batches… lists the batches being followed.", 5000)
            return
        self._ask_cancel(run_id)

    def _ask_cancel(self, run_id: int) -> None:
        rows = [b for b in self._overview["batches"].get(run_id, []) if b["status"] in OPEN]
        box = QMessageBox(QMessageBox.Icon.Question, "Cancel batches",
                          f"Cancel run #{run_id}'s {batches_count(len(rows) or 1)}"
                          f"{f' at {where(rows)}' if rows else ''}?", parent=self._window)
        box.setObjectName("CancelBatches")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setInformativeText("What has not run yet is not billed. What finished is billed, "
                               "and is collected when the run is resumed; resuming also sends "
                               "the cancelled requests again.")
        yes = box.addButton("Cancel Batches", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Keep Them", QMessageBox.ButtonRole.RejectRole)
        box.finished.connect(lambda _r: box.clickedButton() is yes and self._cancel(run_id))
        box.open()

    def _cancel(self, run_id: int) -> None:
        if self._following.follows(run_id):
            self._note = f"Cancelling run #{run_id}'s batches at the provider…"
            self._following.cancel(run_id)
        elif self._runs.running:  # it is being sent: the cancel reaches its batches too
            self._running.cancel_run()
        else:  # not followed: follow it to cancel it
            self._following.follow(run_id)
            self._following.cancel(run_id)
        self._changed()
