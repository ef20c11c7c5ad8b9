"""The prompt in each training example: keep, drop, replace or fold, and the tokens it saves."""

from __future__ import annotations

import pytest
from lab.core.experiment.template import MESSAGE_OVERHEAD_TOKENS, estimate_tokens
from lab.core.export.datasets import select_calls
from lab.core.export.plan import ExportOptions, plan_export
from lab.core.export.prompt_handling import PromptHandling, Shaper
from lab.core.export.selection import Selection

from tests.helpers.judged_workspace import EXAMPLES, LONG_SYSTEM


def cost(text: str) -> int:
    return MESSAGE_OVERHEAD_TOKENS + estimate_tokens(text)


CONTEXT_TOKENS = cost(LONG_SYSTEM) + sum(cost(e.input) + cost(e.output) for e in EXAMPLES)


@pytest.fixture
def a0(store, judged):
    return next(c for c in select_calls(store, Selection(include_calls=[judged.a[0]],
                                                         hand_picked_only=True)))


def test_keep_everything_removes_nothing(a0):
    example = Shaper(PromptHandling(), target_masks_examples=True).shape(a0)
    assert example.system == LONG_SYSTEM
    assert example.shots == tuple((e.input, e.output) for e in EXAMPLES)
    assert example.removed_tokens == 0


def test_drop_everything_removes_the_whole_context(a0):
    example = Shaper(PromptHandling(system="drop", examples="drop"), True).shape(a0)
    assert (example.system, example.shots) == ("", ())
    assert example.removed_tokens == CONTEXT_TOKENS
    assert example.user == a0.user and example.chosen == a0.output


def test_replace_with_a_short_system_prompt(a0):
    short = "You are Acme's support assistant."
    example = Shaper(PromptHandling(system="replace", short_system=short, examples="drop"),
                     True).shape(a0)
    assert example.system == short
    assert example.removed_tokens == CONTEXT_TOKENS - cost(short)


def test_auto_folds_examples_where_the_target_cannot_mask_them(a0):
    folded = Shaper(PromptHandling(), target_masks_examples=False).shape(a0)
    assert folded.shots == ()
    assert folded.system.startswith(LONG_SYSTEM) and "Examples:" in folded.system
    assert all(e.input in folded.system and e.output in folded.system for e in EXAMPLES)
    kept = Shaper(PromptHandling(), target_masks_examples=True).shape(a0)
    assert kept.shots and kept.system == LONG_SYSTEM


def test_handling_is_checked_when_made():
    with pytest.raises(ValueError, match="no short system prompt"):
        PromptHandling(system="replace")
    with pytest.raises(ValueError, match="examples must be"):
        PromptHandling(examples="inline")


def test_the_plan_reports_the_saving_per_example(store, judged):
    selection = Selection(variants=["A"], hand_picked_only=False)
    keep = plan_export(store, selection, "openai-sft", ExportOptions(dedup="none"))
    drop = plan_export(store, selection, "openai-sft", ExportOptions(
        dedup="none", prompt=PromptHandling(system="drop", examples="drop")))
    assert keep.token_summary()["prompt_tokens_removed_per_example"] == 0
    assert drop.token_summary()["prompt_tokens_removed_per_example"] == CONTEXT_TOKENS
    assert drop.token_summary()["prompt_tokens_removed_total"] == CONTEXT_TOKENS * 15
    first = drop.preview[0]["messages"]
    assert [m["role"] for m in first] == ["user", "assistant"]


def test_keeping_turns_for_a_target_that_trains_on_them_is_a_warning(store):
    plan = plan_export(store, Selection(variants=["A"]), "bedrock-claude",
                       ExportOptions(prompt=PromptHandling(examples="turns")))
    assert "prompt.examples-trained" in plan.report.rules()
    folded = plan_export(store, Selection(variants=["A"]), "bedrock-claude")
    assert "prompt.examples-trained" not in folded.report.rules()
    assert len(folded.preview[0]["messages"]) == 2  # folded: just the input and the output
