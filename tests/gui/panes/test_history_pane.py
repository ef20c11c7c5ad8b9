"""The history pane: logged calls page by page, full-text search, and filters that combine."""

from __future__ import annotations

from lab.core.model import Call, Usage
from lab.core.workspace.store import open_workspace


def test_history_shows_logged_calls_and_finds_them_by_search(make_window, qtbot, lab_home):
    with open_workspace(lab_home / "workspace.db") as store:
        store.insert_calls([
            Call(provider="openai", model="gpt-4o-mini", request={}, status="ok",
                 response_text=f"Reply {i}" + (" about a refund" if i == 7 else ""),
                 usage=Usage(12, 30), latency_ms=850, cost_usd=0.0002, variant_name="A · concise")
            for i in range(250)
        ])
    window = make_window()
    history = window.history_pane
    qtbot.waitUntil(lambda: history.model.rowCount() > 0, timeout=5000)
    assert history.model.rowCount() == 200  # one page; more arrive as the view scrolls
    assert history.header.caption.text() == "200+ calls"
    history.model.fetchMore()
    qtbot.waitUntil(lambda: history.model.rowCount() == 250, timeout=5000)
    assert "250 calls logged" in window.run_status.totals_label.text()
    history.search.setText("refund")
    qtbot.waitUntil(lambda: history.model.rowCount() == 1, timeout=5000)
    assert history.model.row_data(0)["response_preview"] == "Reply 7 about a refund"
    history.search.setText("nothing-matches-this")
    qtbot.waitUntil(lambda: history.stack.currentWidget() is history.empty, timeout=5000)
    assert history.empty.title.text() == "No matches"


def test_history_filters_by_status_variant_model_rating_tag_and_date(make_window, qtbot, lab_home):
    with open_workspace(lab_home / "workspace.db") as store:
        ids = store.insert_calls([
            Call(provider="openai" if i % 2 else "anthropic",
                 model="gpt-4o-mini" if i % 2 else "claude-haiku-4-5", request={},
                 status="error" if i % 5 == 0 else "ok", response_text=f"reply {i}",
                 variant_name="A" if i < 6 else "B")
            for i in range(10)
        ])
        from lab.core.model import Rating

        store.set_rating(Rating(call_id=ids[1], score=5, tags=["too long"]))
        store.set_rating(Rating(call_id=ids[3], thumbs=1, score=3))
    window = make_window()
    pane = window.history_pane
    qtbot.waitUntil(lambda: pane.model.rowCount() == 10, timeout=5000)
    assert [pane.variant.itemText(i) for i in range(pane.variant.count())] == ["Any variant", "A", "B"]

    def shown() -> list[str]:
        return [pane.model.row_data(r)["response_preview"] for r in range(pane.model.rowCount())]

    def choose(combo, data) -> None:
        combo.setCurrentIndex(combo.findData(data))

    choose(pane.status, "error")
    qtbot.waitUntil(lambda: shown() == ["reply 5", "reply 0"], timeout=5000)
    choose(pane.status, None)
    choose(pane.variant, "B")
    choose(pane.model_filter, "openai/gpt-4o-mini")
    qtbot.waitUntil(lambda: shown() == ["reply 9", "reply 7"], timeout=5000)
    assert pane.header.caption.text() == "2 matching calls"
    choose(pane.variant, None)
    choose(pane.model_filter, None)
    choose(pane.rating, 4)
    qtbot.waitUntil(lambda: shown() == ["reply 1"], timeout=5000)
    choose(pane.rating, "up")
    qtbot.waitUntil(lambda: shown() == ["reply 3"], timeout=5000)
    choose(pane.rating, None)
    choose(pane.tag, "too long")
    qtbot.waitUntil(lambda: shown() == ["reply 1"], timeout=5000)
    choose(pane.tag, None)
    choose(pane.since, 1)  # last hour: everything was just logged
    qtbot.waitUntil(lambda: len(shown()) == 10, timeout=5000)
    # Filters combine with the full-text search.
    pane.search.setText("reply 7")
    qtbot.waitUntil(lambda: shown() == ["reply 7"], timeout=5000)
