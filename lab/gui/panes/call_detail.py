"""Everything about one call, for the detail panel under the results grid and beside History:
the output (a JSON output pretty-printed, and said plainly when it is not valid JSON or does
not match the output schema), checks with reasons, usage and cost, the passages retrieval gave
it (citation id, document, rank, score; each text one click away), a chain's steps in order
(each step's request and output, latency, tokens and cost, and the totals), and the request.

`detail_html` renders it; `CallDetail` is the text view that shows it and opens and closes the
parts a click expands, keeping the rest of its links (such as "samples") for its owner.
"""

from __future__ import annotations

import html
import json
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QTextBrowser

from lab.core.checks.json_output import parse_json_output
from lab.core.run.output_format import SCHEMA_CHECK_NAME
from lab.gui.panes.result_cells import CellResult

GREEN, RED, GREY = "#2e8b57", "#c9302c", "gray"
PREVIEW = 140  # characters of a passage shown before it is expanded


def _grey(text: str) -> str:
    return f"<span style='color:{GREY}'>{text}</span>"


def _pre(text: str, colour: str = "") -> str:
    style = f"color:{colour};" if colour else ""
    return (f"<pre style='{style}white-space: pre-wrap; margin-top: 2px; margin-bottom: 4px'>"
            f"{html.escape(text)}</pre>")


def _as_json(text: str) -> str | None:
    """`text` pretty-printed when it is a JSON object or list, else None."""
    try:
        value = parse_json_output(text) if text.strip() else None
    except ValueError:
        return None
    return json.dumps(value, indent=2, ensure_ascii=False) if isinstance(value, (dict, list)) \
        else None


def _link(key: str, expanded: frozenset[str], shown: str, hidden: str) -> str:
    return f"<a href='toggle:{key}'>{hidden if key in expanded else shown}</a>"


def asks_json(request: dict[str, Any] | None) -> bool:
    """Whether the request asked for JSON (JSON mode or a schema), in any family's words."""
    if not request:
        return False
    if any(key in request for key in ("response_format", "format", "output_config")):
        fmt = request.get("response_format")
        return not (isinstance(fmt, dict) and fmt.get("type") == "text")
    config = request.get("generationConfig") or {}
    return config.get("responseMimeType") == "application/json"


def last_user_text(request: dict[str, Any]) -> str:
    """The last user message of a request body, whatever its family's shape."""
    for message in reversed(request.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
            return str(content or "")
    for turn in reversed(request.get("contents") or []):
        if turn.get("role", "user") == "user":
            return "\n".join(p.get("text", "") for p in turn.get("parts", []))
    return ""


def _output(cell: CellResult) -> list[str]:
    """The output: JSON pretty-printed when it is JSON (and whether it matched the schema)."""
    rows = []
    try:
        value = parse_json_output(cell.text) if cell.text.strip() else None
    except ValueError as exc:
        value = None
        if asks_json(cell.request) and cell.status == "ok":
            rows.append(f"<span style='color:{RED}'>✗ The output is {html.escape(str(exc))}"
                        "</span>")
    if isinstance(value, (dict, list)):
        if SCHEMA_CHECK_NAME in cell.checks:
            passed = cell.checks[SCHEMA_CHECK_NAME]
            reason = cell.reasons.get(SCHEMA_CHECK_NAME, "")
            rows.append(f"<span style='color:{GREEN}'>✓ matches the output schema</span>" if passed
                        else f"<span style='color:{RED}'>✗ does not match the output schema"
                             + (f": {html.escape(reason)}" if reason else "") + "</span>")
        rows.append("<b>Output</b> " + _grey("(JSON, pretty-printed)"))
        rows.append(_pre(json.dumps(value, indent=2, ensure_ascii=False)))
    else:
        rows.append(_pre(cell.text))
    return rows


def _passages(chunks: list[dict[str, Any]], expanded: frozenset[str]) -> list[str]:
    rows = [f"<b>Passages given</b> ({len(chunks)}) "
            + _link("passages", expanded, "show every text", "hide the texts")]
    every = "passages" in expanded
    for chunk in chunks:
        key = f"chunk:{chunk['rank']}"
        score = chunk.get("score")
        head = (f"{chunk['rank']}. <b>[{html.escape(chunk.get('citation') or '')}]</b> "
                f"{html.escape(chunk.get('document') or '')}"
                + (f" · score {score:.2f}" if score is not None else "")
                + (f" · {html.escape(chunk.get('method') or '')}" if chunk.get("method") else "")
                + (f" · {_grey(html.escape(chunk['heading']))}" if chunk.get("heading") else ""))
        text = chunk.get("text") or ""
        if every or key in expanded:
            rows.append(f"{head} {_link(key, expanded, '', 'hide')}" + _pre(text))
        else:
            flat = " ".join(text.split())
            preview = flat if len(flat) <= PREVIEW else flat[:PREVIEW - 1] + "…"
            rows.append(f"{head}<br>{_grey(html.escape(preview))} "
                        f"{_link(key, expanded, 'full text', '')}")
    return rows


def _steps(steps: list[dict[str, Any]], expanded: frozenset[str]) -> list[str]:
    latency = sum(s.get("latency_ms") or 0.0 for s in steps)
    costs = [s.get("cost_usd") for s in steps]
    cost = "unknown" if any(c is None for c in costs) else f"${sum(costs):.5f}"
    tokens_in = sum(s.get("input_tokens") or 0 for s in steps)
    tokens_out = sum(s.get("output_tokens") or 0 for s in steps)
    rows = [f"<b>Steps</b> ({len(steps)}) · total {latency / 1000:.2f} s · {cost} · "
            f"tokens {tokens_in} in → {tokens_out} out"]
    for number, step in enumerate(steps, start=1):
        facts = [f"{step.get('provider')}/{step.get('model')}", step.get("status") or ""]
        if step.get("latency_ms") is not None:
            facts.append(f"{step['latency_ms'] / 1000:.2f} s")
        facts.append(f"{step.get('input_tokens') or 0} → {step.get('output_tokens') or 0} tokens")
        facts.append(f"${step['cost_usd']:.5f}" if step.get("cost_usd") is not None
                     else "cost unknown")
        if step.get("cached_from_call_id") is not None:
            facts.append("from the cache")
        colour = RED if step.get("status") == "error" else ""
        rows.append(f"{number}. <b>{html.escape(step.get('step') or '')}</b> "
                    + _grey(html.escape(" · ".join(facts))))
        try:
            request = json.loads(step.get("request_json") or "{}")
        except json.JSONDecodeError:
            request = {}
        key = f"step:{number}"
        rows.append(_grey("Sent:") + _pre(last_user_text(request)) + " "
                    + _link(key, expanded, "whole request", "hide the request"))
        if key in expanded:
            rows.append(_pre(json.dumps(request, indent=2, ensure_ascii=False), GREY))
        if step.get("error_message"):
            rows.append(f"<span style='color:{RED}'>{html.escape(step['error_message'])}</span>")
        output = step.get("response_text") or ""
        rows.append(_grey("Output:") + _pre(_as_json(output) or output, colour))
    return rows


def detail_html(cell: CellResult | None, variant: str, case: str,
                parts: dict[str, list[dict[str, Any]]] | None = None,
                expanded: frozenset[str] = frozenset()) -> str:
    """Everything about one call. `parts`: its passages and chain steps (store.call_parts),
    once read; `expanded`: the parts opened by a click."""
    if cell is None:
        return f"<p style='color:gray'>{html.escape(case)} × {html.escape(variant)}: not run yet.</p>"
    rows = [f"<b>{html.escape(variant)}</b> · {html.escape(case)} · {html.escape(cell.model)}"
            f" · <i>{cell.status}</i>"]
    facts = []
    steps = (parts or {}).get("steps") or []
    if cell.latency_ms is not None:
        facts.append(f"latency {cell.latency_ms / 1000:.2f} s")
    if cell.ttft_ms is not None:
        facts.append(f"first token {cell.ttft_ms / 1000:.2f} s")
    if cell.input_tokens is not None:
        facts.append(f"tokens {cell.input_tokens} in → {cell.output_tokens or 0} out")
    if cell.cost_usd is not None:
        facts.append(f"cost ${cell.cost_usd:.5f}")
    if cell.cached:
        facts.append("answered from the cache")
    if facts:
        rows.append(_grey((f"chain of {len(steps)} steps, in all: " if steps else "")
                          + " · ".join(facts)))
    marker = cell.samples_marker()
    if marker:
        rows.append(f"<a href='samples'>{html.escape(marker)} — see them side by side</a>")
    for name, passed in cell.checks.items():
        reason = cell.reasons.get(name, "")
        mark = (f"<span style='color:{GREEN}'>✓</span>" if passed
                else f"<span style='color:{RED}'>✗</span>")
        rows.append(f"{mark} {html.escape(name)}" + (f" — {html.escape(reason)}" if reason else ""))
    if cell.judgement() or cell.note:
        rows.append(f"Your judgement: {html.escape(cell.judgement())}"
                    + (f" — {html.escape(cell.note)}" if cell.note else ""))
    if cell.error:
        rows.append(f"<p style='color:{RED}'>{html.escape(cell.error)}</p>")
    rows += _output(cell)
    if steps:  # a chain: its steps first, then what it retrieved
        rows += _steps(steps, expanded)
    chunks = (parts or {}).get("chunks") or []
    if chunks:
        rows += _passages(chunks, expanded)
    if cell.request:
        rows.append("<b>Request sent</b>" + (" (the last step's)" if steps else "")
                    + _pre(json.dumps(cell.request, indent=2, ensure_ascii=False), GREY))
    return "<br>".join(rows)


class CallDetail(QTextBrowser):
    """The detail of one call; a click on "full text", "whole request" and the like opens or
    closes that part in place. Other links are handed on as `link_clicked`."""

    link_clicked = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setOpenLinks(False)
        self._shown: tuple[CellResult, str, str] | None = None
        self._call_id: int | None = None
        self.parts: dict[str, list[dict[str, Any]]] | None = None
        self._expanded: frozenset[str] = frozenset()
        self.anchorClicked.connect(self._clicked)

    def show_call(self, cell: CellResult | None, variant: str, case: str,
                  parts: dict[str, list[dict[str, Any]]] | None = None) -> None:
        call_id = cell.logged_id if cell is not None else None
        if call_id != self._call_id or call_id is None:
            self._expanded = frozenset()
            self.parts = parts
        elif parts is not None:
            self.parts = parts
        self._call_id = call_id
        self._shown = (cell, variant, case) if cell is not None else None
        self._render(keep_scroll=False)
        if cell is None:
            self.setHtml(detail_html(None, variant, case))

    def set_parts(self, call_id: int, parts: dict[str, list[dict[str, Any]]]) -> None:
        """The passages and steps of `call_id`, read from the workspace: shown if still shown."""
        if call_id == self._call_id:
            self.parts = parts
            self._render(keep_scroll=True)

    def call_id(self) -> int | None:
        return self._call_id

    def clear(self) -> None:
        self._shown, self._call_id, self.parts = None, None, None
        super().clear()

    def _render(self, keep_scroll: bool) -> None:
        if self._shown is None:
            return
        bar = self.verticalScrollBar()
        position = bar.value()
        self.setHtml(detail_html(*self._shown, self.parts, self._expanded))
        if keep_scroll:
            bar.setValue(position)

    def _clicked(self, url: QUrl) -> None:
        link = url.toString()
        if not link.startswith("toggle:"):
            self.link_clicked.emit(link)
            return
        key = link.removeprefix("toggle:")
        self._expanded = self._expanded ^ {key}
        self._render(keep_scroll=True)
