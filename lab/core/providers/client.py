"""One provider's connection: the shared machinery around the small family modules.

`ProviderClient` owns one httpx connection pool per provider and does, once for every family:
the key lookup, the adaptive concurrency limit, timeouts (connect, first token, total), retries,
streaming, latency and time-to-first-token; `outcomes` turns what came back into a normalised,
priced result or a typed error. The family module only builds the request and reads the reply.

A server that refuses a field the lab adds on its own (`stream_options`, with a 400 naming it) is
asked again at once without it, and the client leaves it out from then on (`config` changes;
`on_learned` hears of it so the setting can be kept).

Retries repeat the whole request, but only while nothing has reached the caller: once a stream has
delivered text, a failure is raised (StreamCut or the typed error) with the partial text, because
a silent retry would show the user a reply that changes under their eyes.

A refused key or a billing stop (QuotaExceeded: no credit, a used-up daily quota) would refuse
every later call too: once one comes back, the client sends nothing more, and each later call
(those waiting for a slot or a retry included) fails at once with that error, marked not sent.

Cancelling the task that awaits `complete` closes the response (its connection is dropped, not
returned to the pool) and lets `asyncio.CancelledError` propagate. A client belongs to one event
loop; the runner makes one per provider.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import replace
from typing import Any, Awaitable, Callable, TypeVar

import httpx

from lab.core.providers import errors, keys, retry
from lab.core.providers.base import (
    DEFAULT_CONCURRENCY,
    ChatRequest,
    ChatResult,
    ProviderConfig,
    Reply,
)
from lab.core.providers.embeddings import (
    EmbeddingCall,
    Task,
    embeddings_request,
    parse_embeddings,
)
from lab.core.providers.errors import (
    BadRequest,
    ProviderError,
    ProviderOverloaded,
    RateLimited,
    StreamErrorEvent,
)
from lab.core.providers.limiter import AdaptiveLimiter
from lab.core.providers.outcomes import Failures, Progress, build_result, request_id_of
from lab.core.providers.pricing import PriceTable
from lab.core.providers.registry import family_for
from lab.core.providers.streaming import ndjson_lines, sse_events

log = logging.getLogger(__name__)

T = TypeVar("T")
KeyLookup = Callable[[ProviderConfig], "str | None"]
OnDelta = Callable[[str], None]
# Parsing errors a family module may raise on a malformed reply.
PARSE_ERRORS = (ValueError, KeyError, TypeError, AttributeError, IndexError)


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
        # The config's numbers as they stand (a run passes its own: see ProviderConfig.limits).
        self.limiter = limiter or AdaptiveLimiter(config.concurrency or DEFAULT_CONCURRENCY,
                                                  ceiling=config.max_concurrency)
        self.retry_policy = retry_policy or retry.RetryPolicy()
        self._family = family_for(config.kind)
        self._failures = Failures(config, self._family)
        self._key_lookup = key_lookup or keys.get_key
        self._key_loaded = False
        self._key_lock = asyncio.Lock()
        self._prices = prices
        # The error that made sending pointless (see the module's docstring), once there is one.
        self.stopped: ProviderError | None = None
        # Told of a setting the client learned about its server (a field it refuses, so
        # {"stream_usage": False}), for whoever keeps the provider's settings.
        self.on_learned: Callable[[dict[str, Any]], None] | None = None
        t = config.timeouts
        self._http = httpx.AsyncClient(
            transport=transport,
            # Reads are bounded by the first-token/idle watchdog and the total deadline instead.
            timeout=httpx.Timeout(connect=t.connect, read=None, write=t.connect, pool=None),
            limits=httpx.Limits(
                max_connections=self.limiter.max_limit + 2,
                max_keepalive_connections=self.limiter.max_limit,
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

    async def complete(self, request: ChatRequest, on_delta: OnDelta | None = None,
                       on_restart: Callable[[], None] | None = None) -> ChatResult:
        """Run one chat call to the end (with retries) and return the normalised result.

        `on_delta` gets each piece of text as it streams (a non-streamed reply: once, whole). When
        an attempt fails after some text had streamed (a cut stream, an error event) and is
        retried, `on_restart` is called first: what was shown belongs to a reply that will not be
        finished, and the retry streams its own from the start.
        """
        if self.config.default_params:
            request = replace(request, params={**self.config.default_params, **request.params})
        headers = await self._headers()
        body = self._family.build_body(self.config, request)
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        url = self._family.chat_url(self.config, request)

        shown = False
        refused = 0  # requests a server refused for a field the lab had added on its own

        def delta(text: str) -> None:
            nonlocal shown
            shown = True
            if on_delta is not None:
                on_delta(text)

        async def attempt() -> tuple[Reply, Progress, str | None]:
            nonlocal shown, body, content, refused
            if shown and on_restart is not None:
                on_restart()
            shown = False
            while True:
                try:
                    return await self._chat_attempt(url, headers, content, request, delta)
                except BadRequest as error:
                    if not self._leave_out_refused_field(error, body):
                        raise
                refused += 1  # asked again at once, without it (same slot: nothing was done)
                body = self._family.build_body(self.config, request)
                content = json.dumps(body, ensure_ascii=False).encode("utf-8")

        (reply, progress, request_id), retries = await self._with_retries(attempt, use_limiter=True)
        if self._prices is None:
            self._prices = PriceTable.load()
        result = build_result(self.config, self._prices, request, reply, progress, json.loads(content), request_id)
        result.retries = retries + refused
        return result

    async def embed(self, model: str, texts: list[str], task: Task = "document") -> EmbeddingCall:
        """Embed `texts` with `model` in one call (with retries), vectors in the texts' order."""
        url, body = embeddings_request(self.config, model, texts, task)
        headers = await self._headers()
        started = time.monotonic()

        async def attempt() -> Any:
            return await self._post_json(url, headers, body, "the embeddings")

        data, retries = await self._with_retries(attempt, use_limiter=True)
        try:
            embedded = parse_embeddings(self.config.kind, data, len(texts))
        except PARSE_ERRORS as exc:
            raise self._failures.bad_response(
                f"the embeddings reply has an unexpected shape ({exc})", json.dumps(data)[:500]) from None
        if self._prices is None:
            self._prices = PriceTable.load()
        cost = (None if embedded.usage is None else
                self._prices.cost(self.config.kind, model, embedded.usage, local=self.config.is_local))
        return EmbeddingCall(embedded.vectors, embedded.usage, embedded.raw_usage, cost,
                             (time.monotonic() - started) * 1000, body, retries)

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
                raise self._failures.bad_response(f"the model list has an unexpected shape ({type(exc).__name__})",
                                                  json.dumps(data)[:500]) from None
            names.extend(n for n in page if n not in names)
            if not token:
                break
        return names

    def _leave_out_refused_field(self, error: BadRequest, body: dict[str, Any]) -> bool:
        """Whether `error` refuses a field the family added on its own (OPTIONAL_FIELDS) that
        `body` has; if so the client leaves it out from now on and says so to `on_learned`."""
        said = f"{error.param or ''} {error.message}"
        for name, setting in self._family.OPTIONAL_FIELDS.items():
            if name in body and getattr(self.config, setting):
                nested = body[name] if isinstance(body[name], dict) else {}
                if name in said or any(key in said for key in nested):
                    log.info("%s refused %s; leaving it out from now on", self.config.name, name)
                    self.config = replace(self.config, **{setting: False})
                    if self.on_learned is not None:
                        self.on_learned({setting: False})
                    return True
        return False

    # ----- retries and limits -------------------------------------------------------------

    async def _with_retries(self, attempt: Callable[[], Awaitable[T]], *, use_limiter: bool) -> tuple[T, int]:
        tries = 0
        while True:
            try:
                if not use_limiter:
                    return await attempt(), tries
                async with self.limiter.slot() as slot:
                    if self.stopped is not None:  # it came while this call waited: do not send
                        raise self.stopped.not_sent()
                    began = time.monotonic()
                    try:
                        outcome = await attempt()
                    except (RateLimited, ProviderOverloaded):
                        slot.rate_limited()  # the provider asks us to slow down
                        raise
                    slot.succeeded(time.monotonic() - began)
                    return outcome, tries
            except ProviderError as error:
                if error.stops_provider and error.sent and self.stopped is None:
                    self.stopped = error
                delay = retry.delay_before_retry(error, tries, self.config.max_retries, self.retry_policy)
                if delay is None:
                    raise
                tries += 1
                log.info("%s; retry %d of %d in %.2f s", error.message, tries, self.config.max_retries, delay)
                await asyncio.sleep(delay)

    # ----- one attempt --------------------------------------------------------------------

    async def _chat_attempt(
        self, url: str, headers: dict[str, str], content: bytes, request: ChatRequest, on_delta: OnDelta | None
    ) -> tuple[Reply, Progress, str | None]:
        t = self.config.timeouts
        progress = Progress()
        # Before any text: the first-token deadline. After it: an idle watchdog of the same length.
        watchdog = asyncio.timeout(t.first_token if request.stream else None)
        deadline = asyncio.timeout(t.total)
        try:
            async with deadline, watchdog:
                async with self._http.stream("POST", url, content=content, headers=headers) as response:
                    request_id = request_id_of(response.headers)
                    if response.status_code >= 400:
                        raw = await response.aread()
                        raise self._failures.from_response(response.status_code, response.headers, raw,
                                                           request.model)
                    # Some compatible servers ignore "stream": true and answer with one JSON body.
                    whole = response.headers.get("content-type", "").startswith("application/json")
                    if request.stream and not whole:
                        progress.streaming = True
                        reply = await self._read_stream(response, watchdog, progress, on_delta)
                    else:
                        reply = self._parse_whole(await response.aread())
                        progress.parts.append(reply.text)
                        if on_delta is not None and reply.text:
                            on_delta(reply.text)
                    if reply.failed:
                        raise self._failures.generation_failed(reply.failed, progress)
                    return reply, progress, request_id
        except StreamErrorEvent as event:
            raise self._failures.classified(event.status, event.details, event.raw, request.model, progress) from None
        except TimeoutError:
            if watchdog.expired() and not progress.parts:
                raise self._failures.first_token_timeout() from None
            if watchdog.expired():
                raise self._failures.cut(progress, f"no data for {t.first_token:g} s") from None
            if deadline.expired():
                raise self._failures.total_timeout(progress) from None
            raise
        except httpx.TransportError as exc:
            raise self._failures.transport(exc, progress) from None

    async def _read_stream(
        self, response: httpx.Response, watchdog: asyncio.Timeout, progress: Progress, on_delta: OnDelta | None
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
                data, name = (item, None) if isinstance(item, str) else (item.data, item.event)
                try:
                    text = stream.feed(data, name)
                except PARSE_ERRORS as exc:
                    raise self._failures.bad_response(
                        f"a stream event was not valid JSON ({type(exc).__name__})", data) from None
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
            raise self._failures.cut(progress, "the server closed the stream before its end marker")
        return reply

    async def _get_json(self, url: str, headers: dict[str, str]) -> Any:
        progress = Progress()
        try:
            async with asyncio.timeout(self.config.timeouts.total):
                response = await self._http.get(url, headers=headers)
        except TimeoutError:
            raise self._failures.total_timeout(progress, "listing models") from None
        except httpx.TransportError as exc:
            raise self._failures.transport(exc, progress) from None
        if response.status_code >= 400:
            raise self._failures.from_response(response.status_code, response.headers, response.content, "")
        try:
            return json.loads(response.content)
        except ValueError:
            raise self._failures.bad_response("the model list was not valid JSON", response.text) from None

    async def _post_json(self, url: str, headers: dict[str, str], body: dict[str, Any],
                         what: str) -> Any:
        progress = Progress()
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        try:
            async with asyncio.timeout(self.config.timeouts.total):
                response = await self._http.post(url, content=content, headers=headers)
        except TimeoutError:
            raise self._failures.total_timeout(progress, f"asking for {what}") from None
        except httpx.TransportError as exc:
            raise self._failures.transport(exc, progress) from None
        if response.status_code >= 400:
            raise self._failures.from_response(response.status_code, response.headers,
                                               response.content, str(body.get("model", "")))
        try:
            return json.loads(response.content)
        except ValueError:
            raise self._failures.bad_response(f"{what} reply was not valid JSON", response.text) from None

    def _parse_whole(self, raw: bytes) -> Reply:
        try:
            return self._family.parse_reply(json.loads(raw))
        except StreamErrorEvent:
            raise
        except PARSE_ERRORS as exc:
            text = raw.decode("utf-8", "replace")
            raise self._failures.bad_response(f"the reply was not valid JSON ({type(exc).__name__})", text) from None

    # ----- keys ---------------------------------------------------------------------------

    async def _headers(self) -> dict[str, str]:
        async with self._key_lock:
            if not self._key_loaded:
                # Keyring lookups block (D-Bus); keep them off the event loop.
                self._failures.key = await asyncio.to_thread(self._key_lookup, self.config)
                self._key_loaded = True
        key = self._failures.key
        if not key and self._key_required():
            raise errors.missing_key(self.config.name, keys.key_hint(self.config))
        headers = self._family.auth_headers(self.config, key)
        headers.update(self.config.extra_headers)
        return headers

    def _key_required(self) -> bool:
        # The vendors' own hosts always need a key; other servers may not, and say so with a 401.
        return keys.needs_key(self.config)
