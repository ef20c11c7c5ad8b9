"""The workspace store: one SQLite file per workspace, read and written through sqlite-utils.

`Store` is composed of query mixins, one per part of the workspace (projects.py, runs.py,
run_history.py, history.py, judgements.py, documents.py, analysis_rows.py, batches.py,
cell_figures.py); together with migrations.py and rows.py they are the only places that
know table names; the rest of the lab speaks in model dataclasses. The file is an ordinary SQLite
database in WAL mode, so a user can open it with `sqlite-utils` or Datasette while the lab runs,
and the GUI can read through its own connection while a run writes through another.

Opening a workspace applies pending migrations. A workspace written by a newer version of the lab
is refused before anything is changed (see `WorkspaceTooNew`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from lab.core.workspace import migrations
from lab.core.workspace.analysis_rows import AnalysisRows
from lab.core.workspace.batches import Batches
from lab.core.workspace.cell_figures import CellFigures
from lab.core.workspace.documents import Documents
from lab.core.workspace.errors import WorkspaceError, WorkspaceTooNew
from lab.core.workspace.history import CallHistory
from lab.core.workspace.judgements import Judgements
from lab.core.workspace.projects import Projects
from lab.core.workspace.run_history import RunHistory
from lab.core.workspace.runs import RunLog


class Store(Projects, RunLog, RunHistory, CallHistory, Judgements, Documents, AnalysisRows,
            Batches, CellFigures):
    """An open workspace. Create with `open_workspace`; one instance per thread that uses it."""

    def __init__(self, db: Database, path: Path | None):
        self.db = db
        self.path = path

    # ----------------------------------------------------------------- lifecycle

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes so they land together (and fast): all of them or none."""
        with _translate_errors(self.path):
            with self.db.atomic():
                yield

    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def integrity_check(self) -> str:
        return self.db.execute("PRAGMA integrity_check").fetchone()[0]

    # ----------------------------------------------------------------- meta

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM workspace_meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self.db["workspace_meta"].upsert({"key": key, "value": value}, pk="key")

@contextmanager
def _translate_errors(path: Path | None) -> Iterator[None]:
    """Turn SQLite's terse failures into messages that name the file and say what to do."""
    where = str(path) if path else "the in-memory workspace"
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc)
        if "disk is full" in text or "database or disk is full" in text:
            raise WorkspaceError(
                f"The disk holding {where} is full; nothing was written. "
                "Free some space and try again; what was saved before is intact."
            ) from exc
        if "readonly" in text or "read-only" in text:
            raise WorkspaceError(
                f"{where} is read-only; check the file's permissions or open another workspace."
            ) from exc
        if "locked" in text:
            raise WorkspaceError(
                f"{where} is locked by another program; close it there and try again."
            ) from exc
        raise
    except sqlite3.IntegrityError:
        raise  # a constraint the caller broke: a bug to see, not a damaged file
    except sqlite3.DatabaseError as exc:
        text = str(exc)
        if "not a database" not in text and "malformed" not in text and "corrupt" not in text:
            raise
        raise WorkspaceError(
            f"{where} is not a Prompt Lab workspace or is damaged ({exc}). "
            "Open another file, or restore it from a backup."
        ) from exc


def open_workspace(path: str | Path | None) -> Store:
    """Open (creating if needed) the workspace at `path`, migrating it to the current schema.

    `None` opens a throwaway in-memory workspace (tests, previews).
    """
    file_path = Path(path).expanduser() if path is not None else None
    if file_path is not None:
        try:
            file_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WorkspaceError(
                f"Cannot create the folder for the workspace {file_path}: {exc.strerror}."
            ) from exc
    with _translate_errors(file_path):
        conn = sqlite3.connect(
            str(file_path) if file_path else ":memory:", check_same_thread=False, timeout=10
        )
        db = Database(conn)
        _refuse_newer(db, file_path)
        # WAL lets the GUI read while a run writes; NORMAL sync is durable against app crashes
        # (a kill loses nothing committed) and only an OS crash could lose the last moments.
        if file_path is not None:
            db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA busy_timeout = 10000")
        migrations.migrations.apply(db)
        db.execute(f"PRAGMA user_version = {migrations.SCHEMA_VERSION}")
    return Store(db, file_path)


def _refuse_newer(db: Database, path: Path | None) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    known = set(migrations.migration_names())
    applied = {m.name for m in migrations.migrations.applied(db)}
    unknown = sorted(applied - known)
    if version > migrations.SCHEMA_VERSION or unknown:
        from lab import __version__

        db.close()
        raise WorkspaceTooNew(
            f"{path} was written by a newer version of Prompt Lab (schema {version}; this is "
            f"version {__version__} with schema {migrations.SCHEMA_VERSION}). Update Prompt Lab "
            "to open it; the file was not changed."
        )
