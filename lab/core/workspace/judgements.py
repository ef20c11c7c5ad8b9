"""The store's judgements: ratings, tags and blind pairwise judgements of logged outputs.

Part of the store (mixed into `Store`, so callers write `store.set_rating(...)`); like the rest
of the workspace package it knows table names.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

from lab.core.model import PairwiseJudgement, Rating


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class Judgements:
    """Store methods for judgements. Mixed into `Store`; uses its `db` and `transaction`."""

    def set_rating(self, rating: Rating) -> None:
        with self.transaction():
            self.db["ratings"].upsert(
                {
                    "call_id": rating.call_id,
                    "thumbs": rating.thumbs,
                    "score": rating.score,
                    "note": rating.note,
                    "updated_at": _now(),
                },
                pk="call_id",
            )
            self.db.execute("DELETE FROM call_tags WHERE call_id = ?", [rating.call_id])
            for tag in rating.tags:
                self.db.execute("INSERT OR IGNORE INTO tags(name) VALUES (?)", [tag])
                tag_id = self.db.execute("SELECT id FROM tags WHERE name = ?", [tag]).fetchone()[0]
                self.db.execute(
                    "INSERT OR IGNORE INTO call_tags(call_id, tag_id) VALUES (?, ?)",
                    [rating.call_id, tag_id],
                )
            self._refresh_stale()  # the rated output's cell (CellFigures)

    def get_rating(self, call_id: int) -> Rating | None:
        row = self.db.execute(
            "SELECT thumbs, score, note FROM ratings WHERE call_id = ?", [call_id]
        ).fetchone()
        tags = [
            r[0]
            for r in self.db.execute(
                "SELECT t.name FROM call_tags ct JOIN tags t ON t.id = ct.tag_id"
                " WHERE ct.call_id = ? ORDER BY t.name",
                [call_id],
            )
        ]
        if row is None and not tags:
            return None
        thumbs, score, note = row if row else (None, None, "")
        return Rating(call_id=call_id, thumbs=thumbs, score=score, note=note, tags=tags)

    def ratings_for_calls(self, call_ids: Iterable[int]) -> dict[int, Rating]:
        """Ratings and tags of many calls at once (for a results grid)."""
        ids = list(call_ids)
        found: dict[int, Rating] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for r in self.db.execute(
                f"SELECT call_id, thumbs, score, note FROM ratings WHERE call_id IN ({marks})", chunk
            ):
                found[r[0]] = Rating(call_id=r[0], thumbs=r[1], score=r[2], note=r[3])
            for call_id, tag in self.db.execute(
                "SELECT ct.call_id, t.name FROM call_tags ct JOIN tags t ON t.id = ct.tag_id"
                f" WHERE ct.call_id IN ({marks}) ORDER BY t.name", chunk
            ):
                found.setdefault(call_id, Rating(call_id=call_id)).tags.append(tag)
        return found

    def record_pairwise(self, judgement: PairwiseJudgement) -> int:
        with self.transaction():
            judgement.id = self.db["pairwise_judgements"].insert(
                {
                    "left_call_id": judgement.left_call_id,
                    "right_call_id": judgement.right_call_id,
                    "winner": judgement.winner,
                    "note": judgement.note,
                    "created_at": _now(),
                }
            ).last_pk
        return judgement.id

    def list_pairwise(self) -> list[PairwiseJudgement]:
        return [
            PairwiseJudgement(
                id=r["id"],
                left_call_id=r["left_call_id"],
                right_call_id=r["right_call_id"],
                winner=r["winner"],
                note=r["note"],
            )
            for r in self.db.query("SELECT * FROM pairwise_judgements ORDER BY id")
        ]
