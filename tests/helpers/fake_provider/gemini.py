"""Gemini generateContent / streamGenerateContent as the fake speaks it: request checks, replies
(whole and SSE), errors and the model list.

No official SDK is in the test extra, so the request rules are written here by hand from the
API reference; what the fake sends is not read back.
"""

from __future__ import annotations

from tests.helpers.fake_provider.wire import Call, Family, check_range, page, sse, unknown_fields

FIELDS = {"contents", "systemInstruction", "generationConfig", "safetySettings", "tools", "toolConfig",
          "cachedContent"}
GENERATION = {"temperature", "topP", "topK", "candidateCount", "maxOutputTokens", "stopSequences", "seed",
              "presencePenalty", "frequencyPenalty", "responseMimeType", "responseSchema",
              "responseJsonSchema", "responseLogprobs", "logprobs", "thinkingConfig", "responseModalities"}
STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
          429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}


class Gemini(Family):
    name = "gemini"
    finish = {"stop": "STOP", "length": "MAX_TOKENS"}

    # ----- requests -----
    def rule_errors(self, body: dict, headers: dict[str, str], query: dict, stream: bool) -> list[str]:
        errors = unknown_fields(body, FIELDS, 'Unknown name "{}": Cannot find field.')
        if "key" in query:
            errors.append("the API key was sent in the URL (?key=); send x-goog-api-key instead")
        if stream and query.get("alt") != ["sse"]:
            errors.append("streamGenerateContent without alt=sse")
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            errors.append("contents: must be a non-empty list")
            contents = []
        for i, c in enumerate(contents):
            if c.get("role") not in ("user", "model"):
                errors.append(f"contents[{i}].role: must be user or model")
            parts = c.get("parts")
            if not isinstance(parts, list) or not parts or not all(isinstance(p.get("text"), str) for p in parts):
                errors.append(f"contents[{i}].parts: must be a non-empty list of text parts")
        system = body.get("systemInstruction")
        if system is not None and not (isinstance(system, dict) and isinstance(system.get("parts"), list)):
            errors.append("systemInstruction: must be {parts: [{text}]}")
        config = body.get("generationConfig") or {}
        errors += unknown_fields(config, GENERATION, "generationConfig.{}: Cannot find field.")
        check_range(errors, config, "temperature", 0, 2)
        return errors

    def key_of(self, headers: dict[str, str], query: dict) -> str | None:
        return headers.get("x-goog-api-key") or (query.get("key") or [None])[0]

    def prompt_texts(self, body: dict) -> list[tuple[str, str]]:
        out = [("system", p.get("text", "")) for p in (body.get("systemInstruction") or {}).get("parts", [])]
        return out + [(c.get("role", ""), p.get("text", "")) for c in body.get("contents", [])
                      for p in c.get("parts", [])]

    def wants_json(self, body: dict) -> bool:
        return (body.get("generationConfig") or {}).get("responseMimeType") == "application/json"

    # ----- replies: every chunk is a whole response holding the next piece -----
    def usage(self, c: Call, output: int | None) -> dict:
        b = c.behaviour
        tools = b.tool_use_prompt_tokens
        usage = {"promptTokenCount": c.input_tokens,
                 "totalTokenCount": c.input_tokens + tools + (output or 0) + b.thinking_tokens,
                 "promptTokensDetails": [{"modality": "TEXT", "tokenCount": c.input_tokens}]}
        if output is not None:  # absent while only thoughts have been produced
            usage["candidatesTokenCount"] = output
        if tools:  # built-in tools' results (Google Search), outside promptTokenCount but billed as input
            usage["toolUsePromptTokenCount"] = tools
            usage["toolUsePromptTokensDetails"] = [{"modality": "TEXT", "tokenCount": tools}]
        if b.thinking_tokens:
            usage["thoughtsTokenCount"] = b.thinking_tokens
        if b.cached_tokens:
            usage["cachedContentTokenCount"] = b.cached_tokens
        return usage

    def _chunk(self, c: Call, text: str, output: int | None, last: bool, thought: bool = False) -> dict:
        part: dict = {"text": text, "thought": True} if thought else {"text": text}
        # A candidate that ends with nothing to say (MALFORMED_FUNCTION_CALL, a SAFETY stop
        # before any text) has no content at all, only its finish reason.
        cand: dict = {"content": {"parts": [part], "role": "model"}, "index": 0} if text or not last else {}
        cand["index"] = 0
        if last:
            cand["finishReason"] = self.finish.get(c.behaviour.finish, c.behaviour.finish)
        return {"candidates": [cand], "usageMetadata": self.usage(c, output),
                "modelVersion": c.model, "responseId": "fakeResponse0001"}

    def whole(self, c: Call) -> dict:
        return self._chunk(c, c.text, c.output_tokens, last=True)

    def preamble(self, c: Call) -> list[bytes]:
        if not c.behaviour.thinking_tokens:
            return []
        return [sse(self._chunk(c, "**Thinking it over**", None, last=False, thought=True))]

    def content(self, c: Call, i: int, piece: str) -> bytes:
        return sse(self._chunk(c, piece, i + 1, last=i + 1 == len(c.pieces)))

    def error_event(self, c: Call) -> bytes:
        return sse(self.error_body(503, "The model is overloaded."))

    # ----- errors and model lists -----
    def error_body(self, status: int, message: str, type_: str | None = None,
                   code: str | None = None, param: str | None = None) -> dict:
        reason = ({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": code, "domain": "googleapis.com",
                   "metadata": {"service": "generativelanguage.googleapis.com"}} if code else None)
        return {"error": {"code": status, "message": message, "status": type_ or STATUS.get(status, "UNKNOWN"),
                          "details": [reason] if reason else []}}

    def with_details(self, error: dict, details: list[dict]) -> dict:
        return {"error": {**error["error"], "details": [*error["error"]["details"], *details]}}

    def auth_error(self, message: str) -> tuple[int, dict]:
        # Gemini answers a bad key with 400 API_KEY_INVALID, not a 401.
        return 400, self.error_body(400, "API key not valid. Please pass a valid API key. " + message,
                                    code="API_KEY_INVALID")

    def models_page(self, names: list[str], query: dict, size: int) -> dict:
        shown, more = page(names, (query.get("pageToken") or [None])[0], size)
        models = [{"name": f"models/{n}", "version": "001", "displayName": n, "inputTokenLimit": 1048576,
                   "outputTokenLimit": 65536,
                   "supportedGenerationMethods": ["embedContent"] if "embedding" in n
                   else ["generateContent", "countTokens"]} for n in shown]
        return {"models": models, **({"nextPageToken": shown[-1]} if more else {})}


FAMILY = Gemini()
