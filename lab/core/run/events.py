"""What a run reports while it works: plain dataclasses handed to one callback.

The runner calls `on_event(event)` on its own event-loop thread, in the order things happen. The
command line draws a progress bar from them; the GUI's controller re-emits them as queued Qt
signals (the core never imports Qt). A callback must be quick: it runs between calls.

For one cell the order is CallStarted, CallDelta..., CallFinished, then (for each LLM-judge
check on a successful output) JudgeFinished. A retry after a stream was cut mid-reply sends
CallStarted again: the text shown so far is discarded and the reply starts over. RunStarted comes
first and RunFinished last. A batch run (see `batch`) reports each batch with BatchProgress; its
cells end with CallFinished when the batch's results are logged (no CallStarted or CallDelta:
nothing streams).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lab.core.checks.result import CheckResult
from lab.core.model import Call

if TYPE_CHECKING:  # annotations only
    from lab.core.run.plan import Cell


@dataclass(frozen=True)
class RunStarted:
    run_id: int
    experiment_id: int
    cells: int  # the whole matrix: variants × test cases × samples
    to_call: int  # cells this session will send to a provider
    from_cache: int  # cells answered from the cache
    already_done: int  # cells a resumed run had finished before
    resumed: bool


@dataclass(frozen=True)
class CallStarted:
    cell: Cell
    provider: str
    model: str
    judge: str | None = None  # the check's name, for an LLM-judge call


@dataclass(frozen=True)
class CallDelta:
    """Streamed text of a matrix call, as it arrives (judge calls do not stream to the UI)."""

    cell: Cell
    text: str


@dataclass(frozen=True)
class CallFinished:
    """A matrix call ended: ok, error or cancelled, or was answered from the cache.

    `call.id` is filled in once the writer has saved it (always by RunFinished).
    """

    cell: Cell
    call: Call
    checks: list[CheckResult] = field(default_factory=list)
    cached: bool = False


@dataclass(frozen=True)
class JudgeFinished:
    """An LLM judge graded a cell's output; `result` is None when the judge call failed."""

    cell: Cell
    check_name: str
    call: Call
    result: CheckResult | None


@dataclass(frozen=True)
class ProviderLimit:
    """How many calls a provider may have in flight now: sent when the run starts and whenever
    the adaptive limit moves (halved on a rate limit, grown while the provider keeps up)."""

    provider: str
    limit: int
    ceiling: int


@dataclass(frozen=True)
class BatchProgress:
    """A batch of a batch run moved (see `batch`): sent, polled, ended, logged, cancelled.

    `batch` is the workspace's id of the batch and `provider_batch_id` the provider's. `status`
    is the lab's: submitted, in_progress, cancelling, ended, collected (every result logged),
    not_submitted (the provider refused it) or waiting (left at the provider: a later
    `--resume` follows it). Counts are the provider's: `done` succeeded, `failed` errored,
    expired or cancelled, `pending` neither yet. `message` says what went wrong, if anything
    (a poll that failed and will be tried again, a batch that could not be followed)."""

    batch: int
    provider: str
    model: str
    provider_batch_id: str | None
    status: str
    provider_status: str = ""
    total: int = 0
    done: int = 0
    failed: int = 0
    pending: int = 0
    message: str = ""


@dataclass(frozen=True)
class BudgetReached:
    spent_usd: float
    budget_usd: float


@dataclass(frozen=True)
class RunFinished:
    """The run stopped. `status`: done, cancelled, budget (the cap stopped it), failed, or
    waiting (a batch run left batches at the provider: `--resume` collects them)."""

    run_id: int
    status: str
    calls: int  # calls that ended in this session (matrix and judge, cache answers included)
    errors: int
    cached: int
    spent_usd: float  # this run so far, earlier sessions of a resumed run included
    message: str = ""


RunEvent = (RunStarted | CallStarted | CallDelta | CallFinished | JudgeFinished | ProviderLimit
            | BatchProgress | BudgetReached | RunFinished)
EventCallback = Callable[[RunEvent], None]
