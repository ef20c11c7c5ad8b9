"""Ollama's native /api/chat as the fake speaks it: request checks, replies (whole and NDJSON
lines), errors and the model list (/api/tags).

No official SDK is in the test extra, so the request rules are written here by hand from the
API reference; what the fake sends is not read back.
"""

from __future__ import annotations

from tests.helpers.fake_provider.wire import Call, Family, ndjson, unknown_fields

FIELDS = {"model", "messages", "format", "options", "stream", "keep_alive", "tools", "think"}
OPTIONS = {"temperature", "top_p", "top_k", "min_p", "seed", "num_predict", "num_ctx", "stop",
           "repeat_penalty", "repeat_last_n", "presence_penalty", "frequency_penalty", "mirostat",
           "num_gpu", "num_thread", "typical_p", "tfs_z"}


class Ollama(Family):
    name = "ollama"
    content_type = "application/x-ndjson"
    finish = {"stop": "stop", "length": "length"}

    # ----- requests -----
    def rule_errors(self, body: dict, headers: dict[str, str], query: dict, stream: bool) -> list[str]:
        errors = unknown_fields(body, FIELDS, "unknown field {!r}")
        if not isinstance(body.get("model"), str):
            errors.append("model is required")
        for i, m in enumerate(body.get("messages") or []):
            if m.get("role") not in ("system", "user", "assistant", "tool") or not isinstance(m.get("content"), str):
                errors.append(f"messages[{i}]: bad role or content")
        if not body.get("messages"):
            errors.append("messages must be a non-empty list")
        if "stream" in body and not isinstance(body["stream"], bool):
            errors.append("stream must be a boolean")
        errors += unknown_fields(body.get("options") or {}, OPTIONS, "options.{}: unknown option")
        if "format" in body and not (body["format"] == "json" or isinstance(body["format"], dict)):
            errors.append("format must be \"json\" or a JSON schema")
        return errors

    def wants_json(self, body: dict) -> bool:
        return "format" in body

    # ----- replies: one JSON object per line, the last one with done: true and the counts -----
    def _done(self, c: Call) -> dict:
        # 20 ms per generated token: a steady 50 tokens/s.
        return {"done_reason": self.finish[c.behaviour.finish], "done": True, "total_duration": 5191566416,
                "load_duration": 2154458, "prompt_eval_count": c.input_tokens, "prompt_eval_duration": 383809000,
                "eval_count": c.output_tokens, "eval_duration": c.output_tokens * 20_000_000}

    def whole(self, c: Call) -> dict:
        return {"model": c.model, "created_at": "2023-12-12T14:13:43.416799Z",
                "message": {"role": "assistant", "content": c.text}, **self._done(c)}

    def content(self, c: Call, i: int, piece: str) -> bytes:
        return ndjson({"model": c.model, "created_at": "2023-08-04T08:52:19.385406455-07:00",
                       "message": {"role": "assistant", "content": piece, "images": None}, "done": False})

    def ending(self, c: Call) -> list[bytes]:
        return [ndjson({"model": c.model, "created_at": "2023-08-04T19:22:45.499127Z",
                        "message": {"role": "assistant", "content": ""}, **self._done(c)})]

    def error_event(self, c: Call) -> bytes:
        return ndjson(self.error_body(500, "an error was encountered while running the model: unexpected EOF"))

    def keep_alive(self) -> bytes | None:
        return None  # NDJSON has no comments

    def broken_chunk(self) -> bytes:
        return b"{not json\n"

    # ----- errors and model lists -----
    def error_body(self, status: int, message: str, type_: str | None = None,
                   code: str | None = None, param: str | None = None) -> dict:
        return {"error": message}

    def models_page(self, names: list[str], query: dict, size: int) -> dict:
        return {"models": [{"name": n, "modified_at": "2023-12-07T09:32:18.757212583-08:00", "size": 3825819519,
                            "digest": "fe938a", "details": {"format": "gguf", "family": "llama",
                                                            "parameter_size": "7B", "quantization_level": "Q4_0"}}
                           for n in names]}


FAMILY = Ollama()
