"""The status bar: which workspace is open, and while a run streams its progress, calls done of
the total, spend so far, errors, and each provider's current limit of calls in flight; the
workspace's totals (calls logged, dollars spent, failed calls) grow as calls land.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar


class RunStatus:
    """Widgets on the window's status bar, and what they show."""

    def __init__(self, bar: QStatusBar):
        self.bar = bar
        self.workspace_label = QLabel("Opening workspace…")
        self.progress_label = QLabel()
        self.progress_label.setObjectName("RunProgress")
        self.limits_label = QLabel()
        self.limits_label.setObjectName("PaneCaption")
        self.limits_label.setToolTip("Calls each provider may have in flight now: the lab halves "
                                     "it on a rate limit and grows it while the provider keeps up")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.errors_label = QLabel()
        self.totals_label = QLabel()
        bar.addWidget(self.workspace_label, 1)
        for widget in (self.progress_label, self.limits_label, self.progress, self.errors_label,
                       self.totals_label):
            bar.addPermanentWidget(widget)
        self._limits: dict[str, tuple[int, int]] = {}
        self._totals = (0, 0.0, 0)

    # ---- a run

    def run_started(self, total: int) -> None:
        self.bar.clearMessage()  # "Preparing the run…" has done its job
        self._limits = {}
        self.limits_label.clear()
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(0)
        self.progress.show()
        self.show_progress(0, total, 0.0, 0)

    def show_progress(self, done: int, total: int, cost: float, errors: int) -> None:
        shown = f" · {errors} error{'s' if errors != 1 else ''}" if errors else ""
        self.progress_label.setText(f"{done} / {total} calls{shown} · ${cost:.4f} spent")
        self.progress.setValue(done)

    def show_limit(self, provider: str, limit: int, ceiling: int) -> None:
        self._limits[provider] = (limit, ceiling)
        self.limits_label.setText(" · ".join(
            f"{name}: {now} in flight" + (f" (≤ {top})" if top > now else "")
            for name, (now, top) in sorted(self._limits.items())))

    def run_finished(self, text: str) -> None:
        self.progress.hide()
        self.limits_label.clear()
        self.progress_label.setText(text)

    # ---- the workspace

    def show_totals(self, calls: int, cost: float, errors: int) -> None:
        self._totals = (calls, cost, errors)
        self.totals_label.setText(f"{calls:,} calls logged · ${cost:,.4f} spent")
        self.errors_label.setText(f"⚠ {errors} failed calls" if errors else "")

    def add_to_totals(self, cost: float | None, error: bool) -> None:
        """A call of the running run landed: the workspace totals grow at once."""
        calls, spent, errors = self._totals
        self.show_totals(calls + 1, spent + (cost or 0.0), errors + int(error))
