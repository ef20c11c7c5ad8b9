"""Turn a streamed HTTP body into events: Server-Sent Events (OpenAI, Anthropic, Gemini) and
newline-delimited JSON (Ollama).

Both parsers take the raw byte chunks as they arrive. Network chunks split anywhere — inside a
multi-byte UTF-8 character, between "\\r" and "\\n", in the middle of a line — so decoding and
line splitting are incremental. Event meaning ([DONE], error events) is left to the family
modules; this module only frames.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import AsyncIterable, AsyncIterator, Iterable, Iterator


@dataclass
class SSEEvent:
    data: str
    event: str | None = None
    id: str | None = None


class LineSplitter:
    """Incremental UTF-8 decoding and line splitting on \\n, \\r\\n or \\r."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""

    def feed(self, chunk: bytes) -> Iterator[str]:
        self._buffer += self._decoder.decode(chunk)
        yield from self._drain(final=False)

    def close(self) -> Iterator[str]:
        self._buffer += self._decoder.decode(b"", final=True)
        yield from self._drain(final=True)

    def _drain(self, final: bool) -> Iterator[str]:
        buf = self._buffer
        start = 0
        i = 0
        while i < len(buf):
            ch = buf[i]
            if ch == "\n" or ch == "\r":
                if ch == "\r" and i + 1 == len(buf) and not final:
                    break  # could be the first half of \r\n; wait for the next chunk
                yield buf[start:i]
                if ch == "\r" and i + 1 < len(buf) and buf[i + 1] == "\n":
                    i += 1
                start = i + 1
            i += 1
        self._buffer = buf[start:]
        if final and self._buffer:
            yield self._buffer
            self._buffer = ""


class SSEDecoder:
    """Feeds lines, emits events: data lines joined with \\n, ':' comments ignored."""

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None

    def line(self, line: str) -> SSEEvent | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None  # keep-alive comment, e.g. ": OPENROUTER PROCESSING"
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value or None
        elif name == "id":
            self._id = value
        # "retry" and unknown fields are ignored, as the SSE standard says.
        return None

    def flush(self) -> SSEEvent | None:
        """End of stream: an event without its closing blank line still counts."""
        return self._dispatch()

    def _dispatch(self) -> SSEEvent | None:
        if not self._data:
            self._event = None
            return None
        event = SSEEvent(data="\n".join(self._data), event=self._event, id=self._id)
        self._data = []
        self._event = None
        return event


def sse_events_from_chunks(chunks: Iterable[bytes]) -> list[SSEEvent]:
    """Synchronous variant for tests and for bodies already in memory."""
    splitter, decoder, out = LineSplitter(), SSEDecoder(), []
    for chunk in chunks:
        out.extend(e for line in splitter.feed(chunk) if (e := decoder.line(line)))
    out.extend(e for line in splitter.close() if (e := decoder.line(line)))
    if (last := decoder.flush()) is not None:
        out.append(last)
    return out


async def sse_events(chunks: AsyncIterable[bytes]) -> AsyncIterator[SSEEvent]:
    splitter, decoder = LineSplitter(), SSEDecoder()
    async for chunk in chunks:
        for line in splitter.feed(chunk):
            if (event := decoder.line(line)) is not None:
                yield event
    for line in splitter.close():
        if (event := decoder.line(line)) is not None:
            yield event
    if (event := decoder.flush()) is not None:
        yield event


async def ndjson_lines(chunks: AsyncIterable[bytes]) -> AsyncIterator[str]:
    """One JSON document per non-empty line; parsing is left to the family module."""
    splitter = LineSplitter()
    async for chunk in chunks:
        for line in splitter.feed(chunk):
            if line.strip():
                yield line
    for line in splitter.close():
        if line.strip():
            yield line
