"""The official `openai` and `anthropic` SDKs (the test extra) as the reference the fake checks
traffic against: request bodies against their request parameter types, what the fake sends
against their response models. Both SDKs describe the wire format from the providers' own API
definitions, independently of this repository.

The SDKs' request types are TypedDicts, meant for type checkers, and pydantic validates them
leniently: extra keys are ignored, `Iterable[...]` fields (`messages`, `tools`) are checked lazily
(never, unless iterated) and "0.5" passes as a float. `request_errors` tightens all three, so
an unknown field, a bad message role or a mistyped value is reported the way the APIs
themselves refuse it. Response models allow extra fields for forward compatibility;
`response_errors` reports them too, since a field the SDK does not know is one the fake made up.

pydantic comes with the SDKs, so it is imported only once an SDK has loaded: without the test
extra the plugin still loads, and the tests that need the SDKs fail saying what to install.
"""

from __future__ import annotations

import functools
import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import TypeAdapter, ValidationError
    from pydantic_core import SchemaValidator

HINT = "run ./scripts/test.sh, which installs the test extra (pip install -e '.[test]')"


class MissingSDK(RuntimeError):
    """The SDK the fake checks against is not installed: that fails the test, it is never skipped."""


def load(module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as e:
        sdk = module.split(".")[0]
        raise MissingSDK(f"the {sdk} SDK checks the fake's {sdk} traffic but cannot be imported ({e}): "
                         f"{HINT}") from e


def warm_up() -> None:
    """Import both SDKs now (about two seconds), not inside the first timed request."""
    for module in ("openai.types.chat", "anthropic.types"):
        try:
            load(module)
        except MissingSDK:
            pass  # every request it was needed for says so


# ----- requests ----------------------------------------------------------------------------

def _tightened(schema: Any) -> Any:
    """A pydantic-core schema with every TypedDict closed to extra keys and every lazily
    checked iterable (a "generator" schema) turned into a list, checked at once. Models are
    closed too: request types accept some response models (Anthropic's content blocks take a
    `ContentBlock`), which would otherwise let any extra key through."""
    if isinstance(schema, list):
        return [_tightened(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _tightened(v) for k, v in schema.items()}
    if out.get("type") == "generator":
        out["type"] = "list"
    elif out.get("type") in ("typed-dict", "model-fields"):
        out["extra_behavior"] = "forbid"
    return out


@functools.cache
def _request_validator(params: type) -> SchemaValidator:
    from pydantic import TypeAdapter
    from pydantic_core import SchemaValidator

    return SchemaValidator(_tightened(TypeAdapter(params).core_schema))


def request_errors(params: type, body: Any) -> list[str]:
    """What is wrong with `body` as an instance of the SDK's request TypedDict `params`.
    Strict: JSON has no "number as a string", so neither has the check."""
    from pydantic import ValidationError

    try:
        _request_validator(params).validate_python(body, strict=True)
    except ValidationError as e:
        return describe(e)
    return []


# ----- responses ---------------------------------------------------------------------------

@functools.cache
def _adapter(model: Any) -> TypeAdapter:
    from pydantic import TypeAdapter

    return TypeAdapter(model)


def response_errors(model: Any, data: bytes | str) -> list[str]:
    """What keeps `data` (JSON text) from parsing as the SDK's `model`, strictly, and any field
    in it the model does not know."""
    from pydantic import ValidationError

    try:
        parsed = _adapter(model).validate_json(data, strict=True)
    except ValidationError as e:
        return describe(e)
    return [f"{where}: not a field of the SDK's model" for where in _extras(parsed, "")]


def _extras(value: Any, where: str) -> list[str]:
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        found = [f"{where}.{k}".lstrip(".") for k in value.model_extra or {}]
        for name in type(value).model_fields:
            found += _extras(getattr(value, name), f"{where}.{name}")
        return found
    if isinstance(value, (list, tuple)):
        return [e for i, item in enumerate(value) for e in _extras(item, f"{where}.{i}")]
    if isinstance(value, dict):
        return [e for k, item in value.items() for e in _extras(item, f"{where}.{k}")]
    return []


# ----- messages ----------------------------------------------------------------------------

_TYPE_NAMES = {"str", "int", "float", "bool", "dict", "list", "none"}


def _is_union_member(part: Any) -> bool:
    """pydantic names the union member it tried in an error's location ("ChatCompletionUser-
    MessageParam", "list[str]", "str"): not part of the JSON path."""
    return isinstance(part, str) and (part[:1].isupper() or "[" in part or part in _TYPE_NAMES)


def describe(error: ValidationError, limit: int = 8) -> list[str]:
    """One line per JSON path, the union members' complaints joined: "messages.0.role: Input
    should be 'developer' | Input should be 'system' | ..."."""
    grouped: dict[str, list[str]] = {}
    for e in error.errors(include_url=False):
        where = ".".join(str(p) for p in e["loc"] if not _is_union_member(p)) or "<body>"
        messages = grouped.setdefault(where, [])
        if e["msg"] not in messages:
            messages.append(e["msg"])
    lines = [f"{where}: {' | '.join(messages)}" for where, messages in grouped.items()]
    return lines[:limit] + ([f"... and {len(lines) - limit} more"] if len(lines) > limit else [])
