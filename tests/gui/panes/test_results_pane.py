"""The results grid after a run: show only the rows that need a look, filter by text, order rows
by a variant's outputs."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.gui.sample_runs import point_sample_at


def test_filter_and_sort_the_results_grid(make_window, qtbot, fake_server, lab_home):
    from tests.helpers.fake_provider import http_error

    point_sample_at(fake_server, lab_home)
    # Three of B's calls are refused (a 400 is not retried), so three rows carry an error.
    fake_server.script(*[http_error(400, message="bad request")] * 3, model="gpt-4o")
    window = make_window()
    window.commands.run_action.trigger()
    qtbot.waitUntil(lambda: window.run_status.progress_label.text().startswith("Run finished"), timeout=30000)
    pane, grid = window.results_pane, window.results_pane.model
    errors = {r for r in range(20) if grid.cell(r, 1).status == "error"}
    assert len(errors) == 3

    pane.show_rows.setCurrentIndex(2)  # "An error"
    assert pane.proxy.rowCount() == len(errors)
    assert pane.header.caption.text().startswith(f"showing {len(errors)} of 20 rows")
    pane.show_rows.setCurrentIndex(0)
    assert pane.proxy.rowCount() == 20

    pane.filter_text.setText("Kwame")  # a customer's name appears in that row's outputs
    assert pane.proxy.rowCount() == 1
    assert pane.proxy.headerData(0, Qt.Orientation.Vertical) == "missing item"
    pane.filter_text.clear()

    # Sort rows by A's output length, longest last; selection still finds the right cell.
    pane.sort_rows.setCurrentIndex(4)  # "Output length"
    pane.proxy.sort(0, Qt.SortOrder.AscendingOrder)
    lengths = [len(grid.cell(pane.proxy.mapToSource(pane.proxy.index(r, 0)).row(), 0).text)
               for r in range(20)]
    assert lengths == sorted(lengths)
    pane.view.setCurrentIndex(pane.proxy.index(19, 0))
    row, column = pane.current_source()
    assert len(grid.cell(row, column).text) == max(lengths)
    assert grid.cell(row, column).text.split()[2] in pane.detail.toPlainText()


def test_samples_in_a_cell_are_marked_opened_side_by_side_and_kept(make_window, qtbot,
                                                                  fake_server, lab_home):
    from PySide6.QtCore import QPoint, Qt

    from lab.core.workspace.location import current_project_id, open_default_workspace
    from tests.gui.sample_runs import point_sample_at

    point_sample_at(fake_server, lab_home)
    with open_default_workspace(lab_home / "workspace.db") as store:
        project = store.load_project(current_project_id(store))
        del project.cases[2:]
        store.save_project(project)
    window = make_window()
    window.run_bar.samples.setValue(3)
    qtbot.waitUntil(lambda: "12 calls to send" in window.run_bar.estimate.text(), timeout=10000)
    window.commands.run_action.trigger()
    qtbot.waitUntil(lambda: window.run_status.progress_label.text().startswith("Run finished"),
                    timeout=30000)
    pane = window.results_pane
    cell = pane.model.cell(0, 0)
    assert len(cell.samples) == 3
    marker = cell.samples_marker()
    assert marker.startswith("3 samples · ") and marker in cell.footer()

    # A click on the cell's footer opens the samples side by side.
    pane.select_cell(0, 0)
    view = pane.view
    rect = view.visualRect(pane.proxy.mapFromSource(pane.model.index(0, 0)))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(rect.left() + 12, rect.bottom() - 8))
    qtbot.waitUntil(lambda: window.judging.samples_dialog is not None, timeout=3000)
    dialog = window.judging.samples_dialog
    qtbot.addWidget(dialog)
    assert len(dialog.views) == 3
    assert [h.text().split("</b>")[0] for h in dialog.headings] == [
        "<b>Sample 1", "<b>Sample 2", "<b>Sample 3"]
    assert all(v.toPlainText() for v in dialog.views)
    # The detail panel links to them too.
    assert marker in pane.detail.toPlainText()

    # Closed and opened again: the Samples setting and the marker are still there.
    window.close()
    again = make_window()
    assert again.run_bar.samples.value() == 3
    assert again.results_pane.model.cell(1, 1).samples_marker() == \
        window.results_pane.model.cell(1, 1).samples_marker()
    assert "3 samples" in again.results_pane.model.cell(1, 1).footer()
