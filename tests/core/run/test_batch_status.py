"""How a batch stands in words: counts, age, and when it may end (the pace so far, or "unknown"
when nothing has finished yet)."""

from __future__ import annotations

import datetime as dt

from lab.core.run.batch_status import clock, duration, standing

SENT = dt.datetime(2025, 3, 4, 9, 0, tzinfo=dt.timezone.utc)


def row(**values) -> dict:
    batch = {"status": "in_progress", "request_count": 100, "succeeded_count": 0,
             "failed_count": 0, "submitted_at": SENT.isoformat(), "created_at": SENT.isoformat(),
             "ended_at": None, "collected_at": None, "outcome": None, "error": None, "logged": {}}
    return batch | values


def test_nothing_finished_yet_is_unknown_with_the_providers_window_as_the_only_bound():
    now = SENT + dt.timedelta(minutes=20)
    s = standing(row(), now)
    assert (s.done, s.failed, s.pending, s.age, s.ends) == (0, 0, 100, "20 min", "unknown")
    assert "no request has finished yet" in s.ends_detail
    assert f"by {clock(SENT + dt.timedelta(hours=24), now)}" in s.ends_detail


def test_the_pace_so_far_is_carried_over_what_is_pending():
    now = SENT + dt.timedelta(minutes=30)
    s = standing(row(succeeded_count=20, failed_count=5), now)  # 25 in 30 min: 75 in 90 min more
    assert (s.done, s.failed, s.pending) == (20, 5, 75)
    assert s.ends == f"≈ {clock(now + dt.timedelta(minutes=90), now)}"
    assert "in 1 h 30 min" in s.ends_detail and "25 of 100 requests in 30 min" in s.ends_detail


def test_a_pace_past_the_24_hour_window_is_capped_and_says_what_happens():
    now = SENT + dt.timedelta(hours=12)
    s = standing(row(succeeded_count=10), now)  # 10 in 12 h: 90 more would take 108 h
    assert s.ends.endswith("(24 h limit)")
    assert "expires" in s.ends_detail and "resuming the run sends it again" in s.ends_detail


def test_ended_batches_count_what_was_logged_and_say_how_long_they_took():
    s = standing(row(status="collected", outcome="expired", succeeded_count=0,
                     ended_at=(SENT + dt.timedelta(hours=2, minutes=5)).isoformat(),
                     logged={"succeeded": 96, "expired": 4}), SENT + dt.timedelta(days=2))
    assert (s.done, s.failed, s.pending, s.ends) == (96, 4, 0, "ended")
    assert "2 h 5 min after it was sent (expired)" in s.ends_detail
    assert s.age == "2 d"


def test_other_states_in_words():
    now = SENT + dt.timedelta(minutes=1)
    assert standing(row(status="cancelling"), now).ends == "cancelling"
    assert standing(row(succeeded_count=100), now).ends == "any moment"
    refused = standing(row(status="not_submitted", error="bad file", logged={"errored": 100}), now)
    assert (refused.failed, refused.pending, refused.ends) == (100, 0, "refused")
    assert "bad file" in refused.ends_detail
    assert standing(row(status="abandoned"), now).pending == 0


def test_durations_read_naturally():
    assert [duration(dt.timedelta(seconds=s)) for s in (5, 600, 7200, 7500, 90000, 86400 * 3)] == [
        "5 s", "10 min", "2 h", "2 h 5 min", "1 d 1 h", "3 d"]
