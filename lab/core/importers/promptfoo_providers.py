"""promptfoo providers (`openai:gpt-4o-mini`, `anthropic:messages:...`, objects with `id`, `label`
and `config`) as the lab's providers, models and variant parameters.

The lab speaks four API families (OpenAI Chat Completions, Anthropic Messages, Gemini, Ollama).
A provider id of one of them becomes `provider/model`; a few hosts that speak the OpenAI API
(Groq, OpenRouter, Mistral, DeepSeek, Together) become inline providers of the `openai` kind; a
custom base URL, key variable or headers make an inline provider too. Generation settings become
the variant's parameters. Anything else is reported, never dropped silently; an API key is never
copied, not even into the report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lab.core.importers.report import ImportReport
from lab.core.importers.sources import is_file_ref, load_data, resolve
from lab.core.providers.base import DEFAULT_BASE_URLS

# promptfoo id prefix -> (base URL, key variable), for hosts that speak the OpenAI API
OPENAI_COMPATIBLE = {
    "groq": ("https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    "openrouter": ("https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
    "mistral": ("https://api.mistral.ai/v1", "MISTRAL_API_KEY"),
    "deepseek": ("https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
    "togetherai": ("https://api.together.xyz/v1", "TOGETHER_API_KEY"),
}
_OPENAI_OTHER_APIS = {"completion", "embedding", "embeddings", "assistant", "image", "realtime",
                      "moderation", "transcription", "agents", "chatkit", "video"}
_PARAMS = {"temperature", "top_p", "max_tokens", "seed", "stop", "presence_penalty",
           "frequency_penalty"}
_RENAMED = {"max_completion_tokens": "max_tokens", "num_predict": "max_tokens",
            "topP": "top_p", "topK": "top_k", "maxOutputTokens": "max_tokens",
            "stopSequences": "stop", "max_output_tokens": "max_tokens"}
_TOP_K_KINDS = {"anthropic", "gemini", "ollama"}


class NotConvertible(ValueError):
    pass


@dataclass
class Target:
    """Where one promptfoo provider's calls go in the lab."""

    model: str  # provider/model
    label: str
    params: dict[str, Any] = field(default_factory=dict)
    prompts: list[str] | None = None  # the prompt labels or ids it is limited to (`prompts:`)


@dataclass
class ProviderSet:
    """The inline providers the experiment needs, one per distinct setting."""

    tables: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, preferred: str, table: dict[str, Any]) -> str:
        for name, existing in self.tables.items():
            if existing == table:
                return name
        base = re.sub(r"[^A-Za-z0-9_-]+", "-", preferred).strip("-").lower() or "provider"
        name, n = base, 2
        while name in self.tables or name in DEFAULT_BASE_URLS:
            name, n = f"{base}-{n}", n + 1
        self.tables[name] = table
        return name


def parse_id(pid: str) -> tuple[str, str, str, str]:
    """(kind, lab provider name, model, approximation or "") for a promptfoo provider id."""
    head, _, rest = pid.partition(":")
    first = rest.split(":", 1)[0]
    if head == "openai":
        if first in _OPENAI_OTHER_APIS:
            raise NotConvertible(f"OpenAI's {first} API is not one the lab calls (it sends Chat "
                                 "Completions)")
        if first == "responses":
            return ("openai", "openai", rest.removeprefix("responses:"),
                    "sent through the Chat Completions API, not the Responses API")
        return "openai", "openai", rest.removeprefix("chat:"), ""
    if head == "anthropic":
        if first == "completion":
            raise NotConvertible("Anthropic's legacy Text Completions API is not one the lab calls")
        return "anthropic", "anthropic", rest.removeprefix("messages:"), ""
    if head == "google":
        return "gemini", "gemini", rest.removeprefix("chat:"), ""
    if head == "vertex":
        model = rest.removeprefix("chat:")
        if not model.startswith("gemini"):
            raise NotConvertible("Vertex AI models other than Gemini have no lab equivalent")
        return ("gemini", "gemini", model, "the same Gemini model through the Gemini API (an API "
                "key), not Vertex AI (a Google Cloud project)")
    if head == "ollama":
        if first in ("embeddings", "embedding"):
            raise NotConvertible("Ollama embeddings are not chat calls")
        if first == "chat":
            return "ollama", "ollama", rest.removeprefix("chat:"), ""
        return ("ollama", "ollama", rest.removeprefix("completion:"),
                "sent through Ollama's chat API, not its generate API")
    if head in OPENAI_COMPATIBLE:
        return "openai", head, rest.removeprefix("chat:"), ""
    if head in ("http", "https", "exec", "python", "file", "golang", "ruby") or pid.endswith(
            (".js", ".py", ".ts", ".mjs")):
        raise NotConvertible("a custom provider (a script, a command or a web hook) runs code of "
                             "its own; the lab calls model APIs directly")
    raise NotConvertible(f"'{head}' providers have no lab equivalent (the lab calls the OpenAI, "
                         "Anthropic, Gemini and Ollama APIs, and OpenAI-compatible servers)")


def convert_provider(raw: Any, where: str, report: ImportReport, providers: ProviderSet,
                     base_dir) -> Target | None:
    """The lab target for one entry of promptfoo's `providers`, or None (reported)."""
    if isinstance(raw, str):
        pid, options = raw, {}
    elif isinstance(raw, dict) and isinstance(raw.get("id"), str):
        pid, options = raw["id"], raw
    elif isinstance(raw, dict) and len(raw) == 1 and isinstance(next(iter(raw.values())), dict):
        pid, options = next(iter(raw.items()))  # the older { "openai:gpt-4o": {config: ...} }
    else:
        report.skip(where, "provider", "not a provider id or an object with an 'id'", raw)
        return None
    label = options.get("label") or pid
    try:
        kind, name, model, approximation = parse_id(pid)
    except NotConvertible as exc:
        report.skip(where, f"provider '{pid}'", str(exc), raw)
        return None
    if not model:
        report.skip(where, f"provider '{pid}'", "it names no model", raw)
        return None
    table: dict[str, Any] = {}
    if name in OPENAI_COMPATIBLE:
        url, key_env = OPENAI_COMPATIBLE[name]
        table = {"kind": "openai", "base_url": url, "api_key_env": key_env}
    target = Target(model="", label=str(label))
    for key, value in options.items():
        here = f"{where}.{key}"
        if key in ("id", "label"):
            continue
        if key == "prompts" and isinstance(value, list):
            target.prompts = [str(v) for v in value]
        elif key == "config" and isinstance(value, dict):
            _config(value, kind, here, report, target, table, base_dir)
        else:
            report.skip(here, f"provider option '{key}'", "not part of a lab experiment "
                        "(the lab has no per-provider transform, delay or environment)",
                        {key: value})
    if table:
        table.setdefault("kind", kind)
        name = providers.add(name if name in OPENAI_COMPATIBLE else str(label), table)
    target.model = f"{name}/{model}"
    became = f"model {target.model}"
    if target.params:
        became += f" with {_params_text(target.params)}"
    if approximation:
        report.approximate(where, f"provider '{pid}'", became, approximation, raw)
    else:
        report.convert(where, f"provider '{pid}'", became)
    return target


def _params_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {v!r}" for k, v in params.items())


def _config(config: dict[str, Any], kind: str, where: str, report: ImportReport, target: Target,
            table: dict[str, Any], base_dir) -> None:
    for key, value in config.items():
        here = f"{where}.{key}"
        if key == "generationConfig" and isinstance(value, dict):
            _config(value, kind, here, report, target, table, base_dir)
            continue
        param = _RENAMED.get(key, key)
        if param in _PARAMS or (param == "top_k" and kind in _TOP_K_KINDS):
            target.params[param] = value
        elif key == "response_format":
            if is_file_ref(value):
                value = load_data(resolve(value, base_dir)[0])
            target.params["response_format"] = value
        elif key in ("apiBaseUrl", "apiHost", "baseUrl"):
            url = str(value)
            if key == "apiHost" and "://" not in url:
                url = f"https://{url}" + ("/v1" if kind == "openai" else "")
            table["base_url"] = url
        elif key in ("apiKeyEnvar", "apiKeyEnv"):
            table["api_key_env"] = str(value)
        elif key == "headers" and isinstance(value, dict):
            table["extra_headers"] = {str(k): str(v) for k, v in value.items()}
        elif key in ("apiKey", "api_key"):
            report.skip(here, "API key", "keys never go into experiment files: store it with "
                        "`lab keys set PROVIDER` or name its variable in api_key_env",
                        {key: "(redacted)"})
        else:
            report.skip(here, f"provider setting '{key}'", "the lab has no such setting for "
                        f"{kind} calls", {key: value})
