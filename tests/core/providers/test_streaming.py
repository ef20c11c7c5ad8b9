"""The SSE and NDJSON framing: events come out whole however the network splits the bytes."""

from __future__ import annotations

import asyncio

from lab.core.providers.streaming import (
    ndjson_lines,
    sse_events,
    sse_events_from_chunks,
)

OPENAI_STYLE = (
    b": OPENROUTER PROCESSING\n\n"
    b'data: {"choices":[{"delta":{"content":"H\xc3\xa9llo"}}]}\n\n'
    b": keep-alive\n"
    b'data: {"choices":[]}\r\n\r\n'
    b"data: [DONE]\n\n"
)


def _split_everywhere(blob: bytes) -> list[list[bytes]]:
    """Every way of cutting the blob into two chunks, plus one byte at a time."""
    cuts = [[blob[:i], blob[i:]] for i in range(len(blob) + 1)]
    return cuts + [[blob[i:i + 1] for i in range(len(blob))]]


def test_comment_lines_are_ignored_and_done_comes_through() -> None:
    events = sse_events_from_chunks([OPENAI_STYLE])
    assert [e.data for e in events] == [
        '{"choices":[{"delta":{"content":"Héllo"}}]}',
        '{"choices":[]}',
        "[DONE]",
    ]


def test_events_survive_any_chunk_boundary() -> None:
    # Splits inside the two-byte "é", between \r and \n, and inside "data:" must not matter.
    expected = sse_events_from_chunks([OPENAI_STYLE])
    for chunks in _split_everywhere(OPENAI_STYLE):
        assert sse_events_from_chunks(chunks) == expected


def test_named_events_and_multi_line_data() -> None:
    blob = (
        b"event: message_start\ndata: {\"a\":1}\n\n"
        b"event: ping\ndata: {\"type\": \"ping\"}\n\n"
        b"data: first line\ndata: second line\n\n"
        b"data:no-space\n\n"
    )
    events = sse_events_from_chunks([blob])
    assert [(e.event, e.data) for e in events] == [
        ("message_start", '{"a":1}'),
        ("ping", '{"type": "ping"}'),
        (None, "first line\nsecond line"),
        (None, "no-space"),
    ]


def test_last_event_without_blank_line_is_not_lost() -> None:
    events = sse_events_from_chunks([b'data: {"end": true}'])
    assert [e.data for e in events] == ['{"end": true}']


def test_async_sse_and_ndjson_over_byte_iterators() -> None:
    async def chunks(blob: bytes, size: int):
        for i in range(0, len(blob), size):
            yield blob[i:i + size]

    async def collect() -> tuple[list[str], list[str]]:
        sse = [e.data async for e in sse_events(chunks(OPENAI_STYLE, 3))]
        nd_blob = b'{"message":{"content":"a"},"done":false}\n\n{"done":true,"eval_count":2}'
        nd = [line async for line in ndjson_lines(chunks(nd_blob, 5))]
        return sse, nd

    sse, nd = asyncio.run(collect())
    assert sse[-1] == "[DONE]" and len(sse) == 3
    assert nd == ['{"message":{"content":"a"},"done":false}', '{"done":true,"eval_count":2}']
