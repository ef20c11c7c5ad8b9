"""Reading exports back with their consumers' own code, offline: Hugging Face `datasets` and
`trl.data_utils`, with a chat template tokenizer built on the spot (no Hub download).

`datasets` and `trl` are test dependencies. Where they are missing the tests that need them are
skipped with a reason that says what to install (never silently: pytest's -ra lists the reason).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

# Set before `datasets` or `huggingface_hub` is imported: they read these once, at import.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

INSTALL = ("install the export test dependencies: .venv/bin/pip install torch==2.13.0, then "
           "datasets and trl (see the export section of the test extra)")

# A ChatML-style template: enough to show where the prompt ends and the completion starts.
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def datasets_module() -> Any:
    return pytest.importorskip("datasets", reason=f"`datasets` is not installed; {INSTALL}")


def load_rows(path: Path, cache_dir: Path) -> list[dict[str, Any]]:
    """The file as `load_dataset("json", data_files=...)` reads it, as plain rows."""
    datasets = datasets_module()
    loaded = datasets.load_dataset("json", data_files=str(path), split="train",
                                   cache_dir=str(cache_dir))
    return [dict(row) for row in loaded]


def trl_data_utils() -> Any:
    pytest.importorskip("trl", reason=f"`trl` is not installed; {INSTALL}")
    import trl.data_utils

    return trl.data_utils


def local_chat_tokenizer() -> Any:
    """A real `PreTrainedTokenizerFast` with CHAT_TEMPLATE, from a tiny word-level vocabulary."""
    pytest.importorskip("transformers", reason=f"`transformers` is not installed; {INSTALL}")
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"[UNK]": 0, "<|im_start|>": 1, "<|im_end|>": 2}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]",
                                        bos_token="<|im_start|>", eos_token="<|im_end|>")
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer
