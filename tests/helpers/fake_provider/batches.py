"""The batch APIs of the fake, in each provider's wire format:

- OpenAI: `POST /v1/files` (multipart, purpose "batch") → `POST /v1/batches` → `GET
  /v1/batches/{id}` → `GET /v1/files/{id}/content` (output and error JSONL files, in an order
  that differs from the input), `POST /v1/batches/{id}/cancel`.
- Anthropic: `POST /v1/messages/batches` (requests inline) → `GET /v1/messages/batches/{id}` →
  the `results_url` JSONL stream, `POST …/{id}/cancel`.
- Gemini: `POST /v1beta/models/{model}:batchGenerateContent` (inline requests) → the operation
  `GET /v1beta/batches/{id}` (responses inline once done), `POST /v1beta/batches/{id}:cancel`.

A batch moves on when it is polled: `polls_to_finish` polls after it was created it has ended
(the requests finish in proportion meanwhile), unless `hold` keeps every batch in progress (a
test releases it). Each request is answered like a chat call, with the next scripted behaviour
(`server.script(...)`): an HTTP error behaviour makes that request's line an error. Faults:
`expire_next` (the next batches expire, `expire_done` of their requests finished first),
`fail_polls` (the next polls answer 500), `refuse_next` (the next batches are refused at
creation with a 400).

Everything the lab sends is checked (the SDKs' `BatchCreateParams` and the chat request types
for each request inside); everything sent back is read with the SDKs' `Batch`, `FileObject`,
`ChatCompletion`, `MessageBatch` and `MessageBatchIndividualResponse` (no SDK for Gemini: its
shapes are written from the API reference). Problems land in the server's `validation_failures`
and `wire_errors`, which the fixtures assert are empty.
"""

from __future__ import annotations

import datetime as dt
import email.parser
import email.policy
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from tests.helpers.fake_provider import anthropic, gemini, openai, sdk
from tests.helpers.fake_provider.recording import Recorded, redacted

if TYPE_CHECKING:
    from tests.helpers.fake_provider.handler import Handler
    from tests.helpers.fake_provider.server import FakeProviderServer

CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
OPENAI_ENDPOINTS = {"/v1/chat/completions"}
FILE_PURPOSES = {"assistants", "batch", "fine-tune", "vision", "user_data", "evals"}


def route(method: str, path: str) -> tuple[str, str, str] | None:
    """(family, operation, id) of a batch endpoint, or None."""
    rules = [
        ("POST", r"/v1/files", "openai", "upload"),
        ("GET", r"/v1/files/([^/]+)/content", "openai", "download"),
        ("POST", r"/v1/batches", "openai", "create"),
        ("GET", r"/v1/batches/([^/]+)", "openai", "poll"),
        ("POST", r"/v1/batches/([^/]+)/cancel", "openai", "cancel"),
        ("POST", r"/v1/messages/batches", "anthropic", "create"),
        ("GET", r"/v1/messages/batches/([^/]+)", "anthropic", "poll"),
        ("POST", r"/v1/messages/batches/([^/]+)/cancel", "anthropic", "cancel"),
        ("GET", r"/v1/messages/batches/([^/]+)/results", "anthropic", "results"),
        ("POST", r"/v1beta/models/([^/:]+):batchGenerateContent", "gemini", "create"),
        ("GET", r"/v1beta/batches/([^/:]+)", "gemini", "poll"),
        ("POST", r"/v1beta/batches/([^/:]+):cancel", "gemini", "cancel"),
    ]
    for verb, pattern, family, op in rules:
        m = re.fullmatch(pattern, path)
        if method == verb and m:
            return family, op, unquote(m.group(1)) if m.groups() else ""
    return None


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass
class FakeBatch:
    family: str
    id: str
    model: str
    requests: list[tuple[str, dict]]  # (custom id, body) in the order sent
    created: float
    input_file_id: str | None = None
    polls: int = 0
    processed: int = 0  # requests finished so far
    ended: float | None = None
    outcome: str | None = None  # completed, expired, cancelled
    cancel_at: float | None = None
    expire: bool = False
    expire_done: int = 0
    results: list[dict] = field(default_factory=list)  # per request: outcome and its body
    output_file_id: str | None = None
    error_file_id: str | None = None

    @property
    def total(self) -> int:
        return len(self.requests)


class FakeBatches:
    def __init__(self, fake: FakeProviderServer) -> None:
        self.fake = fake
        self.polls_to_finish = 2  # polls after which a batch has ended
        self.hold = False  # every batch stays in progress while this is set
        self.expire_next = 0  # the next N batches created expire ...
        self.expire_done = 0  # ... having finished this many of their requests first
        self.fail_polls = 0  # the next N polls answer 500
        self.refuse_next = 0  # the next N batches are refused at creation (400)
        self.batches: dict[str, FakeBatch] = {}
        self.files: dict[str, tuple[str, str, bytes]] = {}  # id -> (purpose, filename, data)
        self.polls = 0
        self.cancelled: list[str] = []
        self._lock = threading.RLock()  # the batches' lives (a poll may end a batch)
        self._n = 0

    # ----- what tests use -----
    def created(self, family: str | None = None) -> list[FakeBatch]:
        with self._lock:
            return [b for b in self.batches.values() if family is None or b.family == family]

    def requests_sent(self, family: str | None = None) -> int:
        """How many requests every batch created so far held."""
        return sum(b.total for b in self.created(family))

    # ----- routing -----
    def handle(self, h: Handler, family_name: str, op: str, ident: str, method: str, path: str,
               query: dict, headers: dict[str, str], raw: bytes) -> None:
        from tests.helpers.fake_provider.server import FAMILIES

        family = FAMILIES[family_name]
        body: Any = None
        if op != "upload" and raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        key = family.key_of(headers, query)
        record = Recorded(family_name, method, path, query, redacted(headers),
                          body if op != "upload" else {"multipart": len(raw)}, key is not None)
        with self.fake._lock:
            self.fake.requests.append(record)
        if key is None or key not in self.fake.api_keys:
            status, error = family.auth_error("No API key provided." if key is None
                                              else f"Incorrect API key provided: {key}.")
            return self._send(h, family_name, "error", status, error)
        handler = getattr(self, f"_{family_name}_{op}")
        return handler(h, record, ident, headers, body, raw)

    # ----- OpenAI -----
    def _openai_upload(self, h: Handler, record: Recorded, ident: str, headers: dict[str, str],
                       body: Any, raw: bytes) -> None:
        parts = _multipart(headers.get("content-type", ""), raw)
        purpose = (parts.get("purpose") or (None, b""))[1].decode()
        filename, data = parts.get("file") or (None, b"")
        if purpose not in FILE_PURPOSES:
            record.validation_errors.append(f"purpose must be one of {sorted(FILE_PURPOSES)}, "
                                            f"not {purpose!r}")
        if not filename or not data:
            record.validation_errors.append("the multipart body has no file")
        if record.validation_errors:
            return self._invalid(h, "openai", record)
        file_id = self._id("file-fake")
        with self._lock:
            self.files[file_id] = (purpose, filename, data)
        self._send(h, "openai", "file", 200, self._file_object(file_id))

    def _file_object(self, file_id: str) -> dict:
        purpose, filename, data = self.files[file_id]
        return {"id": file_id, "object": "file", "bytes": len(data), "created_at": int(time.time()),
                "filename": filename, "purpose": purpose, "status": "processed",
                "expires_at": None, "status_details": None}

    def _openai_create(self, h: Handler, record: Recorded, ident: str, headers: dict[str, str],
                       body: Any, raw: bytes) -> None:
        params = sdk.load("openai.types.batch_create_params")
        if not isinstance(body, dict):
            record.validation_errors.append("the body is not a JSON object")
            return self._invalid(h, "openai", record)
        record.validation_errors += sdk.request_errors(params.BatchCreateParams, body)
        file = self.files.get(str(body.get("input_file_id")))
        if file is None:
            record.validation_errors.append(f"no file {body.get('input_file_id')!r}")
        elif file[0] != "batch":
            record.validation_errors.append("the input file was not uploaded with purpose batch")
        if record.validation_errors:
            return self._invalid(h, "openai", record)
        if self._refused():
            return self._send(h, "openai", "error", 400, openai.FAMILY.error_body(
                400, "The batch could not be created (scripted refusal)."))
        requests, problems = [], []
        seen: set[str] = set()
        lines = file[2].decode().splitlines()
        if len(lines) > 50_000 or len(file[2]) > 200_000_000:
            problems.append("a batch file holds at most 50,000 requests and 200 MB")
        for n, line in enumerate(lines, start=1):
            try:
                item = json.loads(line)
            except ValueError:
                problems.append(f"line {n}: not JSON")
                continue
            if set(item) != {"custom_id", "method", "url", "body"}:
                problems.append(f"line {n}: a request is custom_id, method, url and body")
            custom_id = item.get("custom_id")
            if not isinstance(custom_id, str) or custom_id in seen:
                problems.append(f"line {n}: custom_id must be a unique string")
            seen.add(str(custom_id))
            if item.get("method") != "POST" or item.get("url") != body.get("endpoint"):
                problems.append(f"line {n}: method must be POST and url the batch's endpoint")
            request = item.get("body")
            if not isinstance(request, dict):
                problems.append(f"line {n}: body must be an object")
                continue
            if request.get("stream"):
                problems.append(f"line {n}: a batch request cannot stream")
            problems += [f"line {n}: {p}" for p in openai.FAMILY.validate(
                request, {}, {}, False, sdk_checks=self.fake.sdk_checks)]
            requests.append((str(custom_id), request))
        models = {r.get("model") for _, r in requests}
        if len(models) > 1:
            problems.append(f"one model per batch file, not {sorted(map(str, models))}")
        if body.get("endpoint") not in OPENAI_ENDPOINTS:
            problems.append(f"the fake answers {sorted(OPENAI_ENDPOINTS)} only")
        record.validation_errors += problems
        batch = self._new(FakeBatch("openai", self._id("batch_fake"),
                                    str(next(iter(models), "")), requests, time.time(),
                                    input_file_id=str(body["input_file_id"])))
        batch.metadata = body.get("metadata")  # type: ignore[attr-defined]
        if problems:  # OpenAI validates the file after accepting the batch: it fails
            batch.ended, batch.outcome = time.time(), "failed"
            batch.errors = problems  # type: ignore[attr-defined]
        self._send(h, "openai", "batch", 200, self._openai_batch(batch))

    def _openai_batch(self, b: FakeBatch) -> dict:
        status = {"completed": "completed", "expired": "expired", "cancelled": "cancelled",
                  "failed": "failed"}.get(b.outcome or "")
        if status is None:
            status = ("cancelling" if b.cancel_at else "validating" if b.polls == 0
                      else "finalizing" if b.processed == b.total else "in_progress")
        failed = sum(r["outcome"] != "succeeded" for r in b.results)
        completed = b.processed if not b.ended else len(b.results) - failed
        errors = getattr(b, "errors", None)
        return {
            "id": b.id, "object": "batch", "endpoint": "/v1/chat/completions", "model": b.model,
            "errors": {"object": "list", "data": [{"code": "invalid_request", "line": None,
                                                   "message": e, "param": None} for e in errors]}
            if errors else None,
            "input_file_id": b.input_file_id, "completion_window": "24h", "status": status,
            "output_file_id": b.output_file_id, "error_file_id": b.error_file_id,
            "created_at": int(b.created), "in_progress_at": int(b.created) if b.polls else None,
            "expires_at": int(b.created) + 86400, "finalizing_at": None,
            "completed_at": int(b.ended) if b.outcome == "completed" else None,
            "failed_at": int(b.ended) if b.outcome == "failed" else None,
            "expired_at": int(b.ended) if b.outcome == "expired" else None,
            "cancelling_at": int(b.cancel_at) if b.cancel_at else None,
            "cancelled_at": int(b.ended) if b.outcome == "cancelled" else None,
            "request_counts": {"total": b.total, "completed": completed,
                               "failed": failed if b.ended else 0},
            "usage": self._openai_usage(b),
            "metadata": getattr(b, "metadata", None),
        }

    def _openai_usage(self, b: FakeBatch) -> dict:
        replies = [r["body"]["usage"] for r in b.results if r["outcome"] == "succeeded"]
        i = sum(u["prompt_tokens"] for u in replies)
        o = sum(u["completion_tokens"] for u in replies)
        return {"input_tokens": i, "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": o, "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": i + o}

    def _openai_poll(self, h: Handler, record: Recorded, ident: str, headers: dict[str, str],
                     body: Any, raw: bytes) -> None:
        batch = self._polled(h, "openai", ident)
        if batch is not None:
            self._send(h, "openai", "batch", 200, self._openai_batch(batch))

    def _openai_cancel(self, h: Handler, record: Recorded, ident: str, headers: dict[str, str],
                       body: Any, raw: bytes) -> None:
        batch = self._cancel(h, "openai", ident)
        if batch is not None:
            self._send(h, "openai", "batch", 200, self._openai_batch(batch))

    def _openai_download(self, h: Handler, record: Recorded, ident: str, headers: dict[str, str],
                         body: Any, raw: bytes) -> None:
        file = self.files.get(ident)
        if file is None:
            return self._send(h, "openai", "error", 404, openai.FAMILY.error_body(
                404, f"No such File object: {ident}"))
        self._send_lines(h, "openai", file[2])

    def _openai_files(self, b: FakeBatch) -> None:
        """The output and error files of an ended batch: lines in another order than sent."""
        out, err = [], []
        for n, ((custom_id, _), r) in enumerate(zip(b.requests, b.results)):
            line: dict[str, Any] = {"id": f"batch_req_fake{n:05d}", "custom_id": custom_id,
                                    "response": None, "error": None}
            if r["outcome"] == "succeeded":
                line["response"] = {"status_code": 200, "request_id": f"req_fake{n:05d}",
                                    "body": r["body"]}
                out.append(line)
            elif r["outcome"] == "errored":
                line["response"] = {"status_code": r["status"], "request_id": f"req_fake{n:05d}",
                                    "body": r["body"]}
                err.append(line)
            else:
                code = "batch_expired" if r["outcome"] == "expired" else "batch_cancelled"
                line["error"] = {"code": code, "message": "This request could not be executed "
                                 "before the completion window expired." if code == "batch_expired"
                                 else "This request was cancelled."}
                err.append(line)
        for name, lines in (("output_file_id", out), ("error_file_id", err)):
            if not lines:
                continue
            lines.reverse()  # the order of a results file is not the order sent
            file_id = self._id("file-fake")
            self.files[file_id] = ("batch_output", f"{b.id}_{name}.jsonl",
                                   ("\n".join(json.dumps(x) for x in lines) + "\n").encode())
            setattr(b, name, file_id)

    # ----- Anthropic -----
    def _anthropic_create(self, h: Handler, record: Recorded, ident: str,
                          headers: dict[str, str], body: Any, raw: bytes) -> None:
        problems = []
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(body, dict) or set(body) != {"requests"}:
            problems.append("the body is {\"requests\": [...]}")
        if not isinstance(requests, list) or not requests:
            problems.append("requests: must be a non-empty list")
            requests = []
        if len(requests) > 100_000 or len(raw) > 256_000_000:
            problems.append("a batch holds at most 100,000 requests and 256 MB")
        seen: set[str] = set()
        for i, item in enumerate(requests):
            if not isinstance(item, dict) or set(item) != {"custom_id", "params"}:
                problems.append(f"requests.{i}: a request is custom_id and params")
                continue
            custom_id = item["custom_id"]
            if not isinstance(custom_id, str) or not CUSTOM_ID.fullmatch(custom_id):
                problems.append(f"requests.{i}.custom_id: must match ^[a-zA-Z0-9_-]{{1,64}}$")
            elif custom_id in seen:
                problems.append(f"requests.{i}.custom_id: {custom_id!r} is not unique")
            seen.add(str(custom_id))
            params = item["params"]
            if not isinstance(params, dict):
                problems.append(f"requests.{i}.params: must be an object")
                continue
            if "stream" in params:
                problems.append(f"requests.{i}.params.stream: not allowed in a batch")
            if params.get("max_tokens") == 0:
                problems.append(f"requests.{i}.params.max_tokens: 0 is not allowed in a batch")
            problems += [f"requests.{i}.params.{p}" for p in anthropic.FAMILY.validate(
                params, headers, {}, False, sdk_checks=self.fake.sdk_checks)]
        record.validation_errors += problems
        if problems:
            return self._invalid(h, "anthropic", record)
        if self._refused():
            return self._send(h, "anthropic", "error", 400, anthropic.FAMILY.error_body(
                400, "The batch could not be created (scripted refusal)."))
        batch = self._new(FakeBatch("anthropic", self._id("msgbatch_fake"),
                                    str(requests[0]["params"].get("model", "")),
                                    [(r["custom_id"], r["params"]) for r in requests], time.time()))
        self._send(h, "anthropic", "batch", 200, self._anthropic_batch(batch))

    def _anthropic_batch(self, b: FakeBatch) -> dict:
        counts = {"processing": b.total, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if b.ended:  # counts move only once the whole batch has ended
            counts["processing"] = 0
            for r in b.results:
                counts[r["outcome"]] += 1
        return {
            "id": b.id, "type": "message_batch",
            "processing_status": "ended" if b.ended else "canceling" if b.cancel_at else "in_progress",
            "request_counts": counts, "ended_at": _iso(b.ended), "created_at": _iso(b.created),
            "expires_at": _iso(b.created + 86400), "archived_at": None,
            "cancel_initiated_at": _iso(b.cancel_at),
            "results_url": (f"{self.fake.root_url}/v1/messages/batches/{b.id}/results"
                            if b.ended else None),
        }

    def _anthropic_poll(self, h: Handler, record: Recorded, ident: str, headers: dict[str, str],
                        body: Any, raw: bytes) -> None:
        batch = self._polled(h, "anthropic", ident)
        if batch is not None:
            self._send(h, "anthropic", "batch", 200, self._anthropic_batch(batch))

    def _anthropic_cancel(self, h: Handler, record: Recorded, ident: str,
                          headers: dict[str, str], body: Any, raw: bytes) -> None:
        batch = self._cancel(h, "anthropic", ident)
        if batch is not None:
            self._send(h, "anthropic", "batch", 200, self._anthropic_batch(batch))

    def _anthropic_results(self, h: Handler, record: Recorded, ident: str,
                           headers: dict[str, str], body: Any, raw: bytes) -> None:
        batch = self.batches.get(ident)
        if batch is None or not batch.ended:
            return self._send(h, "anthropic", "error", 404, anthropic.FAMILY.error_body(
                404, f"Batch {ident} has no results yet"))
        lines = []
        for (custom_id, _), r in zip(batch.requests, batch.results):
            result: dict[str, Any] = {"type": r["outcome"]}
            if r["outcome"] == "succeeded":
                result["message"] = r["body"]
            elif r["outcome"] == "errored":
                result["error"] = r["body"]
            lines.append({"custom_id": custom_id, "result": result})
        lines.reverse()  # not in the order sent
        self._send_lines(h, "anthropic", ("\n".join(json.dumps(x) for x in lines) + "\n").encode())

    # ----- Gemini -----
    def _gemini_create(self, h: Handler, record: Recorded, ident: str, headers: dict[str, str],
                       body: Any, raw: bytes) -> None:
        problems = []
        batch = body.get("batch") if isinstance(body, dict) else None
        if not isinstance(body, dict) or set(body) != {"batch"} or not isinstance(batch, dict):
            problems.append('the body is {"batch": {...}}')
            batch = {}
        for name in batch:
            if name not in ("displayName", "inputConfig", "priority"):
                problems.append(f'Unknown name "batch.{name}": Cannot find field.')
        if not batch.get("displayName"):
            problems.append("batch.displayName: required")
        inline = ((batch.get("inputConfig") or {}).get("requests") or {}).get("requests")
        if not isinstance(inline, list) or not inline:
            problems.append("batch.inputConfig.requests.requests: must be a non-empty list")
            inline = []
        if len(raw) > 20_000_000:
            problems.append("inline requests must stay under 20 MB")
        requests = []
        for i, item in enumerate(inline):
            if not isinstance(item, dict) or not isinstance(item.get("request"), dict):
                problems.append(f"requests[{i}]: must be {{request, metadata}}")
                continue
            key = (item.get("metadata") or {}).get("key")
            problems += [f"requests[{i}].request: {p}" for p in gemini.FAMILY.rule_errors(
                item["request"], headers, {}, False)]
            requests.append((str(key if key is not None else i), item["request"]))
        record.validation_errors += problems
        if problems:
            return self._invalid(h, "gemini", record)
        if self._refused():
            return self._send(h, "gemini", "error", 400, gemini.FAMILY.error_body(
                400, "The batch could not be created (scripted refusal)."))
        found = self._new(FakeBatch("gemini", f"batches/fake{self._next():05d}", ident,
                                    requests, time.time()))
        found.display_name = batch.get("displayName")  # type: ignore[attr-defined]
        self._send(h, "gemini", "batch", 200, self._gemini_operation(found))

    def _gemini_operation(self, b: FakeBatch) -> dict:
        state = {"completed": "SUCCEEDED", "expired": "EXPIRED", "cancelled": "CANCELLED"}.get(
            b.outcome or "", "CANCELLING" if b.cancel_at else "RUNNING" if b.polls else "PENDING")
        failed = sum(r["outcome"] != "succeeded" for r in b.results)
        stats = {"requestCount": str(b.total),
                 "successfulRequestCount": str(len(b.results) - failed if b.ended else b.processed),
                 "failedRequestCount": str(failed if b.ended else 0),
                 "pendingRequestCount": str(0 if b.ended else b.total - b.processed)}
        operation: dict[str, Any] = {"name": b.id, "metadata": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
            "name": b.id, "displayName": getattr(b, "display_name", ""), "model": f"models/{b.model}",
            "createTime": _iso(b.created), "updateTime": _iso(time.time()),
            "endTime": _iso(b.ended), "batchStats": stats, "state": f"BATCH_STATE_{state}"}}
        if b.ended:
            operation["done"] = True
            responses = []
            for (key, _), r in zip(b.requests, b.results):
                item: dict[str, Any] = {"metadata": {"key": key}}
                if r["outcome"] == "succeeded":
                    item["response"] = r["body"]
                else:
                    status = {"errored": "INVALID_ARGUMENT", "expired": "DEADLINE_EXCEEDED",
                              "canceled": "CANCELLED"}[r["outcome"]]
                    error = (r["body"] or {}).get("error") or {}
                    item["error"] = {"code": error.get("code", 400 if status == "INVALID_ARGUMENT"
                                                       else 504 if status == "DEADLINE_EXCEEDED"
                                                       else 499),
                                     "message": error.get("message", status.lower()),
                                     "status": error.get("status", status)}
                responses.append(item)
            operation["response"] = {
                "@type": "type.googleapis.com/google.ai.generativelanguage.v1main."
                         "GenerateContentBatchOutput",
                "inlinedResponses": {"inlinedResponses": responses}}
        return operation

    def _gemini_poll(self, h: Handler, record: Recorded, ident: str, headers: dict[str, str],
                     body: Any, raw: bytes) -> None:
        batch = self._polled(h, "gemini", f"batches/{ident}")
        if batch is not None:
            self._send(h, "gemini", "batch", 200, self._gemini_operation(batch))

    def _gemini_cancel(self, h: Handler, record: Recorded, ident: str, headers: dict[str, str],
                       body: Any, raw: bytes) -> None:
        if self._cancel(h, "gemini", f"batches/{ident}") is not None:
            self._send(h, "gemini", "empty", 200, {})

    # ----- the batches' lives -----
    def _next(self) -> int:
        with self._lock:
            self._n += 1
            return self._n

    def _id(self, prefix: str) -> str:
        return f"{prefix}{self._next():05d}"

    def _refused(self) -> bool:
        with self._lock:
            if self.refuse_next:
                self.refuse_next -= 1
                return True
            return False

    def _new(self, batch: FakeBatch) -> FakeBatch:
        with self._lock:
            if self.expire_next:
                self.expire_next -= 1
                batch.expire, batch.expire_done = True, self.expire_done
            self.batches[batch.id] = batch
        return batch

    def _find(self, h: Handler, family: str, ident: str) -> FakeBatch | None:
        batch = self.batches.get(ident)
        if batch is None or batch.family != family:
            from tests.helpers.fake_provider.server import FAMILIES

            self._send(h, family, "error", 404, FAMILIES[family].error_body(
                404, f"No batch found with id '{ident}'"))
            return None
        return batch

    def _polled(self, h: Handler, family: str, ident: str) -> FakeBatch | None:
        from tests.helpers.fake_provider.server import FAMILIES

        with self._lock:
            if self.fail_polls:
                self.fail_polls -= 1
                fail = True
            else:
                fail = False
                self.polls += 1
        if fail:
            return self._send(h, family, "error", 500, FAMILIES[family].error_body(
                500, "The server had an error while processing your request."))
        batch = self._find(h, family, ident)
        if batch is not None:
            with self._lock:
                self._advance(batch)
        return batch

    def _cancel(self, h: Handler, family: str, ident: str) -> FakeBatch | None:
        batch = self._find(h, family, ident)
        if batch is not None:
            with self._lock:
                self.cancelled.append(batch.id)
                if not batch.ended and not batch.cancel_at:
                    batch.cancel_at = time.time()
        return batch

    def _advance(self, b: FakeBatch) -> None:
        """One poll's worth of progress (under the lock)."""
        if b.ended:
            return
        b.polls += 1
        if b.cancel_at:  # cancelling takes one poll; what ran so far is kept
            return self._end(b, "cancelled", b.processed)
        if self.hold:
            return
        if b.expire:
            return self._end(b, "expired", min(b.expire_done, b.total))
        if b.polls >= self.polls_to_finish:
            return self._end(b, "completed", b.total)
        b.processed = b.total * b.polls // max(self.polls_to_finish, 1)

    def _end(self, b: FakeBatch, outcome: str, finished: int) -> None:
        b.results = []
        for i, (custom_id, body) in enumerate(b.requests):
            if i >= finished:
                b.results.append({"outcome": "expired" if outcome == "expired" else "canceled",
                                  "body": None})
                continue
            b.results.append(self._answer(b.family, body, b.model))
        b.processed = finished
        b.ended, b.outcome = time.time(), outcome
        if b.family == "openai":
            self._openai_files(b)

    def _answer(self, family_name: str, body: dict, model: str) -> dict:
        """One request answered as the chat endpoint would (the next scripted behaviour)."""
        from tests.helpers.fake_provider.server import FAMILIES

        family = FAMILIES[family_name]
        model = str(body.get("model") or model)
        b = self.fake._next_behaviour(model)
        if b.status >= 400:
            message = b.error_message or f"Error {b.status}"
            error = family.error_body(b.status, message, b.error_type, b.error_code, b.error_param)
            return {"outcome": "errored", "status": b.status, "body": error}
        return {"outcome": "succeeded", "body": family.whole(family.make_call(body, model, False, b))}

    # ----- sending, read back with the SDKs -----
    def _invalid(self, h: Handler, family_name: str, record: Recorded) -> None:
        from tests.helpers.fake_provider.server import FAMILIES

        message = "Invalid request: " + "; ".join(record.validation_errors[:5])
        self._send(h, family_name, "error", 400, FAMILIES[family_name].error_body(400, message))

    def _send(self, h: Handler, family: str, kind: str, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self._check(family, kind, data)
        h.send_json(status, data)

    def _send_lines(self, h: Handler, family: str, data: bytes) -> None:
        for line in data.decode().splitlines():
            self._check(family, "line", line.encode())
        h.send_response(200)
        h.send_header("Content-Type", "application/binary" if family == "openai"
                      else "application/x-jsonl")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _check(self, family: str, kind: str, data: bytes) -> None:
        if not self.fake.sdk_checks:
            return
        try:
            problems = _read_back(family, kind, data)
        except sdk.MissingSDK as e:
            problems = [str(e)]
        if problems:
            with self.fake._lock:
                self.fake.wire_errors += [f"{family} batch {kind}: {p}" for p in problems]


def _read_back(family: str, kind: str, data: bytes) -> list[str]:
    """What an official client would make of what the fake sends."""
    if kind == "error":
        from tests.helpers.fake_provider.server import FAMILIES

        return FAMILIES[family].check_sent("error", data)
    if family == "openai":
        types = sdk.load("openai.types")
        if kind == "batch":
            return sdk.response_errors(types.Batch, data)
        if kind == "file":
            return sdk.response_errors(types.FileObject, data)
        if kind == "line":  # BatchRequestOutput: the SDK has no model for the line itself
            line = json.loads(data)
            problems = [] if set(line) == {"id", "custom_id", "response", "error"} else [
                f"a result line is id, custom_id, response, error; not {sorted(line)}"]
            response = line.get("response")
            if response is not None:
                body = json.dumps(response["body"])
                problems += (sdk.response_errors(sdk.load("openai.types.chat").ChatCompletion, body)
                             if response["status_code"] == 200
                             else openai.FAMILY.check_sent("error", body.encode()))
            return problems
    if family == "anthropic":
        batches = sdk.load("anthropic.types.messages")
        if kind == "batch":
            return sdk.response_errors(batches.MessageBatch, data)
        if kind == "line":
            return sdk.response_errors(batches.MessageBatchIndividualResponse, data)
    return []  # Gemini: no SDK in the test extra


def _multipart(content_type: str, raw: bytes) -> dict[str, tuple[str | None, bytes]]:
    """The parts of a multipart/form-data body: name -> (filename, content)."""
    if not content_type.startswith("multipart/form-data"):
        return {}
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
    parts = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            parts[str(name)] = (part.get_filename(), part.get_payload(decode=True) or b"")
    return parts
