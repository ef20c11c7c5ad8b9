"""Before a batch run is sent: its pre-flight, as `lab run --batch` prints it — the calls and
their cost at the batch price, what goes in batches at which provider within which limits, what
goes one by one and why (a server with no batch API, a chain, LLM judges) — and the choice to
send it or not. The words about batches are the core's (`with_batches` notes)."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

if TYPE_CHECKING:
    from lab.core.run.setup import PreparedRun

AFTER = ("Results come back within 24 hours. The window follows the batches — also after it "
         "is closed and opened again — and fills the grid as each batch ends. Cancel stops "
         "what has not run yet; what finished is billed and kept.")


def preflight_html(prepared: PreparedRun) -> str:
    est = prepared.estimate
    cells = "".join(
        f"<tr><td>{html.escape(line.label)}</td><td>{html.escape(line.model)}</td>"
        f"<td align='right'>{line.calls:,}</td><td align='right'>"
        + ("unknown" if line.cost_usd is None else f"${line.cost_usd:.4f}")
        + (" (batch)" if line.batch else "") + "</td></tr>"
        for line in est.lines)
    total = f"≈ ${est.cost_usd:.4f}" + (
        f" + unknown (no price for {html.escape(', '.join(est.unpriced))})" if est.unpriced else "")
    done = ([f"{est.from_cache:,} answered from the cache"] if est.from_cache else []) + (
        [f"{est.already_done:,} already done"] if est.already_done else [])
    done_text = f"<p>{html.escape(', '.join(done).capitalize())}.</p>" if done else ""
    parts = [
        "<table cellspacing='6'><tr><th align='left'>Variant</th><th align='left'>Model</th>"
        f"<th align='right'>Calls</th><th align='right'>Cost at most</th></tr>{cells}"
        f"<tr><td><b>Total</b></td><td></td><td align='right'><b>{est.calls:,}</b></td>"
        f"<td align='right'><b>{total}</b></td></tr></table>",
        done_text,
        *(f"<p>{html.escape(note)}</p>" for note in est.notes),
        *(f"<p>⚠ {html.escape(w)}</p>" for w in est.warnings),
        f"<p>{html.escape(AFTER)}</p>",
    ]
    return "".join(parts)


def ask_to_send(parent: QWidget, prepared: PreparedRun, go: Callable[[], None],
                stop: Callable[[], None]) -> QMessageBox:
    """Show the pre-flight and ask (window-modal, without blocking); `go()` sends the run,
    `stop()` sends nothing."""
    box = QMessageBox(parent)
    box.setObjectName("BatchPreflight")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Run as batch")
    calls = len(prepared.to_call)
    box.setText(f"<b>Send {calls:,} call{'s' if calls != 1 else ''} through the providers' "
                "batch APIs?</b>")
    box.setInformativeText(preflight_html(prepared))
    send = box.addButton("Send as Batch", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(send)
    box.finished.connect(lambda _result: go() if box.clickedButton() is send else stop())
    box.open()
    return box
