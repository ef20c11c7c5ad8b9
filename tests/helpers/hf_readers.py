"""Reading exports back with their consumers' own code, offline: Hugging Face `datasets` and
`trl.data_utils`, with a chat template tokenizer built on the spot (no Hub download).

`datasets` and `trl` are test dependencies that scripts/setup.sh installs. Where one is missing,
the tests that need it FAIL with what to install: a skipped consumer check would hide a broken
export.
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

INSTALL = "run ./scripts/test.sh, which installs the CPU build of torch and then the test extra"

# A ChatML-style template: enough to show where the prompt ends and the completion starts.
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _require(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        pytest.fail(f"`{module}` is not installed; {INSTALL}")


def datasets_module() -> Any:
    return _require("datasets")


def load_rows(path: Path, cache_dir: Path) -> list[dict[str, Any]]:
    """The file as `load_dataset("json", data_files=...)` reads it, as plain rows."""
    datasets = datasets_module()
    loaded = datasets.load_dataset("json", data_files=str(path), split="train",
                                   cache_dir=str(cache_dir))
    return [dict(row) for row in loaded]


def trl_data_utils() -> Any:
    _require("trl")
    import trl.data_utils

    return trl.data_utils


def local_chat_tokenizer() -> Any:
    """A real `PreTrainedTokenizerFast` with CHAT_TEMPLATE, from a tiny word-level vocabulary."""
    _require("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"[UNK]": 0, "<|im_start|>": 1, "<|im_end|>": 2}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]",
                                        bos_token="<|im_start|>", eos_token="<|im_end|>")
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer
