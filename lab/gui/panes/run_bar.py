"""The run bar (the window's toolbar): which project is open, Run, Cancel and Resume, what stands
in the way of running (beside Run, with the button that fixes it), samples per cell, the budget,
and the pre-flight estimate with "Add price…" when a model has no price.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QSpinBox,
    QToolBar,
    QToolButton,
)

from lab.core.run.readiness import ProviderProblem
from lab.gui.actions import WindowActions


class RunBar(QToolBar):
    project_chosen = Signal(int)  # a project id
    fix_requested = Signal(str)  # the provider whose problem the user wants to fix
    add_price_requested = Signal()

    def __init__(self, actions: WindowActions):
        super().__init__("Run")
        self.setObjectName("RunToolbar")
        self.setMovable(False)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.projects = QComboBox()
        self.projects.setObjectName("ProjectSwitcher")
        self.projects.setMinimumContentsLength(16)
        self.projects.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.projects.setToolTip("The workspace's projects: pick one to open it (File ▸ Projects)")
        self.projects.activated.connect(self._project_activated)
        self.addWidget(self.projects)
        self.addSeparator()
        for action in (actions.run_action, actions.cancel_action, actions.resume_action):
            self.addAction(action)
        # Run says what it does; Cancel and Resume are known by their icons (and tooltips), so
        # the bar keeps room for what stands in the way and the estimate.
        for action in (actions.cancel_action, actions.resume_action):
            self.widgetForAction(action).setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)

        self.problem = QLabel()
        self.problem.setObjectName("RunProblem")
        self.problem.setStyleSheet("color: #c9302c;")
        self.problem.setWordWrap(False)
        self.fix_button = QToolButton()
        self.fix_button.clicked.connect(self._fix_clicked)
        self._problem_action = self.addWidget(self.problem)
        self._fix_action = self.addWidget(self.fix_button)
        self._problems: list[ProviderProblem] = []
        self.show_problems([])

        self.addSeparator()
        self.addWidget(QLabel(" Samples per cell "))
        self.samples = QSpinBox()
        self.samples.setRange(1, 100)
        self.samples.setToolTip("How many times each variant is asked each test case; repeated "
                                "samples show how consistent the outputs are")
        self.addWidget(self.samples)
        self.addWidget(QLabel(" Budget "))
        self.budget = QDoubleSpinBox()
        self.budget.setRange(0.0, 100_000.0)
        self.budget.setDecimals(2)
        self.budget.setSingleStep(0.5)
        self.budget.setPrefix("$")
        self.budget.setSpecialValueText("none")
        self.budget.setToolTip("Stop starting calls once the run has spent this much (like "
                               "lab run --budget); every planned model needs a known price")
        self.addWidget(self.budget)
        self.addSeparator()
        self.estimate = QLabel()
        self.estimate.setObjectName("PaneCaption")
        self.addWidget(self.estimate)
        self.add_price_button = QToolButton()
        self.add_price_button.setText("Add price…")
        self.add_price_button.setToolTip("Tell the lab what a model costs, so the estimate and "
                                         "a budget can count it")
        self.add_price_button.clicked.connect(self.add_price_requested.emit)
        self._price_action = self.addWidget(self.add_price_button)
        self._price_action.setVisible(False)

    def add_view_toggle(self, action: QAction) -> None:
        """A dock's show/hide action (the Analysis view) after Run, Cancel and Resume."""
        self.insertAction(self._problem_action, action)
        self.insertSeparator(self._problem_action)

    # ---- projects

    def set_projects(self, projects: list[dict[str, Any]], current: int | None) -> None:
        """Fill the switcher (rows of store.list_projects) and show `current`."""
        self.projects.blockSignals(True)
        self.projects.clear()
        for row in projects:
            self.projects.addItem(row["name"], row["id"])
            self.projects.setItemData(self.projects.count() - 1,
                                      f"{row['variants']} variants · {row['cases']} test cases",
                                      Qt.ItemDataRole.ToolTipRole)
        index = self.projects.findData(current)
        self.projects.setCurrentIndex(index)
        self.projects.blockSignals(False)

    def _project_activated(self, index: int) -> None:
        project_id = self.projects.itemData(index)
        if project_id is not None:
            self.project_chosen.emit(int(project_id))

    # ---- what stands in the way

    def show_problems(self, problems: list[ProviderProblem]) -> None:
        """Problems that would stop the run, beside Run: the first in words, the rest in its
        tooltip, and a button that opens the Providers dialog at that provider."""
        self._problems = problems
        shown = bool(problems)
        self._problem_action.setVisible(shown)
        self._fix_action.setVisible(shown)
        if not shown:
            self.problem.clear()
            return
        first = problems[0]
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        short = (f"⚠ No API key for {first.provider}" if first.kind == "no-key"
                 else f"⚠ {first.provider} is not answering")
        self.problem.setText(f" {short}{more} ")
        self.problem.setToolTip("\n\n".join(p.message for p in problems))
        self.fix_button.setText("Add key…" if first.kind == "no-key" else "Set up…")
        self.fix_button.setToolTip(first.message)

    def problems(self) -> list[ProviderProblem]:
        return list(self._problems)

    def _fix_clicked(self) -> None:
        if self._problems:
            self.fix_requested.emit(self._problems[0].provider)

    # ---- numbers

    def budget_usd(self) -> float | None:
        value = self.budget.value()
        return value if value > 0 else None

    def show_unpriced(self, unpriced: bool) -> None:
        self._price_action.setVisible(unpriced)

    def offers_price(self) -> bool:
        """"Add price…" is offered (it may sit in the toolbar's overflow on a narrow window)."""
        return self._price_action.isVisible()

    def shows_problem(self) -> bool:
        return self._problem_action.isVisible()
