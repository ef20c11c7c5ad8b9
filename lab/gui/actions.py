"""The window's actions: every menu item, toolbar button and shortcut, with its words and keys.

Made here, in one place, so the menus, the toolbar and the keyboard-shortcut help agree; what
each action does is connected by the window (lab/gui/main_window.py), which owns the controllers.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QStyle, QWidget

Std = QStyle.StandardPixmap
Keys = QKeySequence.StandardKey


class WindowActions(QObject):
    """The actions of one main window (their parent)."""

    def __init__(self, window: QWidget):
        super().__init__(window)
        self._window = window
        make = self._action
        # File
        self.new_action = make("&New Workspace…", Keys.New, "Create an empty workspace file")
        self.open_action = make("&Open Workspace…", Keys.Open, "Open another workspace file")
        self.open_experiment_action = make(
            "Open &Experiment…", "Ctrl+Shift+O",
            "Open an experiment file (TOML) as a project of this workspace")
        self.import_action = make(
            "&Import from promptfoo or OpenAI Evals…", None,
            "Convert a promptfoo config or an OpenAI Evals eval into an experiment file beside "
            "it, with an import report, and open it")
        self.save_experiment_action = make(
            "&Save Experiment", Keys.Save, "Write the project back to its experiment file")
        self.save_experiment_as_action = make(
            "Save Experiment &As…", Keys.SaveAs,
            "Write the project as an experiment file (TOML), for git and `lab run`")
        self.export_action = make(
            "&Export Fine-Tuning Data…", "Ctrl+Shift+E",
            "Write judged outputs as a fine-tuning dataset, validated, with a dataset card")
        self.quit_action = make("&Quit", Keys.Quit)
        # Edit
        self.undo_action = make("&Undo", Keys.Undo, "Undo the last change to the project "
                                "(in a text box: the last typing)")
        self.redo_action = make("&Redo", Keys.Redo)
        self.find_action = make("&Find…", Keys.Find)
        self.replace_action = make("Find and &Replace…", "Ctrl+H")
        self.providers_action = make(
            "&Providers…", "Ctrl+Shift+P",
            "Add model providers, their keys and settings; test the connection")
        self.refresh_models_action = make(
            "Refresh &Model List", None, "Ask every provider that has a key which models it offers")
        # Variant
        self.new_variant_action = make("&New Variant", None, "Add an empty variant")
        self.duplicate_variant_action = make("&Duplicate Variant", "Ctrl+D",
                                             "Copy the selected variant to change one thing")
        self.rename_variant_action = make("&Rename Variant", "F2")
        self.delete_variant_action = make("De&lete Variant")
        self.compare_variants_action = make(
            "&Compare Variants…", "Ctrl+Shift+D",
            "Show what differs between two variants, word by word")
        self.prompt_history_action = make(
            "Prompt &History…", "Ctrl+Shift+H",
            "Every prompt the selected variant was run with: when, which runs, what changed")
        # Run
        self.run_action = make("&Run", "Ctrl+Return", "Run every variant over every test case",
                               Std.SP_MediaPlay)
        self.cancel_action = make("&Cancel Run", "Ctrl+.", "Stop the run; finished calls are kept",
                                  Std.SP_MediaStop)
        self.resume_action = make("Re&sume Run", "Ctrl+Shift+Return",
                                  "Run only the calls that are missing or failed",
                                  Std.SP_BrowserReload)
        self.fresh_action = make("Run &Fresh Samples", "Ctrl+Shift+R",
                                 "Run again without answers from the cache")
        self.runs_action = make("&Runs…", "Ctrl+Shift+U",
                                "The project's runs: open one in the grid, compare two")
        self.batch_action = make(
            "Run as &Batch", None, "Send runs through the providers' batch APIs: about half the "
            "price, results within 24 hours (Ollama and other local servers run as usual)")
        self.batch_action.setCheckable(True)
        self.batch_action.setIconText("Batch")  # beside Run, which then says "Run as Batch"
        self.batches_action = make(
            "&Batches…", "Ctrl+Shift+B", "Batch runs' batches: status, counts, age, when each "
            "may end; follow, stop following, cancel, send failed requests again")
        for action in (self.run_action, self.cancel_action, self.resume_action):
            action.setEnabled(False)
        # Judge
        self.pairwise_action = make(
            "&Judge Pairs Blind…", "Ctrl+J",
            "Compare two variants' outputs for the same input without seeing which is which")
        self.rate_actions = [make(f"Rate {score}", str(score),
                                  f"Give the selected output a score of {score}")
                             for score in range(1, 6)]
        self.thumbs_up_action = make("Thumbs &Up", "+")
        self.thumbs_down_action = make("Thumbs &Down", "-")
        self.note_action = make("&Note…", "N", "Write a note on the output")
        self.tags_action = make("&Tags…", "T", "Tag the output with failure modes, comma-separated")
        self.compare_outputs_action = make(
            "&Compare Two Outputs", "Ctrl+Shift+C",
            "Word-level differences between the two selected outputs (Ctrl+click to select)")
        self.samples_action = make("Show &Samples", "Ctrl+Shift+M",
                                   "The selected cell's samples side by side")
        self.promote_action = make("&Promote to Example", "Ctrl+E",
                                   "Add the selected output as a few-shot example of its variant")
        # View and Help
        self.reset_layout_action = make("Reset &Layout", None, "Put every pane back where it started")
        self.shortcuts_action = make("&Keyboard Shortcuts", Keys.HelpContents)
        self.about_action = make("&About", None)

    def judging_keys(self) -> list[QAction]:
        """Single-key judging shortcuts: they act on the results grid only, so typing in an
        editor is never a rating."""
        return [*self.rate_actions, self.thumbs_up_action, self.thumbs_down_action,
                self.note_action, self.tags_action]

    def _action(self, text: str, shortcut: QKeySequence | Keys | str | None = None,
                tip: str = "", icon: QStyle.StandardPixmap | None = None) -> QAction:
        action = QAction(text, self._window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{tip} ({keys})" if keys else tip)
        if icon is not None:
            action.setIcon(self._window.style().standardIcon(icon))
        return action


def widget_only(actions: list[QAction], widget: QWidget) -> None:
    """Make `actions`' shortcuts work only while `widget` (or a child) has the focus."""
    for action in actions:
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        widget.addAction(action)
