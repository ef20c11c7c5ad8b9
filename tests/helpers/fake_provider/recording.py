"""What the fake remembers of each request, with the key headers redacted."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

KEY_HEADERS = {"authorization", "x-api-key", "x-goog-api-key"}


def redacted(headers: dict[str, str]) -> dict[str, str]:
    return {k: ("<redacted>" if k in KEY_HEADERS else v) for k, v in headers.items()}


@dataclass
class Recorded:
    family: str
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # key headers replaced by "<redacted>"
    body: Any
    key_present: bool
    validation_errors: list[str] = field(default_factory=list)
    received_at: float = field(default_factory=time.monotonic)  # when its body had been read
    answered_at: float | None = None  # when the answer's last byte went out (chat calls)
