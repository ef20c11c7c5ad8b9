"""Reading a document file into text blocks that keep its structure: headings, paragraphs, records.

Chunking needs to know where a section starts and which heading a paragraph sits under, so a
file is read into `Block`s rather than one string: Markdown headings and fenced code, HTML
headings/paragraphs/list items/table rows (the standard library's parser), PDF pages (pypdf),
and CSV/JSONL rows as one record each ("column: value" lines). Plain text is split on blank
lines. A file that cannot be read raises `DocumentError` naming the file and what to do.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

SUFFIXES = {".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown",
            ".html": "html", ".htm": "html", ".pdf": "pdf", ".csv": "csv", ".jsonl": "jsonl"}


class DocumentError(ValueError):
    """A document that cannot be read; the message names the file and what to do."""


@dataclass
class Block:
    """A piece of a document that chunking keeps whole where it can."""

    text: str
    headings: tuple[str, ...] = ()  # the section path it sits under, outermost first
    kind: str = "paragraph"  # paragraph | heading | code | record | page


@dataclass
class Document:
    name: str  # the file name, as citations show it
    kind: str  # one of SUFFIXES' values
    text: str  # the whole text, for the workspace and for hashing
    blocks: list[Block] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def read_document(path: Path) -> Document:
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DocumentError(f"{path}: cannot read {path.suffix or 'files without a suffix'} "
                            f"files; use one of {', '.join(sorted(SUFFIXES))}.")
    try:
        if kind == "pdf":
            blocks = _pdf_blocks(path)
        else:
            raw = path.read_bytes()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise DocumentError(f"{path}: not UTF-8 text (byte {exc.start}); save it as "
                                    "UTF-8 and add it again.") from None
            blocks = _READERS[kind](text, path)
    except OSError as exc:
        raise DocumentError(f"{path}: cannot be read ({exc.strerror}).") from None
    blocks = [b for b in blocks if b.text.strip()]
    return Document(path.name, kind, "\n\n".join(b.text for b in blocks), blocks)


# ----- plain text and Markdown ------------------------------------------------------------------

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^(```|~~~)")


def _paragraphs(text: str, headings: tuple[str, ...] = ()) -> list[Block]:
    return [Block(p.strip(), headings) for p in re.split(r"\n\s*\n", text) if p.strip()]


def _text_blocks(text: str, _path: Path) -> list[Block]:
    return _paragraphs(text)


def _markdown_blocks(text: str, _path: Path) -> list[Block]:
    blocks: list[Block] = []
    path: list[str] = []
    levels: list[int] = []
    buffer: list[str] = []
    fence: str | None = None

    def flush() -> None:
        blocks.extend(_paragraphs("\n".join(buffer), tuple(path)))
        buffer.clear()

    for line in text.splitlines():
        if fence is not None:
            buffer.append(line)
            if line.strip().startswith(fence):
                blocks.append(Block("\n".join(buffer), tuple(path), "code"))
                buffer.clear()
                fence = None
            continue
        opened = _FENCE.match(line.strip())
        if opened:
            flush()
            fence = opened.group(1)
            buffer.append(line)
            continue
        heading = _MD_HEADING.match(line)
        if heading:
            flush()
            level = len(heading.group(1))
            while levels and levels[-1] >= level:
                levels.pop()
                path.pop()
            levels.append(level)
            path.append(heading.group(2))
            blocks.append(Block(line.strip(), tuple(path), "heading"))
            continue
        buffer.append(line)
    if fence is not None:  # an unclosed fence: keep what it holds as code
        blocks.append(Block("\n".join(buffer), tuple(path), "code"))
        buffer.clear()
    flush()
    return blocks


# ----- HTML -------------------------------------------------------------------------------------

class _HtmlBlocks(HTMLParser):
    BLOCKS = {"p", "li", "pre", "blockquote", "tr", "dt", "dd", "div", "section", "article",
              "td", "th", "caption", "figcaption"}
    HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
    SKIP = {"script", "style", "noscript", "template", "head"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.path: list[str] = []
        self.levels: list[int] = []
        self.text: list[str] = []
        self.skipping = 0
        self.heading_level: int | None = None

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.HEADINGS or tag in self.BLOCKS:
            self._flush()
            if tag in self.HEADINGS:
                self.heading_level = self.HEADINGS[tag]
        elif tag == "br":
            self.text.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.HEADINGS and self.heading_level is not None:
            title = " ".join("".join(self.text).split())
            self.text.clear()
            level, self.heading_level = self.heading_level, None
            if title:
                while self.levels and self.levels[-1] >= level:
                    self.levels.pop()
                    self.path.pop()
                self.levels.append(level)
                self.path.append(title)
                self.blocks.append(Block(title, tuple(self.path), "heading"))
        elif tag in self.BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.text.append(data)

    def _flush(self) -> None:
        if self.heading_level is not None:
            return
        text = " ".join("".join(self.text).split())
        self.text.clear()
        if text:
            self.blocks.append(Block(text, tuple(self.path)))

    def close(self) -> None:
        super().close()
        self.heading_level = None
        self._flush()


def _html_blocks(text: str, _path: Path) -> list[Block]:
    parser = _HtmlBlocks()
    parser.feed(text)
    parser.close()
    return parser.blocks


# ----- PDF ---------------------------------------------------------------------------------------

def _pdf_blocks(path: Path) -> list[Block]:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError:
        raise DocumentError(f"{path}: reading PDF files needs the pypdf library, which this "
                            "installation lacks; install it (pip install pypdf) or reinstall "
                            "prompt-lab, or add a text version of the file.") from None

    try:
        reader = PdfReader(path)
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError) as exc:
        raise DocumentError(f"{path}: not a readable PDF ({exc}).") from None
    if not any(p.strip() for p in pages):
        raise DocumentError(f"{path}: the PDF has no text layer (a scan?); run it through OCR "
                            "first, or add a text version.")
    blocks = []
    for number, page in enumerate(pages, start=1):
        blocks += _paragraphs(page, (f"page {number}",))
    return blocks


# ----- records ------------------------------------------------------------------------------------

def _record(values: dict[str, object]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in values.items() if v not in (None, ""))


def _csv_blocks(text: str, path: Path) -> list[Block]:
    try:
        rows = list(csv.DictReader(io.StringIO(text)))
    except csv.Error as exc:
        raise DocumentError(f"{path}: not valid CSV ({exc}).") from None
    return [Block(_record(row), (f"row {i}",), "record") for i, row in enumerate(rows, start=2)]


def _jsonl_blocks(text: str, path: Path) -> list[Block]:
    blocks = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DocumentError(f"{path}, line {line_number}: not valid JSON ({exc.msg}); each "
                                "line must be one JSON object.") from None
        text_of = _record(value) if isinstance(value, dict) else str(value)
        blocks.append(Block(text_of, (f"line {line_number}",), "record"))
    return blocks


_READERS = {"text": _text_blocks, "markdown": _markdown_blocks, "html": _html_blocks,
            "csv": _csv_blocks, "jsonl": _jsonl_blocks}
