"""promptfoo prompts (inline text, `file://` text files with `---` between prompts, chat-format
JSON/YAML message lists, `{id, label}` and `{raw, label}` objects) as the lab's prompt parts.

A text prompt is the user message; a chat prompt gives the system prompt, few-shot pairs and the
user message (`messages`). Nunjucks is converted to the lab's `{{variable}}`; what cannot be
expressed is reported with the original text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.core.importers.messages import NotAPrompt, PromptParts, is_message_list, split_messages
from lab.core.importers.report import ImportReport
from lab.core.importers.sources import is_file_ref, parse_json, parse_yaml, read_text, resolve
from lab.core.importers.templates import nunjucks
from lab.core.model import Example

TEXT_SUFFIXES = {".txt", ".md", ".j2", ".prompt", ".nunjucks", ".njk", ""}
_SEPARATOR = re.compile(r"^---[ \t]*$", re.MULTILINE)


@dataclass
class Prompt:
    where: str
    label: str
    ids: set[str]  # what a provider's `prompts:` list may call it (label, id, file reference)
    parts: PromptParts
    dotted: set[str]
    original: Any


def read_prompts(raw: Any, base: Path, report: ImportReport) -> list[Prompt]:
    if isinstance(raw, dict) and not ("raw" in raw or "id" in raw):
        items: list[Any] = [{"id": k, "label": v} for k, v in raw.items()]  # {file: label}
    else:
        items = raw if isinstance(raw, list) else [raw]
    prompts: list[Prompt] = []
    for i, item in enumerate(items, start=1):
        where = f"prompts[{i}]"
        label = item.get("label") if isinstance(item, dict) else None
        body = item.get("raw", item.get("id")) if isinstance(item, dict) else item
        if isinstance(item, dict):
            for key in sorted(set(item) - {"raw", "id", "label"}):
                report.skip(f"{where}.{key}", f"prompt option '{key}'", "the lab has no "
                            "per-prompt settings; set parameters on the variants", {key: item[key]})
        if not isinstance(body, str):
            report.skip(where, "prompt", "a prompt is text, a file:// reference or a message "
                        "list", item)
            continue
        found = _from_file(body, base, where, report) if is_file_ref(body) else [
            (where, body, _inline(body))]
        for n, (place, original, value) in enumerate(found, start=1):
            name = label or (f"{Path(body.removeprefix('file://')).stem}" if is_file_ref(body)
                             else f"prompt {i}")
            if len(found) > 1:
                name = f"{name} #{n}"
            prompt = _convert(place, str(name), value, original, report)
            if prompt is not None:
                prompt.ids |= {body, str(label or ""), str(i)}
                prompts.append(prompt)
    return prompts


def _inline(text: str) -> Any:
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError:
            return text
        if is_message_list(value):
            return value
    return text


def _from_file(ref: str, base: Path, where: str,
               report: ImportReport) -> list[tuple[str, str, Any]]:
    files = resolve(ref, base)
    if not files:
        report.skip(where, f"prompt {ref}", "no file matches it", ref)
        return []
    found = []
    for path in files:
        place = f"{where} ({path.name})"
        suffix = path.suffix.lower()
        if suffix in (".py", ".js", ".ts", ".mjs", ".cjs"):
            report.skip(place, f"prompt {ref}", "a prompt function runs code of its own; the lab "
                        "sends prompts as written", ref)
            continue
        text = read_text(path)
        if suffix == ".json":
            found.append((place, text, parse_json(text, str(path))))
        elif suffix in (".yaml", ".yml"):
            found.append((place, text, parse_yaml(text, str(path))))
        elif suffix == ".jsonl":
            for n, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    found.append((f"{place} line {n}", line, parse_json(line, f"{path}, line {n}")))
        elif suffix in TEXT_SUFFIXES:
            pieces = [p.strip("\n") for p in _SEPARATOR.split(text)] if _SEPARATOR.search(text) \
                else [text.rstrip("\n")]
            found += [(place, p, p) for p in pieces if p.strip()]
        else:
            report.skip(place, f"prompt {ref}", f"the lab reads prompts from text, JSON and YAML "
                        f"files, not '{suffix}'", ref)
    return found


def _convert(where: str, label: str, value: Any, original: Any,
             report: ImportReport) -> Prompt | None:
    if isinstance(value, str):
        parts = PromptParts(user=value)
    elif is_message_list(value):
        try:
            parts = split_messages(value)
        except NotAPrompt as exc:
            report.skip(where, f"prompt '{label}'", f"{exc}", original)
            return None
    else:
        report.skip(where, f"prompt '{label}'", "not text or a list of chat messages", original)
        return None
    dotted: set[str] = set()
    problems: list[str] = []

    def convert(text: str) -> str:
        done = nunjucks(text)
        problems.extend(done.problems)
        dotted.update(done.dotted)
        return done.text

    parts = PromptParts(
        system=convert(parts.system), user=convert(parts.user),
        examples=[Example(input=convert(e.input), output=convert(e.output))
                  for e in parts.examples])
    if problems:
        report.skip(where, f"prompt '{label}': {', '.join(dict.fromkeys(problems))}",
                    "Nunjucks filters, expressions and tags have no lab equivalent; they are "
                    "kept as written (and sent as written) until you edit them", original)
    shape = "chat prompt" if parts.system or parts.examples else "prompt"
    report.convert(where, f"{shape} '{label}'", "system prompt, examples and user message"
                   if shape == "chat prompt" else "user message")
    return Prompt(where, label, {label}, parts, dotted, original)
