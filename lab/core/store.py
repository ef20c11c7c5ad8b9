"""The workspace store: one SQLite file per workspace, read and written through sqlite-utils.

This module (with store_runs.py, its run log, and migrations.py) is the only place that knows
table names; the rest of the lab speaks in model dataclasses. The file is an ordinary SQLite
database in WAL mode, so a user can open it with `sqlite-utils` or Datasette while the lab runs,
and the GUI can read through its own connection while a run writes through another.

Opening a workspace applies pending migrations. A workspace written by a newer version of the lab
is refused before anything is changed (see `WorkspaceTooNew`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from lab.core import migrations
from lab.core.model import (
    Call,
    Check,
    Example,
    Project,
    PromptVersion,
    TestCase,
    Usage,
    Variant,
)
from lab.core.store_history import CallFilters, CallHistory, fts_query  # noqa: F401 (re-exported)
from lab.core.store_judgements import Judgements
from lab.core.store_runs import RunLog


class WorkspaceError(Exception):
    """A workspace that cannot be opened or written; the message says which file and what to do."""


class WorkspaceTooNew(WorkspaceError):
    """The database was written by a newer version of the lab than this one."""


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class Store(RunLog, CallHistory, Judgements):
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

    # ----------------------------------------------------------------- projects

    def list_projects(self) -> list[dict[str, Any]]:
        return list(
            self.db.query(
                "SELECT p.id, p.name, p.description, p.updated_at,"
                " (SELECT count(*) FROM variants v WHERE v.project_id = p.id) AS variants,"
                " (SELECT count(*) FROM test_cases t WHERE t.project_id = p.id) AS cases"
                " FROM projects p ORDER BY p.updated_at DESC, p.id DESC"
            )
        )

    def save_project(self, project: Project) -> int:
        """Write a project with everything in it, in one transaction.

        Children are matched by id: existing rows are updated in place (so logged calls keep
        pointing at their variant and test case), new ones inserted, removed ones deleted. Ids
        are assigned back onto the objects; order in the lists becomes the stored order.
        """
        stamp = now_iso()
        with self.transaction():
            row = {
                "name": project.name,
                "description": project.description,
                "user_template": project.user_template,
                "updated_at": stamp,
            }
            if project.id is None:
                row["created_at"] = stamp
                project.id = self.db["projects"].insert(row).last_pk
            else:
                self.db["projects"].update(project.id, row)
            self._sync(
                "variants", "project_id", project.id, project.variants,
                lambda v, pos: {
                    "name": v.name, "model": v.model, "system": v.system,
                    "params_json": _dumps(v.params), "updated_at": stamp,
                },
                created={"created_at": stamp},
            )
            for variant in project.variants:
                self._sync(
                    "examples", "variant_id", variant.id, variant.examples,
                    lambda e, pos: {
                        "input": e.input, "output": e.output, "note": e.note,
                        "enabled": int(e.enabled),
                    },
                )
            self._sync(
                "test_cases", "project_id", project.id, project.cases,
                lambda c, pos: {"label": c.label, "vars_json": _dumps(c.vars)},
                created={"created_at": stamp},
            )
            self._sync(
                "checks", "project_id", project.id, project.checks,
                lambda c, pos: {"name": c.name, "type": c.type, "config_json": _dumps(c.config)},
            )
        return project.id

    def save_variant(self, project_id: int, variant: Variant) -> None:
        """Autosave of one variant's prompt, model, parameters and examples."""
        stamp = now_iso()
        with self.transaction():
            row = {
                "name": variant.name, "model": variant.model, "system": variant.system,
                "params_json": _dumps(variant.params), "updated_at": stamp,
            }
            if variant.id is None:
                count = self.db.execute(
                    "SELECT count(*) FROM variants WHERE project_id = ?", [project_id]
                ).fetchone()[0]
                variant.id = self.db["variants"].insert(
                    {**row, "project_id": project_id, "position": count, "created_at": stamp}
                ).last_pk
            else:
                self.db["variants"].update(variant.id, row)
            self._sync(
                "examples", "variant_id", variant.id, variant.examples,
                lambda e, pos: {
                    "input": e.input, "output": e.output, "note": e.note,
                    "enabled": int(e.enabled),
                },
            )
            self.db["projects"].update(project_id, {"updated_at": stamp})

    def save_user_template(self, project_id: int, template: str) -> None:
        with self.transaction():
            self.db["projects"].update(
                project_id, {"user_template": template, "updated_at": now_iso()}
            )

    def _sync(self, table, parent_col, parent_id, items, to_row, created=None) -> None:
        """Make the child rows of one parent equal to `items`, matching by id."""
        keep = [item.id for item in items if item.id is not None]
        placeholders = ",".join("?" * len(keep))
        sql = f"DELETE FROM {table} WHERE {parent_col} = ?"
        if keep:
            sql += f" AND id NOT IN ({placeholders})"
        self.db.execute(sql, [parent_id, *keep])
        for pos, item in enumerate(items):
            row = {**to_row(item, pos), "position": pos}
            if item.id is None:
                item.id = self.db[table].insert(
                    {**row, parent_col: parent_id, **(created or {})}
                ).last_pk
            else:
                self.db[table].update(item.id, row)

    def load_project(self, project_id: int) -> Project:
        row = self.db.execute(
            "SELECT id, name, description, user_template FROM projects WHERE id = ?", [project_id]
        ).fetchone()
        if row is None:
            raise WorkspaceError(f"No project with id {project_id} in {self.path}.")
        project = Project(id=row[0], name=row[1], description=row[2], user_template=row[3])
        for v in self.db.query(
            "SELECT * FROM variants WHERE project_id = ? ORDER BY position, id", [project_id]
        ):
            variant = Variant(
                id=v["id"],
                name=v["name"],
                model=v["model"],
                system=v["system"],
                params=json.loads(v["params_json"]),
            )
            variant.examples = [
                Example(
                    id=e["id"],
                    input=e["input"],
                    output=e["output"],
                    note=e["note"],
                    enabled=bool(e["enabled"]),
                )
                for e in self.db.query(
                    "SELECT * FROM examples WHERE variant_id = ? ORDER BY position, id", [v["id"]]
                )
            ]
            project.variants.append(variant)
        project.cases = [
            TestCase(id=c["id"], label=c["label"], vars=json.loads(c["vars_json"]))
            for c in self.db.query(
                "SELECT * FROM test_cases WHERE project_id = ? ORDER BY position, id", [project_id]
            )
        ]
        project.checks = [
            Check(id=c["id"], name=c["name"], type=c["type"], config=json.loads(c["config_json"]))
            for c in self.db.query(
                "SELECT * FROM checks WHERE project_id = ? ORDER BY position, id", [project_id]
            )
        ]
        return project

    # ----------------------------------------------------------------- providers (never keys)

    def save_provider(self, name: str, kind: str, config: dict[str, Any]) -> None:
        stamp = now_iso()
        with self.transaction():
            existing = self.db.execute("SELECT id FROM providers WHERE name = ?", [name]).fetchone()
            row = {"name": name, "kind": kind, "config_json": _dumps(config), "updated_at": stamp}
            if existing:
                self.db["providers"].update(existing[0], row)
            else:
                self.db["providers"].insert({**row, "created_at": stamp})

    def list_providers(self) -> list[dict[str, Any]]:
        return [
            {"name": r["name"], "kind": r["kind"], **json.loads(r["config_json"])}
            for r in self.db.query("SELECT * FROM providers ORDER BY name")
        ]

    def delete_provider(self, name: str) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM providers WHERE name = ?", [name])

    # ----------------------------------------------------------------- prompt versions

    def prompt_version_id(self, version: PromptVersion, variant_id: int | None = None) -> int:
        """The id of this exact prompt text, stored once however often it is run."""
        digest = version.content_hash()
        row = self.db.execute("SELECT id FROM prompt_versions WHERE hash = ?", [digest]).fetchone()
        if row:
            return row[0]
        with self.transaction():
            return self.db["prompt_versions"].insert(
                {
                    "hash": digest,
                    "variant_id": variant_id,
                    "system": version.system,
                    "user_template": version.user_template,
                    "examples_json": _dumps(
                        [
                            {"input": e.input, "output": e.output, "note": e.note,
                             "enabled": e.enabled}
                            for e in version.examples
                        ]
                    ),
                    "created_at": now_iso(),
                }
            ).last_pk

    def load_prompt_version(self, version_id: int) -> PromptVersion:
        row = self.db.execute(
            "SELECT system, user_template, examples_json FROM prompt_versions WHERE id = ?",
            [version_id],
        ).fetchone()
        if row is None:
            raise WorkspaceError(f"No prompt version {version_id} in {self.path}.")
        return PromptVersion(
            system=row[0],
            user_template=row[1],
            examples=[Example(**e) for e in json.loads(row[2])],
        )

    # ----------------------------------------------------------------- experiments and runs

    def create_experiment(
        self, name: str, config: dict[str, Any], source: str = "", project_id: int | None = None
    ) -> int:
        with self.transaction():
            return self.db["experiments"].insert(
                {
                    "project_id": project_id,
                    "name": name,
                    "source": source,
                    "config_json": _dumps(config),
                    "created_at": now_iso(),
                }
            ).last_pk

    def create_run(
        self,
        experiment_id: int,
        samples: int = 1,
        planned_calls: int = 0,
        settings: dict[str, Any] | None = None,
        estimated_cost_usd: float | None = None,
        budget_usd: float | None = None,
    ) -> int:
        with self.transaction():
            return self.db["runs"].insert(
                {
                    "experiment_id": experiment_id,
                    "status": "running",
                    "samples": samples,
                    "planned_calls": planned_calls,
                    "settings_json": _dumps(settings or {}),
                    "estimated_cost_usd": estimated_cost_usd,
                    "budget_usd": budget_usd,
                    "started_at": now_iso(),
                }
            ).last_pk

    def finish_run(self, run_id: int, status: str) -> None:
        with self.transaction():
            self.db["runs"].update(run_id, {"status": status, "finished_at": now_iso()})

    # ----------------------------------------------------------------- calls

    def insert_calls(self, calls: Iterable[Call]) -> list[int]:
        """Write finished calls in one transaction; returns their ids in order."""
        ids: list[int] = []
        with self.transaction():
            table = self.db["calls"]
            for call in calls:
                call.id = table.insert(_call_row(call)).last_pk
                ids.append(call.id)
        return ids

    def count_calls(self) -> int:
        return self.db.execute("SELECT count(*) FROM calls").fetchone()[0]

    def find_cached(self, cache_key: str) -> dict[str, Any] | None:
        """The newest successful call made with exactly this request, if any."""
        rows = list(
            self.db.query(
                "SELECT * FROM calls WHERE cache_key = ? AND status = 'ok'"
                " ORDER BY id DESC LIMIT 1",
                [cache_key],
            )
        )
        return rows[0] if rows else None

    def get_call(self, call_id: int) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM calls WHERE id = ?", [call_id]))
        return rows[0] if rows else None


def _call_row(call: Call) -> dict[str, Any]:
    usage = call.usage or Usage()
    return {
        "run_id": call.run_id,
        "experiment_id": call.experiment_id,
        "variant_id": call.variant_id,
        "variant_name": call.variant_name,
        "prompt_version_id": call.prompt_version_id,
        "test_case_id": call.test_case_id,
        "case_vars_json": _dumps(call.case_vars),
        "sample_index": call.sample_index,
        "provider": call.provider,
        "model": call.model,
        "params_json": _dumps(call.params),
        "request_json": _dumps(call.request),
        "cache_key": call.cache_key,
        "status": call.status,
        "response_text": call.response_text,
        "finish_reason": call.finish_reason,
        "usage_json": _dumps(call.raw_usage) if call.raw_usage is not None else None,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cached_tokens": usage.cached_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "latency_ms": call.latency_ms,
        "ttft_ms": call.ttft_ms,
        "cost_usd": call.cost_usd,
        "error_type": call.error_type,
        "error_message": call.error_message,
        "started_at": call.started_at,
        "finished_at": call.finished_at,
        "created_at": now_iso(),
    }


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
