"""The export formats by the names the `lab export --format` option and the GUI accept."""

from __future__ import annotations

from lab.core.export import (
    alpaca,
    bedrock_claude,
    chat_jsonl,
    csv_table,
    openai_dpo,
    openai_sft,
    sharegpt,
    trl_conversational,
    vertex_gemini,
)
from lab.core.export.target import Target


class UnknownFormat(ValueError):
    """A format name the lab does not know; the message lists the ones it does."""


FORMATS: dict[str, Target] = {
    target.name: target
    for target in (
        openai_sft.TARGET,
        openai_dpo.TARGET,
        trl_conversational.SFT_TARGET,
        trl_conversational.DPO_TARGET,
        vertex_gemini.TARGET,
        bedrock_claude.TARGET,
        chat_jsonl.TOGETHER,
        chat_jsonl.FIREWORKS,
        chat_jsonl.MISTRAL,
        sharegpt.TARGET,
        alpaca.TARGET,
        csv_table.TARGET,
    )
}


def format_names() -> list[str]:
    return list(FORMATS)


def describe_formats() -> dict[str, str]:
    """Format name -> one line saying what it is, for `--help` and the export dialog."""
    return {name: target.description for name, target in FORMATS.items()}


def get_format(name: str) -> Target:
    try:
        return FORMATS[name.strip().lower()]
    except KeyError:
        raise UnknownFormat(
            f"Unknown export format {name!r}. Formats: {', '.join(FORMATS)}."
        ) from None
