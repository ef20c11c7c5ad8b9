"""The vocabulary of batch APIs shared by `batches` and the family modules (`batch_openai`,
`batch_anthropic`, `batch_gemini`): limits, a request, a poll's answer, a line of results, and the
HTTP helper the family modules speak through (key in headers, typed errors, retries).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import httpx

from lab.core.providers import retry
from lab.core.providers.base import ChatRequest, ProviderConfig
from lab.core.providers.errors import BadResponse, ErrorDetails, ProviderError
from lab.core.providers.outcomes import Failures, Progress

log = logging.getLogger(__name__)

T = TypeVar("T")

# Outcomes of one request in a batch (Anthropic's words, which the other families map onto).
SUCCEEDED, ERRORED, EXPIRED, CANCELED = "succeeded", "errored", "expired", "canceled"

# The lab's view of a batch's progress: still running, being cancelled, or over (for whatever
# reason: `BatchState.outcome` says which).
IN_PROGRESS, CANCELLING, ENDED = "in_progress", "cancelling", "ended"


@dataclass(frozen=True)
class BatchLimits:
    """What one batch may hold (None: no limit the lab knows of)."""

    max_requests: int | None
    max_bytes: int | None
    text: str  # for the pre-flight: "≤50,000 requests and ≤200 MB per batch file"

    def lowered(self, max_requests: int | None) -> BatchLimits:
        """These limits with at most `max_requests` requests (never a higher limit)."""
        if max_requests is None or (self.max_requests is not None and max_requests >= self.max_requests):
            return self
        return replace(self, max_requests=max_requests)


@dataclass
class BatchItem:
    """One request of a batch: the lab's custom id for it and the non-streamed request."""

    custom_id: str
    request: ChatRequest

    def __post_init__(self) -> None:
        if self.request.stream:
            self.request = replace(self.request, stream=False)


@dataclass
class Submitted:
    batch_id: str  # the provider's id ("batch_…", "msgbatch_…", "batches/…")
    info: dict[str, Any] = field(default_factory=dict)  # what following it needs (file ids …)
    provider_status: str = ""


@dataclass
class BatchState:
    """One poll's answer, in the lab's terms."""

    batch_id: str
    status: str  # IN_PROGRESS, CANCELLING or ENDED
    provider_status: str  # the provider's own word ("finalizing", "BATCH_STATE_RUNNING" …)
    total: int = 0
    succeeded: int = 0
    failed: int = 0  # errored, expired or cancelled requests (as far as the provider says yet)
    outcome: str | None = None  # once ended: "completed", "expired", "cancelled" or "failed"
    error: str = ""  # why the whole batch failed (OpenAI: the file did not validate)
    info: dict[str, Any] = field(default_factory=dict)  # where the results are
    ended_at: str | None = None  # the provider's timestamp, when it says

    @property
    def ended(self) -> bool:
        return self.status == ENDED

    @property
    def pending(self) -> int:
        return max(self.total - self.succeeded - self.failed, 0)


@dataclass
class RawResult:
    """One request's line of a batch's results, as a family module read it."""

    custom_id: str
    outcome: str  # SUCCEEDED, ERRORED, EXPIRED or CANCELED
    body: Any = None  # the reply (succeeded)
    status: int = 0  # the HTTP status the request would have had (errored)
    details: ErrorDetails | None = None
    raw: str = ""


class BatchHttp:
    """The HTTP a family module needs: JSON, multipart uploads and line streams, with the key in
    headers, typed errors and the chat client's retries."""

    def __init__(self, config: ProviderConfig, failures: Failures, headers: dict[str, str],
                 http: httpx.AsyncClient, policy: retry.RetryPolicy) -> None:
        self.config = config
        self.failures = failures
        self.headers = headers
        self._http = http
        self._policy = policy

    def url(self, path: str) -> str:
        return f"{self.config.base_url}{path}"

    def same_origin(self, url: str) -> bool:
        """Whether `url` is on the provider's own host (the key may be sent there)."""
        a, b = urlsplit(url), urlsplit(self.config.base_url)
        return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)

    async def get_json(self, url: str, what: str) -> Any:
        return await self._retrying(lambda: self._json("GET", url, what))

    async def post_json(self, url: str, body: dict[str, Any] | None, what: str) -> Any:
        content = b"" if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        return await self._retrying(lambda: self._json("POST", url, what, content=content))

    async def post_file(self, url: str, fields: dict[str, str], filename: str, data: bytes,
                        what: str) -> Any:
        files = {"file": (filename, data, "application/jsonl")}
        return await self._retrying(lambda: self._json("POST", url, what, data=fields, files=files))

    async def get_lines(self, url: str, what: str) -> list[str]:
        """A JSONL body, line by line (read as it streams; blank lines dropped)."""

        async def attempt() -> list[str]:
            lines: list[str] = []
            try:
                async with asyncio.timeout(self.config.timeouts.total):
                    async with self._http.stream("GET", url, headers=self._get_headers()) as response:
                        if response.status_code >= 400:
                            raise self._error(response.status_code, response.headers,
                                              await response.aread())
                        async for line in response.aiter_lines():
                            if line.strip():
                                lines.append(line)
            except TimeoutError:
                raise self.failures.total_timeout(Progress(), f"downloading {what}") from None
            except httpx.TransportError as exc:
                raise self.failures.transport(exc, Progress()) from None
            return lines

        return await self._retrying(attempt)

    def bad(self, what: str, raw: Any) -> BadResponse:
        text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False, default=str)
        return self.failures.bad_response(what, text[:2000])

    # ----- internals ----------------------------------------------------------------------

    def _get_headers(self) -> dict[str, str]:
        # A GET has no body: no content type (some servers refuse one on a GET).
        return {k: v for k, v in self.headers.items() if k.lower() != "content-type"}

    async def _json(self, method: str, url: str, what: str, **kwargs: Any) -> Any:
        headers = self._get_headers() if method == "GET" or "files" in kwargs else dict(self.headers)
        try:
            async with asyncio.timeout(self.config.timeouts.total):
                response = await self._http.request(method, url, headers=headers, **kwargs)
        except TimeoutError:
            raise self.failures.total_timeout(Progress(), what) from None
        except httpx.TransportError as exc:
            raise self.failures.transport(exc, Progress()) from None
        if response.status_code >= 400:
            raise self._error(response.status_code, response.headers, response.content)
        try:
            return json.loads(response.content)
        except ValueError:
            raise self.failures.bad_response(f"{what}: the reply was not valid JSON",
                                             response.text) from None

    def _error(self, status: int, headers: Any, raw: bytes) -> ProviderError:
        return self.failures.from_response(status, headers, raw, "")

    async def _retrying(self, attempt: Callable[[], Awaitable[T]]) -> T:
        tries = 0
        while True:
            try:
                return await attempt()
            except ProviderError as error:
                delay = retry.delay_before_retry(error, tries, self.config.max_retries, self._policy)
                if delay is None:
                    raise
                tries += 1
                log.info("%s; retry %d of %d in %.2f s", error.message, tries,
                         self.config.max_retries, delay)
                await asyncio.sleep(delay)


class FamilyBatches(Protocol):
    """What each batch family module (batch_openai, batch_anthropic, batch_gemini) defines."""

    LIMITS: BatchLimits

    async def submit(self, http: BatchHttp, items: Sequence[BatchItem],
                     bodies: Sequence[dict[str, Any]], label: str) -> Submitted: ...

    async def poll(self, http: BatchHttp, batch_id: str, info: dict[str, Any]) -> BatchState: ...

    def results(self, http: BatchHttp, state: BatchState) -> AsyncIterator[RawResult]: ...

    async def cancel(self, http: BatchHttp, batch_id: str) -> None: ...
