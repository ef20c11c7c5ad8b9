"""The store's projects: variants, examples, test cases and checks as the user edits them, the
providers they configured (never a key), and every distinct prompt a variant has had.

Mixed into `Store` (callers write `store.load_project(1)`); like the rest of the workspace package
it is one of the few places that know table names.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from lab.core.model import (
    Check,
    DocumentSource,
    Example,
    Project,
    PromptVersion,
    Retrieval,
    Step,
    TestCase,
    Variant,
)
from lab.core.workspace.errors import WorkspaceError
from lab.core.workspace.rows import dumps, now_iso

if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from pathlib import Path

    from sqlite_utils import Database


class Projects:
    """Project, provider and prompt-version tables; mixed into `Store`."""

    db: Database
    path: Path | None

    if TYPE_CHECKING:
        def transaction(self) -> AbstractContextManager[None]: ...  # provided by Store

    # ----------------------------------------------------------------- projects

    def list_projects(self) -> list[dict[str, Any]]:
        return list(
            self.db.query(
                "SELECT p.id, p.name, p.description, p.updated_at, p.source_path,"
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
                "documents_json": dumps([asdict(d) for d in project.documents]),
                "updated_at": stamp,
            }
            if project.source_path is not None:  # a file read elsewhere keeps the stored path
                row["source_path"] = project.source_path
            if project.id is None:
                row["created_at"] = stamp
                project.id = self.db["projects"].insert(row).last_pk
            else:
                self.db["projects"].update(project.id, row)
            self._sync(
                "variants", "project_id", project.id, project.variants,
                lambda v, pos: {**_variant_row(v), "updated_at": stamp},
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
                lambda c, pos: {"label": c.label, "vars_json": dumps(c.vars)},
                created={"created_at": stamp},
            )
            self._sync(
                "checks", "project_id", project.id, project.checks,
                lambda c, pos: {"name": c.name, "type": c.type, "config_json": dumps(c.config)},
            )
        return project.id

    def save_variant(self, project_id: int, variant: Variant) -> None:
        """Autosave of one variant's prompt, model, parameters and examples."""
        stamp = now_iso()
        with self.transaction():
            row = {**_variant_row(variant), "updated_at": stamp}
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
        """Make the child rows of one parent equal to `items`, matching by id. An item whose
        row is gone (deleted, then the delete undone) is written again."""
        keep = [item.id for item in items if item.id is not None]
        placeholders = ",".join("?" * len(keep))
        sql = f"DELETE FROM {table} WHERE {parent_col} = ?"
        if keep:
            sql += f" AND id NOT IN ({placeholders})"
        self.db.execute(sql, [parent_id, *keep])
        existing = {r[0] for r in self.db.execute(
            f"SELECT id FROM {table} WHERE {parent_col} = ?", [parent_id])}
        for pos, item in enumerate(items):
            row = {**to_row(item, pos), "position": pos}
            if item.id is None:
                item.id = self.db[table].insert(
                    {**row, parent_col: parent_id, **(created or {})}
                ).last_pk
            elif item.id in existing:
                self.db[table].update(item.id, row)
            else:
                # Deleted and brought back (an undone delete): the same row again, or a new
                # one if its id has been taken since.
                taken = self.db.execute(f"SELECT 1 FROM {table} WHERE id = ?",
                                        [item.id]).fetchone()
                item.id = self.db[table].insert(
                    {**row, parent_col: parent_id, **(created or {}),
                     **({} if taken else {"id": item.id})}
                ).last_pk

    def load_project(self, project_id: int) -> Project:
        row = self.db.execute(
            "SELECT id, name, description, user_template, documents_json, source_path"
            " FROM projects WHERE id = ?", [project_id]
        ).fetchone()
        if row is None:
            raise WorkspaceError(f"No project with id {project_id} in {self.path}.")
        project = Project(id=row[0], name=row[1], description=row[2], user_template=row[3],
                          documents=[DocumentSource(**d) for d in json.loads(row[4])],
                          source_path=row[5])
        for v in self.db.query(
            "SELECT * FROM variants WHERE project_id = ? ORDER BY position, id", [project_id]
        ):
            variant = Variant(
                id=v["id"],
                name=v["name"],
                model=v["model"],
                system=v["system"],
                params=json.loads(v["params_json"]),
                retrieval=Retrieval(**json.loads(v["retrieval_json"])) if v["retrieval_json"] else None,
                steps=[Step(**step) for step in json.loads(v["steps_json"])],
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

    def project_for_file(self, project: Project, source_path: str) -> int:
        """Save an experiment file's project as the workspace project that comes from that file
        (matched by path), so runs of the file show up in the window under one project."""
        row = self.db.execute("SELECT id FROM projects WHERE source_path = ?"
                              " ORDER BY id LIMIT 1", [source_path]).fetchone()
        if row is not None:
            stored = self.load_project(row[0])
            _adopt_ids(project, stored)
        project.source_path = source_path
        return self.save_project(project)

    # ----------------------------------------------------------------- providers (never keys)

    def save_provider(self, name: str, kind: str, config: dict[str, Any]) -> None:
        stamp = now_iso()
        with self.transaction():
            existing = self.db.execute("SELECT id FROM providers WHERE name = ?", [name]).fetchone()
            row = {"name": name, "kind": kind, "config_json": dumps(config), "updated_at": stamp}
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
                    "examples_json": dumps(
                        [
                            {"input": e.input, "output": e.output, "note": e.note,
                             "enabled": e.enabled}
                            for e in version.examples
                        ]
                    ),
                    "steps_json": dumps([asdict(step) for step in version.steps]),
                    "created_at": now_iso(),
                }
            ).last_pk

    def load_prompt_version(self, version_id: int) -> PromptVersion:
        row = self.db.execute(
            "SELECT system, user_template, examples_json, steps_json FROM prompt_versions"
            " WHERE id = ?", [version_id],
        ).fetchone()
        if row is None:
            raise WorkspaceError(f"No prompt version {version_id} in {self.path}.")
        return PromptVersion(
            system=row[0],
            user_template=row[1],
            examples=[Example(**e) for e in json.loads(row[2])],
            steps=[Step(**step) for step in json.loads(row[3])],
        )


def _variant_row(variant: Variant) -> dict[str, Any]:
    return {
        "name": variant.name, "model": variant.model, "system": variant.system,
        "params_json": dumps(variant.params),
        "retrieval_json": dumps(asdict(variant.retrieval)) if variant.retrieval else None,
        "steps_json": dumps([asdict(step) for step in variant.steps]),
    }


def _adopt_ids(project: Project, stored: Project) -> None:
    """Give a project read from a file the ids of the stored one it updates, matching variants
    by name and test cases and checks by position, so logged calls keep their links."""
    project.id = stored.id
    by_name = {v.name: v for v in stored.variants}
    for variant in project.variants:
        old = by_name.get(variant.name)
        if old is not None:
            variant.id = old.id
            for example, old_example in zip(variant.examples, old.examples):
                example.id = old_example.id
    for new, old_case in zip(project.cases, stored.cases):
        new.id = old_case.id
    for new, old_check in zip(project.checks, stored.checks):
        new.id = old_check.id
