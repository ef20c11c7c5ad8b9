"""Datasets as saved selections: every rule selects what a user would expect, hand picks win,
and a dataset is evaluated again on every read."""

from __future__ import annotations

import pytest
from lab.core.export.datasets import (
    delete_dataset,
    list_datasets,
    load_dataset,
    save_dataset,
    select_calls,
    set_pick,
)
from lab.core.export.selection import Selection, SelectionError
from lab.core.model import Dataset, Rating
from lab.core.workspace.errors import WorkspaceError

from tests.helpers.judged_workspace import EXAMPLES, LONG_SYSTEM, QUESTIONS, answer


def ids(store, **rules):
    return [c.call_id for c in select_calls(store, Selection(**rules))]


def test_everything_selects_every_successful_output_and_never_failures_or_judge_calls(
        store, judged):
    selected = ids(store)
    assert judged.failed not in selected and judged.judge not in selected
    assert len(selected) == 12 + 12 + 3 + 2


def test_rating_rules(store, judged):
    assert ids(store, min_score=5) == [judged.a[i] for i in range(11)]
    assert ids(store, min_score=4) == [judged.a[i] for i in range(11)] + [judged.gemini]
    assert ids(store, thumbs_up=True) == [judged.b[i] for i in range(0, 12, 2)]
    # Rules combine with AND: nothing has both a score of 5 and thumbs up.
    assert ids(store, min_score=5, thumbs_up=True) == []


def test_tag_rules_ignore_case(store, judged):
    assert ids(store, tags=["GOOD"]) == [judged.gemini]
    assert judged.a[11] not in ids(store, exclude_tags=["rambling"])
    assert ids(store, variants=["A"], exclude_tags=["rambling"]) == sorted(
        [judged.a[i] for i in range(11)] + list(judged.a_repeat.values()))


def test_check_rules(store, judged):
    assert ids(store, checks_passed=True) == [judged.a[i] for i in range(11)]
    assert ids(store, checks=["polite"]) == [judged.a[i] for i in range(11)]
    assert ids(store, checks=["no such check"]) == []


def test_source_rules(store, judged):
    assert ids(store, experiments=["gemini-check"]) == [judged.gemini, judged.rebuilt]
    assert ids(store, variants=["B"]) == [judged.b[i] for i in range(12)]
    assert ids(store, models=["claude-3-haiku"]) == ids(store, models=["anthropic/claude-3-haiku"])
    assert ids(store, runs=[999]) == []
    assert ids(store, search="order 1003", variants=["B"]) == [judged.b[3]]


def test_hand_picks_add_and_remove_whatever_the_rules_say(store, judged):
    chosen = ids(store, min_score=5, include_calls=[judged.b[1]], exclude_calls=[judged.a[0]])
    assert judged.b[1] in chosen and judged.a[0] not in chosen
    assert ids(store, hand_picked_only=True, include_calls=[judged.b[2], judged.failed]) == [
        judged.b[2]]  # a failed call is never selected, even by hand


def test_selected_call_carries_the_conversation_as_sent(store, judged):
    by_id = {c.call_id: c for c in select_calls(store, Selection())}
    a0 = by_id[judged.a[0]]
    assert a0.source == "request" and a0.variant == "A" and a0.experiment == "support"
    assert a0.system == LONG_SYSTEM and a0.user == QUESTIONS[0] and a0.output == answer("A", 0)
    assert a0.shots == [(e.input, e.output) for e in EXAMPLES]
    assert [m.is_example for m in a0.messages] == [False, True, True, True, True, False]
    assert a0.score == 5 and a0.checks == {"polite": True}
    assert a0.prompt_version_id == judged.version_a
    assert a0.case_vars == {"question": QUESTIONS[0]}
    b0 = by_id[judged.b[0]]  # an Anthropic body: system is a top-level field
    assert b0.system == "You are warm and brief." and b0.user == QUESTIONS[0] and b0.shots == []
    g = by_id[judged.gemini]  # a Gemini body: systemInstruction and contents
    assert g.system == "You are precise." and g.user == QUESTIONS[0] and g.tags == ("good",)
    bare = by_id[judged.rebuilt]  # no body was logged: rebuilt from the prompt version
    assert bare.source == "rebuilt" and bare.user == QUESTIONS[5]
    # Calls made with one prompt share one copy of it.
    assert by_id[judged.a[0]].context is by_id[judged.a[5]].context


def test_a_call_that_cannot_be_read_or_rebuilt_is_reported_not_dropped(fresh):
    from lab.core.model import Call

    with fresh.open() as store:
        [lost] = store.insert_calls([Call(provider="x", model="m", request={"odd": 1},
                                          status="ok", response_text="hi")])
        skipped = []
        assert lost not in [c.call_id for c in select_calls(store, Selection(), skipped)]
        assert [s.call_id for s in skipped] == [lost]
        assert "no readable conversation" in skipped[0].reason


def test_a_saved_dataset_is_evaluated_again_on_every_read(fresh):
    with fresh.open() as store:
        dataset_id = save_dataset(store, Dataset("good ones", {"min_score": 4}))
        saved = load_dataset(store, "good ones")
        before = select_calls(store, Selection.from_dict(saved.selection))
        store.set_rating(Rating(fresh.b[3], score=4))  # judged after the dataset was saved
        after = select_calls(store, Selection.from_dict(load_dataset(store, dataset_id).selection))
        assert len(after) == len(before) + 1 and fresh.b[3] in [c.call_id for c in after]


def test_datasets_round_trip_with_hand_picks(fresh):
    with fresh.open() as store:
        selection = Selection(variants=["A"], include_calls=[fresh.b[0]],
                              exclude_calls=[fresh.a[1]])
        dataset = Dataset("mixed", selection.to_dict(), description="for the card")
        dataset_id = save_dataset(store, dataset)
        loaded = load_dataset(store, "mixed")
        assert Selection.from_dict(loaded.selection) == selection
        assert loaded.description == "for the card" and loaded.id == dataset_id
        set_pick(store, dataset_id, fresh.b[1], True)
        set_pick(store, dataset_id, fresh.b[0], None)
        assert load_dataset(store, dataset_id).selection["include_calls"] == [fresh.b[1]]
        save_dataset(store, Dataset("mixed", {"variants": ["B"]}))  # same name: an update
        assert [d.name for d in list_datasets(store)] == ["mixed"]
        assert load_dataset(store, "mixed").selection == {"variants": ["B"]}
        delete_dataset(store, "mixed")
        with pytest.raises(WorkspaceError, match="No dataset 'mixed'"):
            load_dataset(store, "mixed")


def test_selection_json_names_a_bad_rule():
    with pytest.raises(SelectionError, match="Unknown selection rule.*min_scor"):
        Selection.from_dict({"min_scor": 4})
    with pytest.raises(SelectionError, match="between 1 and 5"):
        Selection.from_dict({"min_score": 9})
    assert Selection.from_dict({"tags": "good"}).tags == ["good"]
    assert "score >= 4" in Selection(min_score=4, include_calls=[1]).describe()
