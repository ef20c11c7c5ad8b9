"""What the rest of the lab hands to a provider and gets back: configuration, request, result.

`ProviderConfig` is what the user sets up once per provider (stored without any key).
`ChatRequest` is one call in the lab's own words; each family module turns it into its wire
format. `ChatResult` is what came back, already normalised (usage, finish reason, cost).
The typed errors live in `errors.py` and are re-exported here so callers need one import.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, fields
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from lab.core.model import REFUSAL, Message, Usage
from lab.core.providers.errors import (  # noqa: F401  (re-exported for callers)
    AuthError,
    BadRequest,
    BadResponse,
    Cancelled,
    ErrorDetails,
    GenerationFailed,
    ModelNotFound,
    NetworkError,
    ProviderDown,
    ProviderError,
    ProviderOverloaded,
    ProviderTimeout,
    QuotaExceeded,
    RateLimited,
    StreamCut,
    StreamErrorEvent,
)

Kind = Literal["openai", "anthropic", "gemini", "ollama"]
KINDS: tuple[str, ...] = ("openai", "anthropic", "gemini", "ollama")

DEFAULT_BASE_URLS: dict[str, str] = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com/v1beta",
    "ollama": "http://127.0.0.1:11434",
}


@dataclass
class Timeouts:
    """Seconds. `first_token` bounds the wait for the first streamed text (and any silence
    mid-stream); `total` bounds one attempt from sending to the last byte."""

    connect: float = 10.0
    # Local servers load the model on the first call, which can take a minute on a laptop.
    first_token: float = 90.0
    total: float = 600.0


DEFAULT_CONCURRENCY = 4  # calls in flight when neither the provider nor the run says

# REFUSAL (lab.core.model) is the finish reason of a reply in which the model declined: OpenAI's
# `refusal` field (content null), Anthropic's `refusal` stop reason. Family modules set it.


@dataclass
class ProviderConfig:
    """One provider the user configured. Never holds a key: keys live in the keyring or env."""

    name: str
    kind: str
    base_url: str = ""
    api_key_env: str | None = None
    # Calls in flight: None lets the run decide (`lab run --concurrency`, the window's setting);
    # a number pins it and caps whatever a run asks for.
    concurrency: int | None = None
    # How far the adaptive limit may grow while the provider keeps up; None: no higher than it starts.
    max_concurrency: int | None = None
    default_params: dict[str, Any] = field(default_factory=dict)
    timeouts: Timeouts = field(default_factory=Timeouts)
    max_retries: int = 4
    extra_headers: dict[str, str] = field(default_factory=dict)
    # None = decide from base_url (loopback means local: free, no key needed).
    local: bool | None = None
    # OpenAI family only: "max_tokens" or "max_completion_tokens"; None = by base_url.
    max_tokens_field: str | None = None
    # OpenAI family only: ask for token counts in streams (stream_options.include_usage). Some
    # compatible servers refuse the field with a 400; the client then learns to leave it out
    # (and their streamed calls have unknown usage).
    stream_usage: bool = True

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"provider {self.name!r}: kind must be one of {', '.join(KINDS)}, not {self.kind!r}"
            )
        if not self.base_url:
            self.base_url = DEFAULT_BASE_URLS[self.kind]
        self.base_url = self.base_url.rstrip("/")
        url = urlsplit(self.base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(
                f"provider {self.name!r}: base_url must be an http:// or https:// address such as "
                f"{DEFAULT_BASE_URLS[self.kind]}, not {self.base_url!r}"
            )
        for name in ("concurrency", "max_concurrency"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                      or value < 1):
                raise ValueError(f"provider {self.name!r}: {name} must be at least 1 (a whole "
                                 f"number), not {value!r}")
        if isinstance(self.timeouts, dict):
            self.timeouts = Timeouts(**self.timeouts)

    def limits(self, asked: int | None = None, ceiling: int | None = None) -> tuple[int, int]:
        """(start, ceiling) of the calls in flight for a run that asks for `asked` (and lets the
        limit grow to `ceiling`): what the user asked, unless this provider pins a lower number."""
        start = asked or self.concurrency or DEFAULT_CONCURRENCY
        top = max(start, self.max_concurrency or ceiling or start)
        if self.concurrency is not None:
            start, top = min(start, self.concurrency), min(top, self.concurrency)
        return start, top

    @property
    def is_local(self) -> bool:
        """A model running on this machine: costs nothing and needs no key."""
        if self.local is not None:
            return self.local
        return self.kind == "ollama" or is_loopback_url(self.base_url)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Timeouts):
                value = vars(value).copy()
            elif isinstance(value, dict):
                value = dict(value)  # the caller may edit what it stores
            data[f.name] = value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProviderConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"provider {data.get('name')!r}: unknown setting(s) {', '.join(unknown)}")
        if "name" not in data or "kind" not in data:
            raise ValueError("a provider needs at least 'name' and 'kind'")
        values = dict(data)
        if isinstance(values.get("timeouts"), dict):
            wrong = sorted(set(values["timeouts"]) - {f.name for f in fields(Timeouts)})
            if wrong:
                raise ValueError(f"provider {data['name']!r}: unknown timeout(s) {', '.join(wrong)}; "
                                 "use connect, first_token, total (seconds)")
            values["timeouts"] = Timeouts(**values["timeouts"])
        return cls(**values)


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


ResponseFormat = dict[str, Any]  # {"type": "json_object"} | {"type": "json_schema", "name", "schema"}


@dataclass
class ChatRequest:
    """One call as the lab means it. `model` has no provider prefix ("gpt-4o-mini")."""

    model: str
    messages: list[Message]
    params: dict[str, Any] = field(default_factory=dict)
    response_format: ResponseFormat | None = None
    stream: bool = True

    def system_text(self) -> str:
        return "\n\n".join(m.content for m in self.messages if m.role == "system" and m.content)

    def turns(self) -> list[tuple[str, str]]:
        """Non-system turns with adjacent same-role turns merged (APIs that need alternation)."""
        merged: list[tuple[str, str]] = []
        for m in self.messages:
            if m.role == "system":
                continue
            if merged and merged[-1][0] == m.role:
                merged[-1] = (m.role, merged[-1][1] + "\n\n" + m.content)
            else:
                merged.append((m.role, m.content))
        return merged


@dataclass
class ChatResult:
    """What came back from one successful call, normalised across providers."""

    text: str
    finish_reason: str | None
    usage: Usage
    raw_usage: dict[str, Any]
    latency_ms: float
    ttft_ms: float | None
    cost_usd: float | None
    tokens_per_second: float | None
    request_body: dict[str, Any]
    provider_request_id: str | None
    model: str
    provider: str = ""
    retries: int = 0  # attempts that failed before this one succeeded
    warning: str | None = None  # e.g. "Gemini blocked the prompt (SAFETY)"

    @property
    def refused(self) -> bool:
        """The model declined; `text` is what it said instead."""
        return self.finish_reason == REFUSAL


@dataclass
class Reply:
    """What a family module extracted from one response or one finished stream."""

    text: str = ""
    finish_reason: str | None = None
    raw_usage: dict[str, Any] = field(default_factory=dict)
    model: str = ""
    response_id: str | None = None
    complete: bool = True  # False: a stream ended before its end marker
    generation_seconds: float | None = None  # server-measured time spent generating (Ollama)
    warning: str | None = None
    # Set by a family when the reply ended in a way that leaves no usable output (Gemini's
    # MALFORMED_FUNCTION_CALL): the sentence saying what happened and what to do. The client
    # turns it into a GenerationFailed.
    failed: str | None = None


class StreamState(Protocol):
    """Per-stream parser a family module provides: fed one event, returns any new text."""

    def feed(self, data: str, event: str | None = None) -> str: ...

    def finish(self) -> Reply: ...


class Family(Protocol):
    """The functions each family module (openai_chat, anthropic, gemini, ollama) defines."""

    STREAM_FORMAT: Literal["sse", "ndjson"]
    # Fields the family adds to a body on its own, each with the ProviderConfig setting that
    # leaves it out: a server that refuses one (a 400 naming it) is asked again without it.
    OPTIONAL_FIELDS: dict[str, str]

    def chat_url(self, config: ProviderConfig, request: ChatRequest) -> str: ...

    def auth_headers(self, config: ProviderConfig, key: str | None) -> dict[str, str]: ...

    def build_body(self, config: ProviderConfig, request: ChatRequest) -> dict[str, Any]: ...

    def parse_reply(self, data: Any) -> Reply: ...

    def new_stream(self) -> StreamState: ...

    def error_details(self, data: Any) -> ErrorDetails: ...

    def models_url(self, config: ProviderConfig, page_token: str | None) -> str: ...

    def parse_models(self, data: Any) -> tuple[list[str], str | None]: ...
