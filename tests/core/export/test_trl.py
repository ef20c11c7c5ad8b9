"""The TRL exports as TRL itself reads them: `datasets` loads the files, `trl.data_utils`
recognises them as conversational and applies a chat template (a local one: no Hub download),
exactly as SFTTrainer and DPOTrainer prepare data; ShareGPT converts with TRL's own helper."""

from __future__ import annotations

import pytest
from lab.core.export.plan import ExportOptions, plan_export
from lab.core.export.prompt_handling import PromptHandling
from lab.core.export.selection import Selection
from lab.core.export.write import write_export

from tests.helpers.hf_readers import (
    datasets_module,
    local_chat_tokenizer,
    trl_data_utils,
)
from tests.helpers.judged_workspace import EXAMPLES, LONG_SYSTEM, QUESTIONS, answer


@pytest.fixture(scope="module")
def tokenizer():
    return local_chat_tokenizer()


def export(judged, tmp_path, name, **options):
    with judged.open() as store:
        plan = plan_export(store, Selection(), name, ExportOptions(train_fraction=1.0, **options))
    return write_export(plan, tmp_path / name).files["train.jsonl"]


def load(path, tmp_path):
    datasets = datasets_module()
    return datasets.load_dataset("json", data_files=str(path), split="train",
                                 cache_dir=str(tmp_path / "cache"))


def test_prompt_completion_through_trl(judged, tmp_path, tokenizer):
    data_utils = trl_data_utils()
    dataset = load(export(judged, tmp_path, "trl-sft"), tmp_path)
    assert set(dataset.column_names) == {"prompt", "completion"}
    assert all(data_utils.is_conversational(row) for row in dataset)
    templated = dataset.map(data_utils.maybe_apply_chat_template,
                            fn_kwargs={"processing_class": tokenizer})
    assert set(templated.column_names) == {"prompt", "completion"}
    for row in templated:
        # The prompt ends where the model starts answering; the completion is the answer alone.
        assert row["prompt"].endswith("<|im_start|>assistant\n")
        assert row["completion"].endswith("<|im_end|>\n")
    a0 = next(r for r in templated if r["completion"] == answer("A", 0) + "<|im_end|>\n")
    assert a0["prompt"].startswith(f"<|im_start|>system\n{LONG_SYSTEM}<|im_end|>\n")
    # Few-shot turns sit in the prompt, which SFTTrainer does not train on.
    assert f"<|im_start|>assistant\n{EXAMPLES[0].output}<|im_end|>" in a0["prompt"]
    assert QUESTIONS[0] in a0["prompt"]


def test_preference_through_trl(judged, tmp_path, tokenizer):
    data_utils = trl_data_utils()
    dataset = load(export(judged, tmp_path, "trl-dpo"), tmp_path)
    assert set(dataset.column_names) == {"prompt", "chosen", "rejected"}
    assert all(data_utils.is_conversational(row) for row in dataset)
    templated = dataset.map(data_utils.maybe_apply_chat_template,
                            fn_kwargs={"processing_class": tokenizer})
    row = next(r for r in templated if QUESTIONS[0] in r["prompt"])
    assert row["chosen"] == answer("A", 0) + "<|im_end|>\n"
    assert row["rejected"] == answer("B", 0) + "<|im_end|>\n"
    # KTO-style unpaired data from the same file, with TRL's own converter.
    unpaired = data_utils.maybe_unpair_preference_dataset(dataset)
    assert len(unpaired) == 2 * len(dataset)


def test_dropped_prompt_leaves_only_the_input(judged, tmp_path, tokenizer):
    data_utils = trl_data_utils()
    dataset = load(export(judged, tmp_path, "trl-sft",
                          prompt=PromptHandling(system="drop", examples="drop")), tmp_path)
    for row in dataset:
        assert [m["role"] for m in row["prompt"]] == ["user"]
        templated = data_utils.maybe_apply_chat_template(row, tokenizer)
        assert templated["prompt"].startswith("<|im_start|>user\n")


def test_sharegpt_converts_with_trls_helper(judged, tmp_path):
    data_utils = trl_data_utils()
    dataset = load(export(judged, tmp_path, "sharegpt"), tmp_path)
    row = dataset[0]
    assert data_utils.is_conversational_from_value(row)
    converted = data_utils.maybe_convert_to_chatml(row)
    # TRL renames the keys but keeps ShareGPT's role names (human/gpt), as the reference notes.
    assert [m["role"] for m in converted["messages"]] == ["human", "gpt"]
