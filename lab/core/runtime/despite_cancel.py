"""Work that must reach its end once begun (a batch's results being logged, a call's checks being
graded): awaited through a cancellation of the task that awaits it, so a Cancel or Ctrl-C never
leaves half of it written."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def despite_cancel(work: Awaitable[T]) -> tuple[T, bool]:
    """Await `work` to its end even if our task is cancelled meanwhile: (its result, whether a
    cancellation came). The caller re-raises the cancellation once it has used the result."""
    task = asyncio.ensure_future(work)
    interrupted = False
    while True:
        try:
            return await asyncio.shield(task), interrupted
        except asyncio.CancelledError:
            if task.cancelled():
                raise
            interrupted = True


async def to_the_end(work: Awaitable[T]) -> T:
    """Await `work` to its end despite a cancellation, then re-raise the cancellation if one came."""
    result, interrupted = await despite_cancel(work)
    if interrupted:
        raise asyncio.CancelledError
    return result
