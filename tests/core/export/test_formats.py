"""Every format, written from a real judged workspace, read back by Hugging Face `datasets`
(as trainers and uploaders load JSON data) and by the lab's validator of the target's rules,
with the shape each target documents."""

from __future__ import annotations

import csv
import json

import pytest
from lab.core.export.check_file import check_file
from lab.core.export.plan import ExportOptions, plan_export
from lab.core.export.prompt_handling import PromptHandling
from lab.core.export.selection import Selection
from lab.core.export.write import write_export

from tests.helpers.hf_readers import load_rows
from tests.helpers.judged_workspace import EXAMPLES, LONG_SYSTEM, QUESTIONS, answer

CASES = [("openai-sft", "sft"), ("openai-dpo", "preference"), ("trl-sft", "sft"),
         ("trl-dpo", "preference"), ("vertex-gemini", "sft"), ("bedrock-claude", "sft"),
         ("together", "sft"), ("together", "preference"), ("fireworks", "sft"),
         ("fireworks", "preference"), ("mistral", "sft"), ("sharegpt", "sft"),
         ("sharegpt", "preference"), ("alpaca", "sft"), ("alpaca", "preference"),
         ("csv", "sft"), ("csv", "preference")]


@pytest.fixture(scope="module")
def exports(judged, tmp_path_factory):
    """Each format written once: (format, kind) -> (plan, result)."""
    done = {}
    with judged.open() as store:
        for name, kind in CASES:
            # Preference data: all 10 pairs train (OpenAI needs 10); SFT: a real split.
            options = ExportOptions(kind=kind, train_fraction=1.0 if kind == "preference" else 0.75,
                                    seed=3)
            plan = plan_export(store, Selection(), name, options)
            out = tmp_path_factory.mktemp(f"{name}-{kind}")
            done[(name, kind)] = (plan, write_export(plan, out))
    return done


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def records(result, split="train"):
    path = next(p for n, p in result.files.items() if n.startswith(split + "."))
    if path.suffix == ".csv":
        with open(path, encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    return json.loads(path.read_text()) if path.suffix == ".json" else lines(path)


def without_nulls(value):
    """`datasets` fills keys absent from a line with None; the file itself has no nulls."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


@pytest.mark.parametrize("name,kind", CASES)
def test_written_files_pass_the_targets_rules(exports, name, kind):
    plan, result = exports[(name, kind)]
    assert not plan.report.has_errors, plan.report.text()
    assert set(result.counts) == {"train", "validation"}
    for file_name in plan.files.values():
        report = check_file(result.files[file_name], name, kind)
        assert report.errors == 0 and report.warnings == 0, report.text()


@pytest.mark.parametrize("name,kind", [c for c in CASES if c[0] != "csv"])
def test_hugging_face_datasets_reads_every_record(exports, name, kind, tmp_path):
    plan, result = exports[(name, kind)]
    for split_name, file_name in plan.files.items():
        rows = load_rows(result.files[file_name], tmp_path / "hf-cache")
        assert len(rows) == result.counts[split_name] > 0
        assert [without_nulls(r) for r in rows] == records(result, split_name)


def test_sft_split_is_grouped_by_input(exports):
    plan, result = exports[("openai-sft", "sft")]
    assert result.counts["validation"] > 0
    inputs = {split: {r["messages"][-2]["content"] for r in records(result, split)}
              for split in ("train", "validation")}
    assert not inputs["train"] & inputs["validation"]


def test_openai_sft_masks_few_shot_turns_with_weight_0(exports):
    rows = records(exports[("openai-sft", "sft")][1]) + records(exports[("openai-sft", "sft")][1],
                                                                "validation")
    with_shots = [r["messages"] for r in rows if r["messages"][0]["content"] == LONG_SYSTEM]
    assert with_shots
    for messages in with_shots:
        assert [m["role"] for m in messages] == ["system"] + ["user", "assistant"] * 3
        assert [m.get("weight") for m in messages if m["role"] == "assistant"] == [0, 0, 1]
        assert messages[2]["content"] == EXAMPLES[0].output
    plain = [r["messages"] for r in rows if r["messages"][0]["content"] != LONG_SYSTEM]
    assert plain and all("weight" not in m for ms in plain for m in ms)


def test_openai_dpo_pairs(exports):
    rows = records(exports[("openai-dpo", "preference")][1])
    assert len(rows) == 10
    first = next(r for r in rows if r["input"]["messages"][-1]["content"] == QUESTIONS[0])
    assert first["preferred_output"] == [{"role": "assistant", "content": answer("A", 0)}]
    assert first["non_preferred_output"] == [{"role": "assistant", "content": answer("B", 0)}]
    # OpenAI trains DPO on one-turn conversations: the few-shot examples are folded in.
    system, question = first["input"]["messages"]
    assert system["content"].startswith(LONG_SYSTEM) and "Examples:" in system["content"]
    assert question == {"role": "user", "content": QUESTIONS[0]}
    eight = next(r for r in rows if r["input"]["messages"][-1]["content"] == QUESTIONS[8])
    assert eight["preferred_output"][0]["content"] == answer("B", 8)


def test_vertex_and_bedrock_fold_the_examples_they_cannot_mask(exports):
    for name in ("vertex-gemini", "bedrock-claude"):
        rows = records(exports[(name, "sft")][1])
        long_ones = [r for r in rows if LONG_SYSTEM in json.dumps(r, ensure_ascii=False)]
        assert long_ones
        for r in long_ones:
            system = (r["systemInstruction"]["parts"][0]["text"] if name == "vertex-gemini"
                      else r["system"])
            assert system.startswith(LONG_SYSTEM) and EXAMPLES[1].output in system
            turns = r["contents"] if name == "vertex-gemini" else r["messages"]
            assert [t["role"] for t in turns] == (["user", "model"] if name == "vertex-gemini"
                                                  else ["user", "assistant"])


def test_chat_jsonl_targets(exports):
    together = records(exports[("together", "sft")][1])
    assert any(m.get("weight") == 0 for r in together for m in r["messages"])
    fireworks = records(exports[("fireworks", "sft")][1])
    assert all(set(m) == {"role", "content"} for r in fireworks for m in r["messages"])
    mistral = records(exports[("mistral", "sft")][1])
    assert all(r["messages"][-1]["role"] == "assistant" for r in mistral)
    preference = records(exports[("together", "preference")][1])
    assert all(set(r) == {"input", "preferred_output", "non_preferred_output"} for r in preference)


def test_sharegpt_and_its_dataset_info(exports):
    plan, result = exports[("sharegpt", "sft")]
    rows = records(result)
    assert all([t["from"] for t in r["conversations"]] == ["human", "gpt"] for r in rows)
    info = json.loads(result.files["dataset_info.json"].read_text())
    entry = info["lab_export_train"]
    assert entry["file_name"] == "train.jsonl" and entry["formatting"] == "sharegpt"
    assert entry["columns"] == {"messages": "conversations", "system": "system"}
    assert set(info) == {f"lab_export_{s}" for s in plan.files}
    pref_plan, pref = exports[("sharegpt", "preference")]
    row = records(pref)[0]
    assert row["conversations"][-1]["from"] == "human"
    assert row["chosen"]["from"] == "gpt" and row["rejected"]["from"] == "gpt"
    assert json.loads(pref.files["dataset_info.json"].read_text())["lab_export_train"]["ranking"]


def test_alpaca_is_a_json_array_with_the_prompt_as_instruction(exports):
    plan, result = exports[("alpaca", "sft")]
    text = result.files["train.json"].read_text()
    assert text.startswith("[\n") and text.endswith("\n]\n")
    rows = json.loads(text)
    assert len(text.splitlines()) == len(rows) + 2  # one record per line, as reports count
    a = next(r for r in rows if r["instruction"].startswith(LONG_SYSTEM))
    assert a["input"].startswith("Question") and "Examples:" in a["instruction"]
    info = json.loads(result.files["dataset_info.json"].read_text())["lab_export_train"]
    assert info["formatting"] == "alpaca" and info["columns"]["response"] == "output"
    # Examples folded into the instruction: no record has a history, so none is mapped
    # (LLaMA-Factory would look the missing column up).
    assert not any("history" in r for r in rows)
    assert info["columns"] == {"prompt": "instruction", "query": "input", "response": "output"}
    pref = records(exports[("alpaca", "preference")][1])
    assert all({"chosen", "rejected"} <= set(r) and "output" not in r for r in pref)


def test_csv_for_reading(exports):
    rows = records(exports[("csv", "sft")][1])
    a0 = next(r for r in rows if r["input"] == QUESTIONS[0] and r["variant"] == "A")
    assert a0["output"] == answer("A", 0) and a0["score"] == "5" and a0["experiment"] == "support"
    assert json.loads(a0["examples"]) == [[e.input, e.output] for e in EXAMPLES]
    pref = records(exports[("csv", "preference")][1])
    assert all(r["rejected"] and r["rejected_call_id"] for r in pref)


def test_llama_factory_maps_only_the_columns_written(judged, tmp_path):
    """dataset_info.json names a column only when the records have it: few-shot turns kept as
    turns become Alpaca's `history`; a dropped system prompt leaves ShareGPT without `system`."""
    with judged.open() as store:
        turns = plan_export(store, Selection(), "alpaca", ExportOptions(
            kind="sft", train_fraction=1.0, prompt=PromptHandling(examples="turns")))
        alpaca = write_export(turns, tmp_path / "alpaca")
        dropped = plan_export(store, Selection(), "sharegpt", ExportOptions(
            kind="sft", train_fraction=1.0, prompt=PromptHandling(system="drop", examples="drop")))
        sharegpt = write_export(dropped, tmp_path / "sharegpt")
    rows = records(alpaca)
    assert any(r.get("history") for r in rows)
    columns = json.loads(alpaca.files["dataset_info.json"].read_text())["lab_export_train"][
        "columns"]
    assert columns["history"] == "history"
    assert not any("system" in r for r in records(sharegpt))
    columns = json.loads(sharegpt.files["dataset_info.json"].read_text())["lab_export_train"][
        "columns"]
    assert columns == {"messages": "conversations"}
