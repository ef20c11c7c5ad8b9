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
