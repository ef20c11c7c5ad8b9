"""The fake provider server: one real HTTP/1.1 server on 127.0.0.1 for all four API families.

It routes each request to its family (`openai`, `anthropic`, `gemini`, `ollama` modules), checks
the key, records the request (key headers redacted) and checks it against the family's rules: an
invalid request gets a 400 in that API's own error format and lands in `validation_failures`,
which tests assert is empty. Everything it sends back is read by the family's independent reader
(the official SDK, where the test extra has one); what that reader cannot parse lands in
`wire_errors`, a bug in the fake itself, which the fixtures assert is empty too.

Faults are scripted per test: `server.script(rate_limited(retry_after=0.2), reply())` answers the
next calls in order (optionally only for one model); `server.latency` delays every answer.
Server-wide quirks: `server.refused_fields` makes it a compatible server that refuses fields it
does not know (a 400 naming the field, as Azure's older API versions did for stream_options);
`server.max_concurrent_ok` makes it answer 429 (with retry-after) to calls beyond that many in
flight, like a provider's concurrency limit.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import deque
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.helpers.fake_provider import anthropic, batches, embeddings, gemini, ollama, openai, sdk
from tests.helpers.fake_provider.behaviours import Behaviour
from tests.helpers.fake_provider.handler import Handler, HTTPServer
from tests.helpers.fake_provider.recording import Recorded, redacted
from tests.helpers.fake_provider.wire import Call, Family, bearer_key

API_KEY = "sk-fake-0123456789abcdef"
FAMILIES: dict[str, Family] = {f.name: f for f in (openai.FAMILY, anthropic.FAMILY, gemini.FAMILY, ollama.FAMILY)}
DEFAULT_MODELS = {
    "openai": ["gpt-4o-mini", "gpt-4o", "o4-mini"],
    "anthropic": ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"],
    "gemini": ["gemini-2.5-flash", "gemini-2.5-pro", "text-embedding-004"],
    "ollama": ["llama3.2:latest", "qwen2.5:7b"],
}


def make_call(family: str, body: dict, model: str, stream: bool, behaviour: Behaviour) -> Call:
    return FAMILIES[family].make_call(body, model, stream, behaviour)


def error_body(family: str, status: int, message: str, type_: str | None = None,
               code: str | None = None, param: str | None = None) -> dict:
    """An error in the family's own shape (reference: each API's "Errors" paragraph)."""
    return FAMILIES[family].error_body(status, message, type_, code, param)


class FakeProviderServer:
    def __init__(self, api_keys: tuple[str, ...] = (API_KEY,)) -> None:
        self.api_keys = set(api_keys)
        self.keyless = {"ollama"}  # families that accept calls without a key
        self.latency = 0.0
        self.default = Behaviour()
        self.models = {k: list(v) for k, v in DEFAULT_MODELS.items()}
        self.page_size = 2  # small pages, so clients have to follow pagination
        self.requests: list[Recorded] = []
        # Checks against the official SDKs (test extra): on in tests. A benchmark of the lab in
        # this same process turns them off; the hand-written rules still apply.
        self.sdk_checks = True
        self.wire_errors: list[str] = []  # what the fake sent that an official client could not read
        self.disconnects = 0
        self.refused_fields: set[str] = set()  # OpenAI-compatible: a 400 for a body with any of them
        self.refused = 0  # requests answered with that 400
        # A provider's concurrency limit: chat calls beyond this many in flight get a 429 with
        # retry-after (`ceiling_retry_after` seconds) at once; None: no limit.
        self.max_concurrent_ok: int | None = None
        self.ceiling_retry_after = 0.05
        self.over_ceiling = 0  # calls answered with that 429
        self.max_concurrent = 0  # the most chat calls in flight at once (answered, not refused)
        self._in_flight = 0
        self._open: set[socket.socket] = set()
        self._queues: dict[str | None, deque[Behaviour]] = {}
        self._lock = threading.Lock()
        self._counter = 0
        self._httpd: HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.batches = batches.FakeBatches(self)  # the batch APIs (see batches)

    # ----- lifecycle -----
    def start(self) -> FakeProviderServer:
        sdk.warm_up()
        self._httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.fake = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-provider", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        with self._lock:
            for conn in list(self._open):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._httpd.server_close()
        self._httpd = None

    def __enter__(self) -> FakeProviderServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----- what tests use -----
    @property
    def root_url(self) -> str:
        assert self._httpd is not None, "start the server first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def base_url(self, kind: str) -> str:
        return {"openai": f"{self.root_url}/v1", "gemini": f"{self.root_url}/v1beta"}.get(kind, self.root_url)

    def provider_config(self, kind: str, name: str | None = None, **overrides: Any) -> Any:
        """A ProviderConfig pointing at this server. It stands in for the hosted API, so it is
        not treated as local (costs are computed) unless `local=True` is passed."""
        from lab.core.providers.base import ProviderConfig

        values: dict[str, Any] = {"name": name or kind, "kind": kind, "base_url": self.base_url(kind),
                                  "local": kind == "ollama"}
        values.update(overrides)
        return ProviderConfig(**values)

    def script(self, *behaviours: Behaviour, model: str | None = None) -> None:
        """Answer the next chat calls (for `model`, or any model) with these, in order."""
        with self._lock:
            self._queues.setdefault(model, deque()).extend(behaviours)

    @property
    def validation_failures(self) -> list[Recorded]:
        return [r for r in self.requests if r.validation_errors]

    def chat_requests(self, family: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and (family is None or r.family == family)
                and embeddings.route(r.method, r.path) is None and batches.route(r.method, r.path) is None]

    def batch_requests(self, family: str | None = None) -> list[Recorded]:
        """Requests to the batch endpoints (uploads, creations, polls, downloads, cancels)."""
        return [r for r in self.requests if batches.route(r.method, r.path) is not None
                and (family is None or r.family == family)]

    def embedding_requests(self, family: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if embeddings.route(r.method, r.path) is not None
                and (family is None or r.family == family)]

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._open)

    def wait_for_connections(self, at_most: int = 0, timeout: float = 3.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.open_connections <= at_most:
                return True
            time.sleep(0.02)
        return self.open_connections <= at_most

    # ----- internals -----
    def _connection(self, conn: socket.socket, delta: int) -> None:
        with self._lock:
            (self._open.add if delta > 0 else self._open.discard)(conn)

    def _note_disconnect(self) -> None:
        with self._lock:
            self.disconnects += 1

    def _next_behaviour(self, model: str) -> Behaviour:
        with self._lock:
            for key in (model, None):
                queue = self._queues.get(key)
                if queue:
                    return queue.popleft()
            return self.default

    def _route(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[str, str, str, bool]:
        embedding = embeddings.route(method, path)
        if embedding is not None:
            return embedding[0], "embed", embedding[1] or str(body.get("model", "")), False
        if method == "POST" and path == "/v1/chat/completions":
            return "openai", "chat", str(body.get("model", "")), body.get("stream") is True
        if method == "POST" and path == "/v1/messages":
            return "anthropic", "chat", str(body.get("model", "")), body.get("stream") is True
        m = re.fullmatch(r"/v1beta/models/([^/:]+):(generateContent|streamGenerateContent)", path)
        if method == "POST" and m:
            return "gemini", "chat", m.group(1), m.group(2) == "streamGenerateContent"
        if method == "POST" and path == "/api/chat":
            return "ollama", "chat", str(body.get("model", "")), body.get("stream", True) is not False
        if method == "GET" and path == "/v1/models":
            return ("anthropic" if "anthropic-version" in headers else "openai"), "models", "", False
        if method == "GET" and path == "/v1beta/models":
            return "gemini", "models", "", False
        if method == "GET" and path == "/api/tags":
            return "ollama", "models", "", False
        return "unknown", "unknown", "", False

    def _handle(self, h: Handler, method: str) -> None:
        url = urlsplit(h.path)
        query = parse_qs(url.query)
        headers = {k.lower(): v for k, v in h.headers.items()}
        expected = int(headers.get("content-length") or 0) if method == "POST" else 0
        raw = h.rfile.read(expected) if expected else b""
        if len(raw) < expected:
            # The client hung up mid-request (a cancelled call): nothing was asked, nothing to
            # validate or answer. A real server drops such a connection too.
            return
        batch = batches.route(method, url.path)
        if batch is not None:
            return self.batches.handle(h, *batch, method, url.path, query, headers, raw)
        try:
            body: Any = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        name, op, model, stream = self._route(method, url.path, headers, body if isinstance(body, dict) else {})
        family = FAMILIES.get(name)
        key = family.key_of(headers, query) if family else bearer_key(headers)
        record = Recorded(name, method, url.path, query, redacted(headers), body, key is not None)
        with self._lock:
            self.requests.append(record)
            self._counter += 1
            request_id = f"req_fake{self._counter:05d}"
        if family is None:
            return h.send_json(404, json.dumps({"error": f"no route for {method} {url.path}"}).encode())
        if name not in self.keyless and (key is None or key not in self.api_keys):
            # Real providers echo (part of) the rejected key: the client must scrub it.
            status, error = family.auth_error("No API key provided." if key is None
                                              else f"Incorrect API key provided: {key}.")
            return self._send(h, family, "error", status, error)
        if op == "models":
            return self._send(h, family, "models", 200, family.models_page(self.models[name], query, self.page_size))
        if op == "embed":
            return self._embed(h, family, model, url.path, body if isinstance(body, dict) else {}, record)
        if not isinstance(body, dict):
            record.validation_errors.append("the body is not a JSON object")
        else:
            try:
                record.validation_errors += family.validate(body, headers, query, stream,
                                                            sdk_checks=self.sdk_checks)
            except sdk.MissingSDK as e:
                record.validation_errors.append(str(e))
        if record.validation_errors:
            message = "Invalid request: " + "; ".join(record.validation_errors)
            return self._send(h, family, "error", 400, family.error_body(400, message))
        refused = sorted(f for f in self.refused_fields if name == "openai" and f in body)
        if refused:  # a valid request this server does not support: not a client bug
            with self._lock:
                self.refused += 1
            message = f"Unrecognized request argument supplied: {', '.join(refused)}"
            return self._send(h, family, "error", 400, family.error_body(400, message))
        with self._lock:
            over = self.max_concurrent_ok is not None and self._in_flight >= self.max_concurrent_ok
            if over:
                self.over_ceiling += 1
            else:
                self._in_flight += 1
                self.max_concurrent = max(self.max_concurrent, self._in_flight)
        if over:
            headers = {"retry-after": f"{self.ceiling_retry_after:g}"}
            if family.request_id_header:
                headers[family.request_id_header] = request_id
            error = family.error_body(429, f"Rate limit reached: at most {self.max_concurrent_ok} "
                                           "requests in flight. Please try again shortly.")
            return self._send(h, family, "error", 429, error, headers)
        try:
            self._chat(h, family, model, stream, body, request_id)
        finally:
            record.answered_at = time.monotonic()
            with self._lock:
                self._in_flight -= 1

    def _checked(self, family: Family, kind: str, data: bytes) -> bytes:
        """`data`, once the family's reader has parsed it; what it could not parse is noted."""
        if not self.sdk_checks:
            return data
        try:
            problems = family.check_sent(kind, data)
        except sdk.MissingSDK as e:
            problems = [str(e)]
        except ValueError as e:  # not JSON at all
            problems = [f"not JSON ({e}): {data[:200]!r}"]
        if problems:
            with self._lock:
                self.wire_errors += [f"{family.name} {kind}: {p}" for p in problems]
        return data

    def _send(self, h: Handler, family: Family, kind: str, status: int, payload: dict,
              headers: dict[str, str] | None = None) -> None:
        h.send_json(status, self._checked(family, kind, json.dumps(payload).encode()), headers)

    def _embed(self, h: Handler, family: Family, model: str, path: str, body: dict, record: Recorded) -> None:
        b = self._next_behaviour(model)
        time.sleep(self.latency + b.latency)
        if b.status >= 400:
            error = family.error_body(b.status, b.error_message or f"Error {b.status}", b.error_type,
                                      b.error_code, b.error_param)
            return self._send(h, family, "error", b.status, error, b.headers)
        try:
            _, payload, problems = embeddings.answer(family.name, model, path, body)
        except sdk.MissingSDK as e:
            payload, problems = {}, [str(e)]
        if problems:
            record.validation_errors += problems
            return self._send(h, family, "error", 400,
                              family.error_body(400, "Invalid request: " + "; ".join(problems)))
        data = json.dumps(payload).encode()
        if self.sdk_checks:
            try:
                wrong = embeddings.reply_errors(family.name, data)
            except sdk.MissingSDK as e:
                wrong = [str(e)]
            with self._lock:
                self.wire_errors += [f"{family.name} embeddings: {p}" for p in wrong]
        h.send_json(200, data)

    def _chat(self, h: Handler, family: Family, model: str, stream: bool, body: dict, request_id: str) -> None:
        b = self._next_behaviour(model)
        time.sleep(self.latency + b.latency)
        headers = {family.request_id_header: request_id} if family.request_id_header else {}
        if b.status >= 400:
            message = b.error_message or {401: "Invalid authentication", 404: f"The model `{model}` does not exist",
                                          500: "The server had an error while processing your request."}.get(
                b.status, f"Error {b.status}")
            error = family.error_body(b.status, message, b.error_type, b.error_code, b.error_param)
            if b.error_details:
                error = family.with_details(error, b.error_details)
            return self._send(h, family, "error", b.status, error, {**headers, **b.headers})
        call = family.make_call(body, model, stream, b)
        if not stream:
            if b.bad_json:
                return h.send_json(200, b"{not json", headers)
            return self._send(h, family, "reply", 200, family.whole(call), headers)
        h.start_stream(family.content_type, headers)
        for piece in family.preamble(call):
            h.chunk(self._checked(family, "stream", piece))
        if b.bad_json:
            h.chunk(family.broken_chunk())
            return h.end_stream()
        if b.first_token_delay:
            time.sleep(b.first_token_delay)
        keep_alive = family.keep_alive() if b.comments else None
        for i, piece in enumerate(call.pieces):
            if b.cut_after is not None and i >= b.cut_after:
                return h.abort()
            if b.error_after is not None and i >= b.error_after:
                h.chunk(self._checked(family, "stream", family.error_event(call)))
                return h.end_stream()
            if b.chunk_delay and i:
                time.sleep(b.chunk_delay)
            h.chunk(self._checked(family, "stream", family.content(call, i, piece)))
            if keep_alive:
                h.chunk(self._checked(family, "stream", keep_alive))
        if b.cut_after is not None:
            return h.abort()  # every text chunk went out, the end marker never does
        for piece in family.ending(call):
            h.chunk(self._checked(family, "stream", piece))
        h.end_stream()
