"""What the four API families share: the call being answered, SSE and NDJSON framing, and
`Family`, the base each family module fills in (request checks, reply encoding, errors, models).

Replies are deterministic: "You said: <last user message>" (or a JSON object when JSON was asked
for), with token counts derived from the text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from tests.helpers.fake_provider.behaviours import Behaviour


@dataclass
class Call:
    """One chat call being answered."""

    family: str
    body: dict
    model: str
    stream: bool
    behaviour: Behaviour
    text: str = ""
    pieces: list[str] = field(default_factory=list)
    input_tokens: int = 0

    @property
    def output_tokens(self) -> int:
        return len(self.pieces)


# ----- framing -----------------------------------------------------------------------------

def sse(data: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    payload = data if isinstance(data, str) else json.dumps(data)
    return f"{head}data: {payload}\n\n".encode()


def ndjson(data: Any) -> bytes:
    return (json.dumps(data) + "\n").encode()


def sse_events(data: bytes) -> list[tuple[str | None, str]]:
    """(event name, data) of each event in a piece of an SSE stream; comments carry none."""
    events = []
    for block in data.decode().split("\n\n"):
        fields = [line.split(":", 1) for line in block.splitlines() if line and not line.startswith(":")]
        values = {name: value[1:] if value.startswith(" ") else value for name, value in fields}
        if "data" in values:
            events.append((values.get("event"), values["data"]))
    return events


# ----- shared request rules ----------------------------------------------------------------

def check_range(errors: list[str], body: dict, name: str, low: float, high: float) -> None:
    if name in body and not (isinstance(body[name], (int, float)) and low <= body[name] <= high):
        errors.append(f"{name} must be a number in [{low}, {high}]")


def unknown_fields(body: dict, known: set[str], say: str) -> list[str]:
    """`say` spells the complaint per API, with {} for the field's name."""
    return [say.format(k) for k in body if k not in known]


def bearer_key(headers: dict[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    return auth[7:] if auth.lower().startswith("bearer ") else None


def page(names: list[str], token: str | None, size: int) -> tuple[list[str], bool]:
    """One page of a model list that continues after `token`, and whether more follow."""
    start = names.index(token) + 1 if token in names else 0
    return names[start:start + size], start + size < len(names)


# ----- one API family ----------------------------------------------------------------------

class Family:
    """One API's rules and wire format. Subclasses fill in the parts that differ."""

    name: str
    content_type = "text/event-stream"
    finish: dict[str, str]  # the lab's "stop"/"length" as this API spells it
    request_id_header: str | None = None
    refusals = False  # whether this API has a shape for a model declining (see `refusal()`)

    # ----- requests -----
    def validate(self, body: dict, headers: dict[str, str], query: dict, stream: bool = False,
                 *, sdk_checks: bool = True) -> list[str]:
        """What a real server of this API would reject in this request, one line per problem."""
        return (self.sdk_errors(body) if sdk_checks else []) + self.rule_errors(body, headers, query, stream)

    def sdk_errors(self, body: dict) -> list[str]:
        """What the official SDK's request type rejects (none for families without an SDK)."""
        return []

    def rule_errors(self, body: dict, headers: dict[str, str], query: dict, stream: bool) -> list[str]:
        """What the API rejects that no type states (ranges, field combinations, headers); all
        of the rules, for a family without an SDK."""
        raise NotImplementedError

    def key_of(self, headers: dict[str, str], query: dict) -> str | None:
        return bearer_key(headers)

    def prompt_texts(self, body: dict) -> list[tuple[str, str]]:
        out = [("system", body["system"])] if isinstance(body.get("system"), str) else []
        return out + [(m.get("role", ""), m.get("content") if isinstance(m.get("content"), str) else "")
                      for m in body.get("messages", [])]

    def wants_json(self, body: dict) -> bool:
        raise NotImplementedError

    def make_call(self, body: dict, model: str, stream: bool, behaviour: Behaviour) -> Call:
        if behaviour.refusal and not self.refusals:
            raise ValueError(f"the fake's {self.name} API has no refusal shape")
        texts = self.prompt_texts(body)
        last_user = next((t for role, t in reversed(texts) if role == "user"), "")
        text = behaviour.text
        if text is None:
            text = json.dumps({"echo": last_user}) if self.wants_json(body) else f"You said: {last_user}"
        pieces = re.findall(r"\S+\s*|\s+", text) or [""]
        # About four characters per token, plus a little per message, like real tokenizers.
        prompt = sum(len(t) for _, t in texts)
        return Call(self.name, body, model, stream, behaviour, text, pieces, max(1, prompt // 4) + 3 * len(texts))

    # ----- replies: whole, or streamed as preamble + one piece per text chunk + ending -----
    def whole(self, c: Call) -> dict:
        raise NotImplementedError

    def preamble(self, c: Call) -> list[bytes]:
        return []

    def content(self, c: Call, i: int, piece: str) -> bytes:
        raise NotImplementedError

    def ending(self, c: Call) -> list[bytes]:
        return []

    def error_event(self, c: Call) -> bytes:
        """An error after the 200, mid-stream."""
        raise NotImplementedError

    def keep_alive(self) -> bytes | None:
        return b": OPENROUTER PROCESSING\n\n"

    def broken_chunk(self) -> bytes:
        return b"data: {not json\n\n"

    # ----- errors and model lists -----
    def error_body(self, status: int, message: str, type_: str | None = None,
                   code: str | None = None, param: str | None = None) -> dict:
        """An error in the API's own shape (reference: each API's "Errors" paragraph)."""
        raise NotImplementedError

    def with_details(self, error: dict, details: list[dict]) -> dict:
        """An error body with the API's structured details added (only Gemini has them)."""
        raise ValueError(f"the fake's {self.name} API has no structured error details")

    def auth_error(self, message: str) -> tuple[int, dict]:
        return 401, self.error_body(401, message, code="invalid_api_key")

    def models_page(self, names: list[str], query: dict, size: int) -> dict:
        raise NotImplementedError

    # ----- what the fake sends, read back by an independent reader -----
    def check_sent(self, kind: str, data: bytes) -> list[str]:
        """Problems an official client would have with `data`: kind is "reply", "stream" (one
        piece of a stream), "error" or "models". Families without an SDK in the test extra
        have no reader: nothing is checked."""
        return []
