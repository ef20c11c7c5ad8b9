"""One provider's connection: the shared machinery around the small family modules.

`ProviderClient` owns one httpx connection pool per provider and does, once for every family:
the key lookup, the adaptive concurrency limit, timeouts (connect, first token, total), retries,
streaming, latency and time-to-first-token, usage normalisation and cost. The family module only
builds the request and reads the reply.

Retries repeat the whole request, but only while nothing has reached the caller: once a stream has
delivered text, a failure is raised (StreamCut or the typed error) with the partial text, because
a silent retry would show the user a reply that changes under their eyes.

Cancelling the task that awaits `complete` closes the response (its connection is dropped, not
returned to the pool) and lets `asyncio.CancelledError` propagate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any, Awaitable, Callable
from urllib.parse import urlsplit

import httpx

from lab.core import keys
from lab.core.pricing import PriceTable
from lab.core.providers import errors, retry, usage
from lab.core.providers.base import DEFAULT_BASE_URLS, ChatRequest, ChatResult, ProviderConfig, Reply
from lab.core.providers.errors import (
    BadResponse,
    ErrorDetails,
    NetworkError,
    ProviderError,
    ProviderOverloaded,
    ProviderTimeout,
    RateLimited,
    StreamCut,
    StreamErrorEvent,
)
from lab.core.providers.limiter import AdaptiveLimiter
from lab.core.providers.registry import family_for
from lab.core.providers.streaming import ndjson_lines, sse_events

log = logging.getLogger(__name__)

KeyLookup = Callable[[ProviderConfig], "str | None"]
# Parsing errors a family module may raise on a malformed reply.
PARSE_ERRORS = (ValueError, KeyError, TypeError, AttributeError, IndexError)


@dataclass
class _Progress:
    """What one attempt has delivered so far."""

    started: float = field(default_factory=time.monotonic)
    parts: list[str] = field(default_factory=list)
    ttft: float | None = None
    streaming: bool = False  # a 200 stream had begun

    @property
    def text(self) -> str:
        return "".join(self.parts)


class ProviderClient:
    def __init__(
        self,
        config: ProviderConfig,
        *,
        key_lookup: KeyLookup | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        prices: PriceTable | None = None,
        retry_policy: retry.RetryPolicy | None = None,
        limiter: AdaptiveLimiter | None = None,
    ) -> None:
        self.config = config
        self.limiter = limiter or AdaptiveLimiter(config.concurrency)
        self.retry_policy = retry_policy or retry.RetryPolicy()
        self._family = family_for(config.kind)
        self._key_lookup = key_lookup or keys.get_key
        self._key: str | None = None
        self._key_loaded = False
        self._key_lock = asyncio.Lock()
        self._prices = prices
        t = config.timeouts
        self._http = httpx.AsyncClient(
            transport=transport,
            # Reads are bounded by the first-token/idle watchdog and the total deadline instead.
            timeout=httpx.Timeout(connect=t.connect, read=None, write=t.connect, pool=None),
            limits=httpx.Limits(
                max_connections=config.concurrency + 2, max_keepalive_connections=config.concurrency
            ),
            # Proxy settings from the environment must not divert calls to this machine.
            trust_env=not config.is_local,
        )

    def __repr__(self) -> str:
        c = self.config
        return f"ProviderClient(name={c.name!r}, kind={c.kind!r}, base_url={c.base_url!r})"

    async def __aenter__(self) -> ProviderClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ----- public calls -------------------------------------------------------------------

    async def complete(
        self, request: ChatRequest, on_delta: Callable[[str], None] | None = None
    ) -> ChatResult:
        """Run one chat call to the end (with retries) and return the normalised result."""
        if self.config.default_params:
            request = replace(request, params={**self.config.default_params, **request.params})
        headers = await self._headers()
        body = self._family.build_body(self.config, request)
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        url = self._family.chat_url(self.config, request)

        async def attempt() -> tuple[Reply, _Progress, str | None]:
            return await self._chat_attempt(url, headers, content, request, on_delta)

        (reply, progress, request_id), retries = await self._with_retries(attempt, use_limiter=True)
        result = self._result(request, reply, progress, json.loads(content), request_id)
        result.retries = retries
        return result

    async def list_models(self) -> list[str]:
        """Model names this provider offers (all pages), without the provider prefix."""
        headers = await self._headers()
        names: list[str] = []
        token: str | None = None
        for _ in range(100):  # a safety stop against a server that pages forever
            url = self._family.models_url(self.config, token)
            data, _ = await self._with_retries(lambda: self._get_json(url, headers), use_limiter=False)
            try:
                page, token = self._family.parse_models(data)
            except PARSE_ERRORS as exc:
                raise self._bad_response(f"model list has an unexpected shape ({type(exc).__name__})", "")
            names.extend(n for n in page if n not in names)
            if not token:
                break
        return names

    # ----- retries and limits -------------------------------------------------------------

    async def _with_retries(self, attempt: Callable[[], Awaitable[Any]], *, use_limiter: bool) -> tuple[Any, int]:
        tries = 0
        while True:
            try:
                if not use_limiter:
                    return await attempt(), tries
                async with self.limiter.slot() as slot:
                    try:
                        outcome = await attempt()
                    except (RateLimited, ProviderOverloaded):
                        slot.rate_limited()
                        raise
                    slot.succeeded()
                    return outcome, tries
            except ProviderError as error:
                delay = retry.delay_before_retry(error, tries, self.config.max_retries, self.retry_policy)
                if delay is None:
                    raise
                tries += 1
                log.info("%s; retry %d of %d in %.2f s", error.message, tries, self.config.max_retries, delay)
                await asyncio.sleep(delay)

    # ----- one attempt --------------------------------------------------------------------

    async def _chat_attempt(
        self,
        url: str,
        headers: dict[str, str],
        content: bytes,
        request: ChatRequest,
        on_delta: Callable[[str], None] | None,
    ) -> tuple[Reply, _Progress, str | None]:
        t = self.config.timeouts
        progress = _Progress()
        # Before any text: the first-token deadline. After it: an idle watchdog of the same length.
        watchdog = asyncio.timeout(t.first_token if request.stream else None)
        deadline = asyncio.timeout(t.total)
        try:
            async with deadline, watchdog:
                async with self._http.stream("POST", url, content=content, headers=headers) as response:
                    request_id = _request_id(response.headers)
                    if response.status_code >= 400:
                        raise self._status_error(response, await response.aread(), request.model)
                    if request.stream:
                        progress.streaming = True
                        reply = await self._read_stream(response, watchdog, progress, on_delta)
                    else:
                        reply = self._parse_whole(await response.aread())
                        progress.parts.append(reply.text)
                        if on_delta is not None and reply.text:
                            on_delta(reply.text)  # one delta: callers need not care how it came
                    return reply, progress, request_id
        except StreamErrorEvent as event:
            raise self._classified(event.status, event.details, event.raw, request.model, progress) from None
        except TimeoutError:
            if watchdog.expired() and not progress.parts:
                raise ProviderTimeout(
                    f"{self.config.name}: no first token within {t.first_token:g} s (first-token timeout). "
                    "Raise the provider's first-token timeout or try again.",
                    which="first_token",
                    provider=self.config.name,
                ) from None
            if watchdog.expired():
                raise self._cut(progress, f"no data for {t.first_token:g} s") from None
            if deadline.expired():
                raise ProviderTimeout(
                    f"{self.config.name}: the call took longer than {t.total:g} s (total timeout). "
                    "Raise the provider's total timeout or ask for a shorter reply.",
                    which="total",
                    provider=self.config.name,
                    partial_text=progress.text,
                    retryable=False,  # it was working, just slowly: a retry would be as slow
                ) from None
            raise
        except httpx.TransportError as exc:
            raise self._transport_error(exc, progress) from None

    async def _read_stream(
        self,
        response: httpx.Response,
        watchdog: asyncio.Timeout,
        progress: _Progress,
        on_delta: Callable[[str], None] | None,
    ) -> Reply:
        loop = asyncio.get_running_loop()
        idle = self.config.timeouts.first_token
        stream = self._family.new_stream()
        if self._family.STREAM_FORMAT == "sse":
            events: Any = sse_events(response.aiter_bytes())
        else:
            events = ndjson_lines(response.aiter_bytes())
        async with contextlib.aclosing(events):
            async for item in events:
                data, name = (item.data, item.event) if hasattr(item, "data") else (item, None)
                try:
                    text = stream.feed(data, name)
                except PARSE_ERRORS as exc:
                    raise self._bad_response(f"a stream event was not valid ({type(exc).__name__})", data)
                if text and progress.ttft is None:
                    progress.ttft = time.monotonic() - progress.started
                if text or progress.parts:
                    watchdog.reschedule(loop.time() + idle)
                if text:
                    progress.parts.append(text)
                    if on_delta is not None:
                        on_delta(text)
        reply = stream.finish()
        if not reply.complete:
            raise self._cut(progress, "the server closed the stream before its end marker")
        return reply

    async def _get_json(self, url: str, headers: dict[str, str]) -> Any:
        t = self.config.timeouts
        progress = _Progress()
        try:
            async with asyncio.timeout(t.total):
                response = await self._http.get(url, headers=headers)
        except TimeoutError:
            raise ProviderTimeout(
                f"{self.config.name}: listing models took longer than {t.total:g} s.",
                which="total",
                provider=self.config.name,
            ) from None
        except httpx.TransportError as exc:
            raise self._transport_error(exc, progress) from None
        if response.status_code >= 400:
            raise self._status_error(response, response.content, "")
        try:
            return json.loads(response.content)
        except ValueError:
            raise self._bad_response("the model list was not valid JSON", response.text) from None

    # ----- turning answers into results and errors ----------------------------------------

    def _parse_whole(self, raw: bytes) -> Reply:
        try:
            return self._family.parse_reply(json.loads(raw))
        except StreamErrorEvent:
            raise
        except PARSE_ERRORS as exc:
            text = raw.decode("utf-8", "replace")
            raise self._bad_response(f"the reply was not valid JSON ({type(exc).__name__})", text) from None

    def _result(
        self, request: ChatRequest, reply: Reply, progress: _Progress, body: dict[str, Any], request_id: str | None
    ) -> ChatResult:
        latency = time.monotonic() - progress.started
        counts = usage.normalise(self.config.kind, reply.raw_usage)
        cost = None
        if reply.raw_usage or self.config.is_local:  # no usage reported: unknown, not free
            prices = self._price_table()
            cost = prices.cost(self.config.kind, request.model, counts.usage,
                               cache_write_tokens=counts.cache_write_tokens, local=self.config.is_local)
            if cost is None and reply.model:
                cost = prices.cost(self.config.kind, reply.model, counts.usage,
                                   cache_write_tokens=counts.cache_write_tokens)
        return ChatResult(
            text=reply.text,
            finish_reason=reply.finish_reason,
            usage=counts.usage,
            raw_usage=reply.raw_usage,
            latency_ms=latency * 1000,
            ttft_ms=None if progress.ttft is None else progress.ttft * 1000,
            cost_usd=cost,
            tokens_per_second=_tokens_per_second(counts.usage.output_tokens, reply, latency, progress.ttft),
            request_body=body,
            provider_request_id=request_id or reply.response_id,
            model=reply.model or request.model,
            provider=self.config.name,
            warning=reply.warning,
        )

    def _price_table(self) -> PriceTable:
        if self._prices is None:
            self._prices = PriceTable.load()
        return self._prices

    def _status_error(self, response: httpx.Response, raw: bytes, model: str) -> ProviderError:
        text = raw.decode("utf-8", "replace")
        try:
            details = self._family.error_details(json.loads(text))
        except ValueError:
            details = ErrorDetails(message=text[:300])
        return self._classified(response.status_code, details, text, model, None, response.headers)

    def _classified(
        self,
        status: int,
        details: ErrorDetails,
        raw: str,
        model: str,
        progress: _Progress | None,
        headers: Any = None,
    ) -> ProviderError:
        secrets = [self._key]
        details = replace(details, message=keys.redact(details.message, secrets))
        error = errors.error_from_status(
            self.config.name,
            status,
            details,
            headers=headers,
            raw_body=keys.redact(raw[:2000], secrets),
            model=model,
            key_hint=keys.key_hint(self.config),
            request_id=_request_id(headers) if headers is not None else None,
        )
        if progress is not None and progress.parts:
            error.partial_text = progress.text
            error.retryable = False  # text already reached the user: no silent retry
        return error

    def _cut(self, progress: _Progress, why: str) -> StreamCut:
        got = len(progress.text)
        return StreamCut(
            f"{self.config.name}: the reply stream ended early after {got} characters ({why}); "
            "the partial text is kept. Run the call again.",
            provider=self.config.name,
            partial_text=progress.text,
            retryable=not progress.parts,  # nothing shown yet: safe to try again
        )

    def _bad_response(self, what: str, raw: str) -> BadResponse:
        return BadResponse(
            f"{self.config.name}: {what}. The server (or a proxy in between) sent something unexpected.",
            provider=self.config.name,
            raw_body=keys.redact(raw[:2000], [self._key]),
        )

    def _transport_error(self, exc: httpx.TransportError, progress: _Progress) -> ProviderError:
        where = urlsplit(self.config.base_url)
        host = f"{where.hostname}:{where.port}" if where.port else str(where.hostname)
        if isinstance(exc, httpx.ConnectTimeout):
            return ProviderTimeout(
                f"{self.config.name}: could not connect to {host} within "
                f"{self.config.timeouts.connect:g} s (connect timeout). Check the network and base_url.",
                which="connect",
                provider=self.config.name,
            )
        if progress.parts or (progress.streaming and isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError))):
            return self._cut(progress, f"connection lost: {type(exc).__name__}")
        if isinstance(exc, httpx.ConnectError):
            return NetworkError(
                f"{self.config.name}: cannot reach {host} ({_reason(exc)}). Check that the server is "
                "running and that base_url is right.",
                provider=self.config.name,
            )
        return NetworkError(
            f"{self.config.name}: the connection to {host} failed ({type(exc).__name__}). Try again.",
            provider=self.config.name,
        )

    # ----- keys ---------------------------------------------------------------------------

    async def _headers(self) -> dict[str, str]:
        async with self._key_lock:
            if not self._key_loaded:
                # Keyring lookups block (D-Bus); keep them off the event loop.
                self._key = await asyncio.to_thread(self._key_lookup, self.config)
                self._key_loaded = True
        if not self._key and self._key_required():
            raise errors.missing_key(self.config.name, keys.key_hint(self.config))
        headers = self._family.auth_headers(self.config, self._key)
        headers.update(self.config.extra_headers)
        return headers

    def _key_required(self) -> bool:
        # The vendors' own hosts always need a key; other servers may not, and say so with a 401.
        default = urlsplit(DEFAULT_BASE_URLS[self.config.kind]).hostname
        return not self.config.is_local and urlsplit(self.config.base_url).hostname == default


def _request_id(headers: Any) -> str | None:
    if not headers:
        return None
    return headers.get("x-request-id") or headers.get("request-id")


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return errors.one_line(text, 120)


def _tokens_per_second(output_tokens: int, reply: Reply, latency: float, ttft: float | None) -> float | None:
    if output_tokens <= 0:
        return None
    if reply.generation_seconds:  # measured by the server itself (Ollama)
        return output_tokens / reply.generation_seconds
    seconds = latency - ttft if ttft is not None and latency > ttft else latency
    return output_tokens / seconds if seconds > 0 else None
