"""Preference pairs: blind pairwise judgements become chosen/rejected, ties and contradictions
are left out with a reason, and ratings can add pairs for the same input and prompt."""

from __future__ import annotations

from lab.core.export.datasets import preference_pairs
from lab.core.export.selection import Selection
from lab.core.model import PairwiseJudgement, Rating


def as_ids(pairs):
    return [(p.chosen.call_id, p.rejected.call_id) for p in pairs]


def test_winner_is_chosen_loser_rejected_ties_skipped(store, judged):
    skipped = []
    pairs = preference_pairs(store, Selection(), skipped=skipped)
    expected = [(judged.a[i], judged.b[i]) for i in range(8)] + [
        (judged.b[i], judged.a[i]) for i in (8, 9)]
    assert sorted(as_ids(pairs)) == sorted(expected)
    assert all(p.basis == "pairwise" and not p.same_prompt for p in pairs)
    # Question 11 was judged both ways once: contradictory, so left out with a reason.
    assert [s.call_id for s in skipped] == [min(judged.a[11], judged.b[11])]
    assert "equally often" in skipped[0].reason


def test_only_pairs_whose_winner_is_selected(store, judged):
    # B's winning outputs (questions 8, 9) are not in a selection of A's outputs.
    pairs = preference_pairs(store, Selection(variants=["A"]))
    assert sorted(as_ids(pairs)) == [(judged.a[i], judged.b[i]) for i in range(8)]
    # A hand exclusion removes the pair from either side.
    pairs = preference_pairs(store, Selection(exclude_calls=[judged.b[0]]))
    assert (judged.a[0], judged.b[0]) not in as_ids(pairs)


def test_majority_of_repeated_judgements_decides(fresh):
    with fresh.open() as store:
        store.record_pairwise(PairwiseJudgement(fresh.a[11], fresh.b[11], "left"))
        pairs = preference_pairs(store, Selection(variants=["A"]))
        assert (fresh.a[11], fresh.b[11]) in as_ids(pairs)


def test_pairs_from_ratings_for_the_same_input_and_prompt(fresh):
    with fresh.open() as store:
        store.set_rating(Rating(fresh.a_repeat[2], score=3))  # A's other sample for question 2
        assert (fresh.a[2], fresh.a_repeat[2]) not in as_ids(preference_pairs(store, Selection()))
        skipped = []
        pairs = preference_pairs(store, Selection(variants=["A"]), from_ratings=True,
                                 skipped=skipped)
        by_ratings = [p for p in pairs if p.basis == "ratings"]
        assert as_ids(by_ratings) == [(fresh.a[2], fresh.a_repeat[2])]
        assert by_ratings[0].same_prompt
        # Same rating, or identical text, makes no pair.
        store.set_rating(Rating(fresh.a_repeat[0], score=1))  # identical to A's question-0 output
        skipped = []
        pairs = preference_pairs(store, Selection(variants=["A"]), from_ratings=True,
                                 skipped=skipped)
        assert (fresh.a[0], fresh.a_repeat[0]) not in as_ids(pairs)
        assert any("identical" in s.reason for s in skipped)


def test_outputs_for_different_inputs_never_pair(fresh):
    with fresh.open() as store:
        store.record_pairwise(PairwiseJudgement(fresh.a[3], fresh.b[4], "left"))
        skipped = []
        pairs = preference_pairs(store, Selection(variants=["A"]), skipped=skipped)
        assert (fresh.a[3], fresh.b[4]) not in as_ids(pairs)
        assert any("different input" in s.reason for s in skipped)
