"""How one attempt ended, in the lab's terms: a `ChatResult`, or a typed, secret-free error.

The client calls these; they hold the rules that must be the same for every family: usage is
normalised and priced once, an unknown usage means an unknown cost (not zero), a failure after
some text had streamed carries that partial text (and is retried like any transient fault: a cut
stream is one; the caller is told to start the reply over), and every body kept for the log is
scrubbed of the key first.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import httpx

from lab.core.providers import errors, keys, usage
from lab.core.providers.base import ChatRequest, ChatResult, ProviderConfig, Reply
from lab.core.providers.errors import (
    BadResponse,
    ErrorDetails,
    GenerationFailed,
    NetworkError,
    ProviderError,
    ProviderTimeout,
    StreamCut,
)
from lab.core.providers.pricing import PriceTable


@dataclass
class Progress:
    """What one attempt has delivered so far."""

    started: float = field(default_factory=time.monotonic)
    parts: list[str] = field(default_factory=list)
    ttft: float | None = None
    streaming: bool = False  # a 200 stream had begun

    @property
    def text(self) -> str:
        return "".join(self.parts)


def build_result(
    config: ProviderConfig,
    prices: PriceTable,
    request: ChatRequest,
    reply: Reply,
    progress: Progress,
    body: dict[str, Any],
    request_id: str | None,
) -> ChatResult:
    latency = time.monotonic() - progress.started
    counts = usage.normalise(config.kind, reply.raw_usage)
    cost = None
    if counts.usage.known or config.is_local:  # no usage reported: unknown, not free
        for model in (request.model, reply.model):
            cost = prices.cost(config.kind, model, counts.usage, local=config.is_local)
            if cost is not None or not model:
                break
    return ChatResult(
        text=reply.text,
        finish_reason=reply.finish_reason,
        usage=counts.usage,
        raw_usage=reply.raw_usage,
        latency_ms=latency * 1000,
        ttft_ms=None if progress.ttft is None else progress.ttft * 1000,
        cost_usd=cost,
        tokens_per_second=tokens_per_second(counts.usage.output_tokens, reply, latency, progress.ttft),
        request_body=body,
        provider_request_id=request_id or reply.response_id,
        model=reply.model or request.model,
        provider=config.name,
        warning=reply.warning,
    )


def tokens_per_second(output_tokens: int | None, reply: Reply, latency: float,
                      ttft: float | None) -> float | None:
    if not output_tokens or output_tokens <= 0:
        return None
    if reply.generation_seconds:  # measured by the server itself (Ollama)
        return output_tokens / reply.generation_seconds
    seconds = latency - ttft if ttft is not None and latency > ttft else latency
    return output_tokens / seconds if seconds > 0 else None


def request_id_of(headers: Any) -> str | None:
    if not headers:
        return None
    return headers.get("x-request-id") or headers.get("request-id")


class Failures:
    """Builds the typed errors of one provider, scrubbing its key out of everything kept."""

    def __init__(self, config: ProviderConfig, family: Any) -> None:
        self.config = config
        self.family = family
        self.key: str | None = None

    @property
    def name(self) -> str:
        return self.config.name

    def from_response(self, status: int, headers: Any, raw: bytes, model: str) -> ProviderError:
        text = raw.decode("utf-8", "replace")
        try:
            details = self.family.error_details(json.loads(text))
        except ValueError:
            details = ErrorDetails(message=text[:300])
        return self.classified(status, details, text, model, None, headers)

    def classified(self, status: int, details: ErrorDetails, raw: str, model: str,
                   progress: Progress | None, headers: Any = None) -> ProviderError:
        details = replace(details, message=keys.redact(details.message, [self.key]))
        error = errors.error_from_status(
            self.name,
            status,
            details,
            headers=headers,
            raw_body=keys.redact(raw[:2000], [self.key]),
            model=model,
            key_hint=keys.key_hint(self.config),
            request_id=request_id_of(headers),
        )
        if progress is not None and progress.parts:
            error.partial_text = progress.text  # kept if the retries run out
        return error

    def cut(self, progress: Progress, why: str) -> StreamCut:
        return StreamCut(
            f"{self.name}: the reply stream ended early after {len(progress.text)} characters ({why}); "
            "the partial text is kept. Run the call again.",
            provider=self.name,
            partial_text=progress.text,
            retryable=True,  # a lost connection is transient: the retry policy decides
        )

    def generation_failed(self, what: str, progress: Progress) -> GenerationFailed:
        return GenerationFailed(f"{self.name}: {what}", provider=self.name, partial_text=progress.text,
                                retryable=False)

    def bad_response(self, what: str, raw: str) -> BadResponse:
        return BadResponse(
            f"{self.name}: {what}. The server (or a proxy in between) sent something unexpected.",
            provider=self.name,
            raw_body=keys.redact(raw[:2000], [self.key]),
        )

    def first_token_timeout(self) -> ProviderTimeout:
        return ProviderTimeout(
            f"{self.name}: no first token within {self.config.timeouts.first_token:g} s (first-token "
            "timeout). Raise the provider's first-token timeout or try again.",
            which="first_token",
            provider=self.name,
        )

    def total_timeout(self, progress: Progress, what: str = "the call") -> ProviderTimeout:
        return ProviderTimeout(
            f"{self.name}: {what} took longer than {self.config.timeouts.total:g} s (total timeout). "
            "Raise the provider's total timeout or ask for a shorter reply.",
            which="total",
            provider=self.name,
            partial_text=progress.text,
            retryable=False,  # it was working, just slowly: a retry would be as slow
        )

    def transport(self, exc: httpx.TransportError, progress: Progress) -> ProviderError:
        where = urlsplit(self.config.base_url)
        host = f"{where.hostname}:{where.port}" if where.port else str(where.hostname)
        if isinstance(exc, httpx.ConnectTimeout):
            return ProviderTimeout(
                f"{self.name}: could not connect to {host} within {self.config.timeouts.connect:g} s "
                "(connect timeout). Check the network and base_url.",
                which="connect",
                provider=self.name,
            )
        lost = isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError))
        if progress.parts or (progress.streaming and lost):
            return self.cut(progress, f"connection lost: {type(exc).__name__}")
        if isinstance(exc, httpx.ConnectError):
            reason = errors.one_line(keys.redact(str(exc) or type(exc).__name__, [self.key]), 120)
            return NetworkError(
                f"{self.name}: cannot reach {host} ({reason}). Check that the server is running and "
                "that base_url is right.",
                provider=self.name,
            )
        return NetworkError(
            f"{self.name}: the connection to {host} failed ({type(exc).__name__}). Try again.",
            provider=self.name,
        )
