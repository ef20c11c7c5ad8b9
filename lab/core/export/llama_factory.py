"""LLaMA-Factory's `dataset_info.json`: the registry entry that tells it how to read our files.

LLaMA-Factory reads a dataset only once it is registered in `data/dataset_info.json` with its
file name, its formatting (`alpaca` or `sharegpt`), `ranking: true` for preference data, and the
names of its columns (and, for ShareGPT, the role tags). The exporter writes the entries for the
files it made, one per split, so the user merges them into their own `dataset_info.json` (or
points `dataset_dir` at the export folder) and names them in the training config.
"""

from __future__ import annotations

import json
import re
from typing import Any

SHAREGPT_TAGS = {"role_tag": "from", "content_tag": "value", "user_tag": "human",
                 "assistant_tag": "gpt", "system_tag": "system"}


def entry_name(dataset: str, split: str) -> str:
    """A registry key from the dataset's name: lower-case letters, digits and underscores."""
    base = re.sub(r"[^a-z0-9]+", "_", dataset.lower()).strip("_") or "lab"
    return f"{base}_{split}"


def dataset_info(files: dict[str, str], dataset: str, formatting: str, preference: bool,
                 columns: dict[str, str]) -> str:
    """The JSON text of a `dataset_info.json` with one entry per written split."""
    info: dict[str, Any] = {}
    for split, file_name in files.items():
        entry: dict[str, Any] = {"file_name": file_name, "formatting": formatting}
        if preference:
            entry["ranking"] = True
        entry["columns"] = dict(columns)
        if formatting == "sharegpt":
            entry["tags"] = dict(SHAREGPT_TAGS)
        info[entry_name(dataset, split)] = entry
    return json.dumps(info, indent=2, ensure_ascii=False) + "\n"
