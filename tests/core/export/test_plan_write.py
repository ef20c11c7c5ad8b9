"""The export entry points the CLI and GUI call: plan (preview, report) then write (streamed,
atomic, with progress, cancel and a dataset card), and the typed failures they turn into a
clear message and a non-zero exit."""

from __future__ import annotations

import json
import threading

import pytest
from lab.core.export import (
    EmptySelection,
    ExportCancelled,
    ExportError,
    ExportOptions,
    PromptHandling,
    Selection,
    UnknownFormat,
    UnsupportedData,
    ValidationFailed,
    plan_export,
    write_export,
)
from lab.core.export.datasets import save_dataset
from lab.core.export.target import LineEncoder, dumps
from lab.core.export.validation import KEPT_PER_RULE, Problem, Report
from lab.core.model import Call, Dataset

from tests.helpers.judged_workspace import LONG_SYSTEM


def test_preview_is_exactly_what_is_written(store, tmp_path):
    plan = plan_export(store, Selection(), "openai-sft", ExportOptions(preview=3))
    result = write_export(plan, tmp_path)
    written = result.files["train.jsonl"].read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in written[:3]] == plan.preview
    assert len(written) == result.counts["train"]
    assert result.summary["examples"] == len(plan.examples)


def test_an_empty_output_is_an_error_located_by_file_and_line(fresh, tmp_path):
    with fresh.open() as store:
        empty = Call(provider="openai", model="gpt-4o-mini", status="ok", response_text="",
                     request={"messages": [{"role": "user", "content": "Anything?"}]})
        [empty_id] = store.insert_calls([empty])
        plan = plan_export(store, Selection(), "openai-sft", ExportOptions(train_fraction=1.0))
    [problem] = [p for p in plan.report.problems() if p.rule == "openai.missing_content"]
    assert problem.call_id == empty_id and problem.file == "train.jsonl"
    assert problem.line == [e.call_id for e in plan.examples].index(empty_id) + 1
    with pytest.raises(ValidationFailed, match=r"train.jsonl line \d+ \(output #\d+\)") as failed:
        write_export(plan, tmp_path / "out")
    assert failed.value.report is plan.report
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    plan.options.force = True
    assert write_export(plan, tmp_path / "out").files["train.jsonl"].exists()


def test_too_few_examples_for_the_target_is_an_error(store):
    plan = plan_export(store, Selection(variants=["G"]), "openai-sft")
    assert "openai-sft.too-few" in plan.report.rules() and plan.report.has_errors
    fireworks = plan_export(store, Selection(variants=["G"]), "fireworks")
    assert "fireworks.too-few" in fireworks.report.rules()  # Fireworks needs 3
    together = plan_export(store, Selection(variants=["G"]), "together")
    assert not together.report.has_errors and "together.few" in together.report.rules()


def test_typed_failures(store):
    with pytest.raises(EmptySelection, match="no successful outputs.*score >= 5; variant B"):
        plan_export(store, Selection(min_score=5, variants=["B"]), "openai-sft")
    with pytest.raises(EmptySelection, match="No preference pairs"):
        plan_export(store, Selection(variants=["G"]), "openai-dpo")
    with pytest.raises(UnsupportedData, match="bedrock-claude cannot hold preference data"):
        plan_export(store, Selection(), "bedrock-claude", ExportOptions(kind="preference"))
    with pytest.raises(UnknownFormat, match="Formats: openai-sft, openai-dpo"):
        plan_export(store, Selection(), "jsonl")
    assert issubclass(EmptySelection, ExportError) and issubclass(ValidationFailed, ExportError)


def test_token_limits_with_an_exact_tokenizer(store):
    ten_per_char = ExportOptions(count_tokens=lambda text: 10 * len(text))
    trl = plan_export(store, Selection(), "trl-sft", ten_per_char)
    over = [p for p in trl.report.problems() if p.rule == "trl-sft.token-limit"]
    assert over and all(p.severity == "warning" for p in over)  # TRL truncates: a warning
    assert not trl.token_summary()["estimated"]
    bedrock = plan_export(store, Selection(), "bedrock-claude",
                          ExportOptions(count_tokens=lambda text: 100 * len(text)))
    assert bedrock.report.has_errors and "bedrock-claude.token-limit" in bedrock.report.rules()
    dropped = plan_export(store, Selection(), "bedrock-claude", ExportOptions(
        count_tokens=lambda text: 100 * len(text) if text == LONG_SYSTEM else len(text),
        prompt=PromptHandling(system="drop", examples="drop")))
    assert "bedrock-claude.token-limit" not in dropped.report.rules()


def test_openai_limit_depends_on_the_model(store):
    options = ExportOptions(count_tokens=lambda text: 10 * len(text))
    assert "openai-sft.token-limit" not in plan_export(store, Selection(), "openai-sft",
                                                       options).report.rules()
    options.base_model = "gpt-3.5-turbo-0613"
    assert "openai-sft.token-limit" in plan_export(store, Selection(), "openai-sft",
                                                   options).report.rules()


def test_openai_dpo_warns_about_few_shot_turns(store):
    plan = plan_export(store, Selection(), "openai-dpo", ExportOptions(
        train_fraction=1.0, prompt=PromptHandling(examples="turns")))
    assert {"openai-dpo.one-turn", "prompt.examples-trained"} <= plan.report.rules()
    assert not plan.report.has_errors


def test_openai_training_estimate_follows_the_cookbook(store, tmp_path):
    plan = plan_export(store, Selection(), "openai-sft", ExportOptions(train_fraction=1.0))
    train = [e.tokens for e in plan.examples]
    epochs = min(25, 100 // len(train))  # fewer than 100/3 examples: more epochs
    sentence = (f"runs {epochs} epoch(s) by default and bills about "
                f"{sum(train) * epochs:,} tokens")
    assert sentence in plan.summary()["tokens"]["training"]
    assert sentence in write_export(plan, tmp_path).files["README.md"].read_text()
    assert plan.preview_lines()[0] == (tmp_path / "train.jsonl").read_text().splitlines()[0]
    assert plan_export(store, Selection(), "mistral").summary()["tokens"]["training"] is None


def test_progress_and_cancel_leave_the_folder_as_it_was(store, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "train.jsonl").write_text("an earlier export\n")
    plan = plan_export(store, Selection(), "sharegpt", ExportOptions(progress_every=5))
    cancel = threading.Event()
    seen = []

    def progress(done, total):
        seen.append((done, total))
        if done >= 10:
            cancel.set()

    with pytest.raises(ExportCancelled):
        write_export(plan, out, progress=progress, cancel=cancel)
    assert seen == [(5, len(plan.examples)), (10, len(plan.examples))]
    assert sorted(p.name for p in out.iterdir()) == ["train.jsonl"]  # no temp files left
    assert (out / "train.jsonl").read_text() == "an earlier export\n"
    seen.clear()
    result = write_export(plan, out, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (len(plan.examples), len(plan.examples))
    assert sorted(result.files) == ["README.md", "dataset_info.json", "train.jsonl",
                                    "validation.jsonl"]


def test_a_folder_that_cannot_be_written_is_a_clear_error(store, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    plan = plan_export(store, Selection(), "openai-sft")
    with pytest.raises(ExportError, match="Cannot write the export into"):
        write_export(plan, blocker / "out")


def test_a_split_that_leaves_no_validation_warns_and_stale_files_are_reported(store, tmp_path):
    (tmp_path / "validation.jsonl").write_text("old\n")
    plan = plan_export(store, Selection(variants=["G"]), "together")
    assert "split.no-validation" in plan.report.rules()
    result = write_export(plan, tmp_path)
    assert result.stale_files == [tmp_path / "validation.jsonl"]


def test_the_dataset_card(fresh, tmp_path):
    with fresh.open() as store:
        save_dataset(store, Dataset("Support tone", {"variants": ["A"], "min_score": 5},
                                    description="Replies our reviewers scored 5.",
                                    licence="CC-BY-4.0"))
        plan = plan_export(store, "Support tone", "sharegpt", ExportOptions(
            prompt=PromptHandling(system="drop", examples="drop")))
    result = write_export(plan, tmp_path)
    card = result.files["README.md"].read_text(encoding="utf-8")
    assert card.startswith("# Support tone\n\nReplies our reviewers scored 5.")
    assert "| Licence | CC-BY-4.0 |" in card
    assert "score >= 5; variant A" in card and '"min_score": 5' in card
    assert "- support: 11" in card and "openai/gpt-4o-mini: 11" in card
    assert f"- {fresh.version_a}: 11 example(s), “You are the support assistant" in card
    counts = result.counts
    assert f"Training: {counts['train']}; validation: {counts['validation']}" in card
    removed = plan.token_summary()["prompt_tokens_removed_per_example"]
    assert removed > 100 and f"removed {removed} prompt tokens per example" in card
    assert "| `train.jsonl` |" in card and "| `dataset_info.json` |" in card
    info = json.loads(result.files["dataset_info.json"].read_text())
    assert set(info) <= {"support_tone_train", "support_tone_validation"}


def test_report_keeps_a_few_locations_per_rule_but_counts_all():
    report = Report()
    for line in range(1, 1001):
        report.add(Problem("warning", "x.rule", "Too long.", "Shorten it.",
                           file="train.jsonl", line=line))
    assert report.warnings == 1000 and len(report.problems()) == KEPT_PER_RULE
    assert "(1000 times: train.jsonl line 1" in report.text()
    assert "and 990 more" in report.text()


def test_lines_are_written_exactly_as_dumps_writes_them():
    # The writer's encoder keeps the JSON of strings it has just written; lines must not differ
    # from dumps (json.dumps with the export's options) in any byte.
    shared = "Be brief.\n\t\"Quoted\" \\ back\u2028slash, naïve café 東京 \x00\x1f 😀 " * 40
    records = [
        {"messages": [{"role": "system", "content": shared},
                      {"role": "user", "content": f"question {i} ‘x’"},
                      {"role": "assistant", "content": f"answer {i}", "weight": i % 2}]}
        for i in range(600)  # more distinct strings than the cache keeps
    ] + [
        {"instruction": shared, "input": "", "output": "x", "history": [["a", "b"], ("c", "d")]},
        {"n": 1, "f": 1.5, "nan": float("nan"), "inf": float("-inf"), "t": True, "none": None,
         1: "int key", 2.5: "float key", None: "null key", "nested": {"list": [[], {}, [1, [2]]]}},
        "a top-level string", 42, [],
    ]
    encode = LineEncoder(strings=8)
    assert [encode(r) for r in records] == [dumps(r) for r in records]
    circular: list = []
    circular.append(circular)
    with pytest.raises(ValueError, match="Circular"):
        encode(circular)
    failed = {"fine": [1, 2], "not json": object()}
    with pytest.raises(TypeError):
        encode(failed)
    del failed["not json"]  # the same dict again: a failed line leaves no trace
    assert encode(failed) == dumps(failed)
    assert encode(records[0]) == dumps(records[0])
