"""Which experiment files the user trusts to run code on this machine ("workspace trust").

An experiment file travels: it is shared in git, imported from other tools. Its python checks are
code, and the lab cannot make running them safe (see ``lab.core.checks.expression``), so they run
only once the user has said they trust the file. What is trusted is the file's *content*: the
SHA-256 of its bytes. Edit one byte and it is a new file that asks again; the same content at
another path (a second clone) is trusted already. The resolved path is kept for display only.

The store is one small JSON file in the lab's home (`lab_home()`, beside the default workspace,
not inside it: trust belongs to the user, not to a workspace file that may be shared)::

    {
      "version": 1,
      "trusted": [
        {"sha256": "9f86d0...", "path": "/home/ana/evals/tone.toml",
         "trusted_at": "2025-01-31T09:12:44Z"}
      ]
    }

Written atomically (a temporary file renamed over the old one). Trusting a new version of a file
drops the entry of its previous version at the same path. An unreadable or malformed store trusts
nothing (and is replaced on the next write). Which checks count as code is not this module's
business: ``lab.core.run.trust`` asks it about files that have some.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lab.core.workspace.location import lab_home

TRUST_FILENAME = "trusted-files.json"
_VERSION = 1


def content_digest(data: bytes) -> str:
    """The identity trust is given to: SHA-256 of the file's bytes, in hex."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class TrustedFile:
    sha256: str
    path: str  # resolved, when it was trusted; for display
    trusted_at: str  # ISO 8601, UTC


class TrustStore:
    """The trusted files, kept in `path` (default: trusted-files.json in the lab's home)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else lab_home() / TRUST_FILENAME

    def entries(self) -> list[TrustedFile]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        rows = data.get("trusted") if isinstance(data, dict) else None
        found = []
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and isinstance(row.get("sha256"), str):
                found.append(TrustedFile(row["sha256"], str(row.get("path", "")),
                                         str(row.get("trusted_at", ""))))
        return found

    def is_trusted(self, digest: str) -> bool:
        """Whether the content with this `content_digest` is trusted."""
        return any(e.sha256 == digest for e in self.entries())

    def trust(self, digest: str, file: str | Path) -> TrustedFile:
        """Trust the content with this digest, read from `file` (kept, resolved, for display)."""
        where = str(Path(file).resolve())
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        entry = TrustedFile(digest, where, stamp)
        kept = [e for e in self.entries() if e.sha256 != digest and e.path != where]
        self._write([*kept, entry])
        return entry

    def file_is_trusted(self, file: str | Path) -> bool:
        """Whether `file` as it is now is trusted (False if it cannot be read)."""
        try:
            return self.is_trusted(file_digest(file))
        except OSError:
            return False

    def trust_file(self, file: str | Path) -> TrustedFile:
        """Trust `file` as it is now."""
        return self.trust(file_digest(file), file)

    def revoke(self, file: str | Path) -> bool:
        """Stop trusting `file`: every version trusted at its path, and its content now."""
        where = str(Path(file).resolve())
        try:
            digest: str | None = file_digest(file)
        except OSError:
            digest = None
        entries = self.entries()
        kept = [e for e in entries if e.path != where and e.sha256 != digest]
        if len(kept) != len(entries):
            self._write(kept)
        return len(kept) != len(entries)

    def _write(self, entries: list[TrustedFile]) -> None:
        data: dict[str, Any] = {
            "version": _VERSION,
            "trusted": [{"sha256": e.sha256, "path": e.path, "trusted_at": e.trusted_at}
                        for e in entries],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".trusted-files-", suffix=".json", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=2)
                out.write("\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise


def file_digest(file: str | Path) -> str:
    return content_digest(Path(file).read_bytes())
