"""How a batch stands, in words a person reads: its counts (done, failed, pending), its age, and
when it may end — for the window's batch list (rows of `Store.batches_for_run`).

When it may end. Providers report how many requests of a batch have finished, not when the rest
will. The estimate is the pace so far: the requests finished since the batch was sent, per
second, carried over the requests still pending. With nothing finished yet there is no pace to
go on, and the estimate says "unknown" — with the providers' own target (a batch ends within
24 hours of being sent, or its unfinished requests expire) as the only bound known. A pace that
would run past that window is capped at it, saying so. A batch in a provider's queue often
finishes nothing for a while and then a lot at once, so early estimates run long: the words
say "at the pace so far".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

TARGET = dt.timedelta(hours=24)  # OpenAI's completion window, Anthropic's expiry, Gemini's target


@dataclass(frozen=True)
class BatchStanding:
    done: int  # requests that succeeded
    failed: int  # errored, expired or cancelled
    pending: int  # neither yet
    age: str  # since it was sent: "12 min"
    ends: str  # short: "≈ 14:32", "unknown", "ended", "cancelling"
    ends_detail: str  # the same, with what it rests on


def standing(batch: dict[str, Any], now: dt.datetime | None = None) -> BatchStanding:
    """`batch`: a row of `Store.batches_for_run` (with `logged`: outcome -> requests)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    status = batch["status"]
    total = batch["request_count"] or 0
    logged = batch.get("logged") or {}
    if status in ("collected", "not_submitted") and logged:
        done = logged.get("succeeded", 0)
        failed = sum(n for outcome, n in logged.items() if outcome != "succeeded")
    else:
        done, failed = batch["succeeded_count"] or 0, batch["failed_count"] or 0
    pending = 0 if status in ("abandoned", "not_submitted") else max(total - done - failed, 0)
    sent = _time(batch.get("submitted_at")) or _time(batch.get("created_at"))
    age = duration(now - sent) if sent else "—"
    ends, detail = _ends(batch, status, sent, done + failed, pending, now)
    return BatchStanding(done, failed, pending, age, ends, detail)


def _ends(batch: dict[str, Any], status: str, sent: dt.datetime | None, finished: int,
          pending: int, now: dt.datetime) -> tuple[str, str]:
    if status == "collected":
        ended = _time(batch.get("ended_at")) or _time(batch.get("collected_at"))
        took = f" {duration(ended - sent)} after it was sent" if ended and sent else ""
        return "ended", f"Ended{took} ({batch.get('outcome') or 'completed'}); every result is logged."
    if status == "ended":
        return "ended", "Ended at the provider; its results are being logged."
    if status == "not_submitted":
        return "refused", f"The provider refused it: {batch.get('error') or 'no reason given'}."
    if status == "abandoned":
        return "not sent", "Never sent: the lab stopped while sending it, so its cells were sent again."
    if status == "cancelling":
        return "cancelling", ("Cancelled at the provider, which ends it shortly; what it finished "
                              "is billed and logged when it ends.")
    if sent is None:
        return "unknown", "Not sent yet."
    deadline = sent + TARGET
    window = f"providers aim to end a batch within 24 hours of sending it (by {clock(deadline, now)})"
    if finished == 0:
        return "unknown", f"Unknown: no request has finished yet, so there is no pace to go on; {window}."
    if pending == 0:
        return "any moment", "Every request is done; the provider is finishing the batch."
    elapsed = max((now - sent).total_seconds(), 1.0)
    eta = now + dt.timedelta(seconds=pending * elapsed / finished)
    pace = f"at the pace so far ({finished:,} of {finished + pending:,} requests in {duration(now - sent)})"
    if eta > deadline:
        return (f"≈ {clock(deadline, now)} (24 h limit)",
                f"At the pace so far it would take until {clock(eta, now)}, past the 24-hour "
                "window: what is unfinished then expires, and resuming the run sends it again.")
    return f"≈ {clock(eta, now)}", f"About {clock(eta, now)} (in {duration(eta - now)}), {pace}."


def duration(delta: dt.timedelta) -> str:
    """"45 s", "12 min", "2 h 5 min", "1 d 3 h"."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def clock(when: dt.datetime, now: dt.datetime) -> str:
    """A time of day on this machine's clock, with the weekday when it is not today."""
    local, today = when.astimezone(), now.astimezone()
    if local.date() == today.date():
        return local.strftime("%H:%M")
    return local.strftime("%a %H:%M")


def _time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
