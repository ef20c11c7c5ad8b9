"""A variant's output format: free text, the provider's JSON mode, or a JSON schema; and the
schema as a check on every output of that variant.

The format lives in the variant's `response_format` parameter, as the experiment file writes it:
absent (text), "json" (JSON mode) or a table `{type = "json_schema", name = "reply", schema =
{...}}`. A provider's structured-output mode is a request, not a promise (Anthropic has none and
gets an instruction; local servers vary), so a variant with a schema has every output validated
against it: the run plan adds an implicit `json-schema` check for that variant alone, named
"output schema", graded and logged like any other check.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from lab.core.model import Check, Variant

OutputFormat = Literal["text", "json", "schema"]
SCHEMA_CHECK_NAME = "output schema"
DEFAULT_SCHEMA_NAME = "reply"


def output_format(params: dict[str, Any]) -> OutputFormat:
    fmt = params.get("response_format")
    if isinstance(fmt, dict):
        return "schema" if fmt.get("type") == "json_schema" else "json"
    if fmt in ("json", "json_object"):
        return "json"
    return "text"


def output_schema(params: dict[str, Any]) -> dict[str, Any] | None:
    """The schema a variant asks for, or None (text, JSON mode, or a schema that is not an
    object: the plan reports that as a problem)."""
    fmt = params.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = fmt.get("schema")
        if isinstance(schema, str):
            try:
                schema = json.loads(schema)
            except json.JSONDecodeError:
                return None
        return schema if isinstance(schema, dict) else None
    return None


def with_output_format(params: dict[str, Any], fmt: OutputFormat,
                       schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """`params` with the output format set (a new dict; the others are kept)."""
    updated = {k: v for k, v in params.items() if k != "response_format"}
    if fmt == "json":
        updated["response_format"] = "json"
    elif fmt == "schema":
        old = params.get("response_format")
        name = old.get("name") if isinstance(old, dict) else None
        updated["response_format"] = {"type": "json_schema", "name": name or DEFAULT_SCHEMA_NAME,
                                      "schema": schema if schema is not None else {"type": "object"}}
    return updated


def schema_check(variant: Variant) -> Check | None:
    """The implicit check a variant with a schema gets: every output must match it."""
    schema = output_schema(variant.params)
    if schema is None:
        return None
    return Check(type="json-schema", name=SCHEMA_CHECK_NAME, config={"schema": schema})
