"""Deduplication, the grouped seeded split, and token statistics, on data with known answers."""

from __future__ import annotations

from lab.core.export.prompt_handling import TrainingExample
from lab.core.export.quality import deduplicate, split, token_stats


def example(call_id: int, user: str, chosen: str = "ok", system: str = "S") -> TrainingExample:
    return TrainingExample(call_id=call_id, system=system, shots=(), user=user, chosen=chosen)


def test_exact_and_whitespace_dedup():
    examples = [example(1, "Where is it?", "Tomorrow."),
                example(2, "Where is it?", "Tomorrow."),  # exact repeat of 1
                example(3, "Where  is\nit? ", " Tomorrow."),  # 1 with other whitespace
                example(4, "where is it?", "Tomorrow."),  # case differs: not a duplicate
                example(5, "Where is it?", "Tomorrow.", system="T")]  # another system prompt
    kept, removed = deduplicate(examples, "exact")
    assert [e.call_id for e in kept] == [1, 3, 4, 5] and removed == {2: 1}
    kept, removed = deduplicate(examples, "whitespace")
    assert [e.call_id for e in kept] == [1, 4, 5] and removed == {2: 1, 3: 1}
    assert deduplicate(examples, "none")[1] == {}


def test_dedup_keeps_field_boundaries():
    assert len(deduplicate([example(1, "ab", "c"), example(2, "a", "bc")], "exact")[0]) == 2


def test_split_is_grouped_by_input_seeded_and_near_the_asked_share():
    # 30 inputs; inputs divisible by 3 appear three times (repeated samples).
    examples = [example(i * 10 + k, f"input {i}")
                for i in range(30) for k in range(3 if i % 3 == 0 else 1)]
    split(examples, 0.8, seed=7)
    sides: dict[str, set[str]] = {}
    for e in examples:
        sides.setdefault(e.user, set()).add(e.split)
    assert all(len(s) == 1 for s in sides.values())  # one input never in both
    validation = [e for e in examples if e.split == "validation"]
    assert len(validation) == round(len(examples) * 0.2)
    again = [example(e.call_id, e.user) for e in examples]
    split(again, 0.8, seed=7)
    assert [e.split for e in again] == [e.split for e in examples]
    split(again, 0.8, seed=8)
    assert [e.split for e in again] != [e.split for e in examples]


def test_split_of_one_means_no_validation_and_a_big_group_is_not_forced_in():
    examples = [example(i, f"input {i}") for i in range(5)]
    split(examples, 1.0, seed=0)
    assert {e.split for e in examples} == {"train"}
    tiny = [example(1, "only input")]
    split(tiny, 0.1, seed=0)
    assert tiny[0].split == "train"  # never everything in validation
    lopsided = [example(i, "same input") for i in range(9)] + [example(9, "other")]
    split(lopsided, 0.9, seed=0)
    assert [e.call_id for e in lopsided if e.split == "validation"] == [9]


def test_token_stats():
    stats = token_stats([10, 20, 30, 40, 100])
    assert stats == {"count": 5, "min": 10, "mean": 40.0, "median": 30, "p90": 100,
                     "max": 100, "total": 200}
    assert token_stats([])["count"] == 0
