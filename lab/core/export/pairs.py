"""Preference pairs (chosen, rejected) from what the user judged, for DPO-style training data.

Two sources, in the order they are trusted:

* Blind pairwise judgements. The winner is chosen, the loser rejected; ties teach nothing and
  are left out. The same two outputs judged more than once count by majority, and a pair
  judged both ways equally often is left out as contradictory (preference data must be
  consistent, as OpenAI's DPO guide asks).
* Optionally, ratings: two outputs for the same input and prompt version whose scores (or,
  when either has no score, thumbs) differ; the higher-rated is chosen.

A pair is kept when its chosen output is in the dataset's selection; the rejected output only
has to be a successful call that was not excluded by hand. A pair whose outputs answer
different inputs, or are identical, is left out with the reason recorded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from lab.core.export.selection import PreferencePair, SelectedCall, SkippedCall


def tally(judgements: Iterable[tuple[int, int, str]]) -> tuple[dict[tuple[int, int], int], int]:
    """Net wins per unordered pair (positive: the lower id won more often), and the ties."""
    votes: dict[tuple[int, int], int] = defaultdict(int)
    ties = 0
    for left, right, winner in judgements:
        if winner == "tie":
            ties += 1
            continue
        won, lost = (left, right) if winner == "left" else (right, left)
        key = (min(won, lost), max(won, lost))
        votes[key] += 1 if won == key[0] else -1
    return votes, ties


def _pair(chosen: SelectedCall, rejected: SelectedCall, basis: str,
          skipped: list[SkippedCall] | None) -> PreferencePair | None:
    why = None
    if chosen.user != rejected.user:
        why = f"it was compared with output #{rejected.call_id}, which answers a different input"
    elif chosen.output.strip() == rejected.output.strip():
        why = f"it is identical to output #{rejected.call_id}, so the pair teaches nothing"
    elif not chosen.output.strip() or not rejected.output.strip():
        why = f"it or output #{rejected.call_id} is empty"
    if why:
        if skipped is not None:
            skipped.append(SkippedCall(chosen.call_id, f"Pair left out: {why}."))
        return None
    return PreferencePair(chosen, rejected, basis, same_prompt=chosen.context == rejected.context)


def pairs_from_votes(
    votes: dict[tuple[int, int], int],
    calls: dict[int, SelectedCall],
    pool: set[int],
    skipped: list[SkippedCall] | None = None,
) -> list[PreferencePair]:
    """Pairs from tallied pairwise judgements whose winner is in `pool` (the selection)."""
    pairs = []
    for (low, high), net in sorted(votes.items()):
        if net == 0:
            if skipped is not None and (low in pool or high in pool):
                skipped.append(SkippedCall(low, (
                    f"Pair left out: outputs #{low} and #{high} were judged better than each "
                    "other equally often; judge them again to settle it.")))
            continue
        won, lost = (low, high) if net > 0 else (high, low)
        if won in pool and won in calls and lost in calls:
            pair = _pair(calls[won], calls[lost], "pairwise", skipped)
            if pair:
                pairs.append(pair)
    return pairs


def _better(a: SelectedCall, b: SelectedCall) -> bool | None:
    """Whether a was rated higher than b; None when their ratings cannot be compared."""
    if a.score is not None and b.score is not None:
        return a.score > b.score
    if a.thumbs is not None and b.thumbs is not None:
        return a.thumbs > b.thumbs
    return None


def pairs_from_ratings(
    pool: list[SelectedCall],
    rated: Iterable[SelectedCall],
    already: set[frozenset[int]],
    skipped: list[SkippedCall] | None = None,
) -> list[PreferencePair]:
    """Pairs from ratings: each output in `pool` against every lower-rated output for the same
    input and prompt version among `rated`; pairs in `already` (from judgements) are skipped."""
    groups: dict[tuple[int | None, str], list[SelectedCall]] = defaultdict(list)
    for call in rated:
        groups[(call.prompt_version_id, call.user)].append(call)
    pairs = []
    for chosen in pool:
        for other in groups.get((chosen.prompt_version_id, chosen.user), ()):
            key = frozenset((chosen.call_id, other.call_id))
            if other.call_id == chosen.call_id or key in already or not _better(chosen, other):
                continue
            already.add(key)
            pair = _pair(chosen, other, "ratings", skipped)
            if pair:
                pairs.append(pair)
    return pairs
