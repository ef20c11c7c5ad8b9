"""The workspace store: migrations from any earlier schema, refusal of newer ones, round trips."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlite_utils import Database

from lab.core.experiment.file import load as load_experiment
from lab.core.model import (
    Call,
    Example,
    PairwiseJudgement,
    PromptVersion,
    Rating,
    Usage,
)
from lab.core.runtime.resources import resource_path
from lab.core.workspace import migrations
from lab.core.workspace.errors import WorkspaceError, WorkspaceTooNew
from lab.core.workspace.store import open_workspace

EXPECTED_TABLES = {
    "projects", "variants", "examples", "test_cases", "checks", "providers", "prompt_versions",
    "experiments", "runs", "calls", "check_results", "ratings", "tags", "call_tags",
    "pairwise_judgements", "datasets", "dataset_picks", "documents", "chunks", "call_chunks",
    "workspace_meta",
}


def sample_project():
    return load_experiment(resource_path("sample/support-replies.toml")).project


def make_call(text: str, **kw) -> Call:
    return Call(
        provider="openai", model="gpt-4o-mini", request={"messages": [{"role": "user", "content": "hi"}]},
        status="ok", response_text=text, usage=Usage(input_tokens=10, output_tokens=5),
        latency_ms=120.0, cost_usd=0.0001, **kw,
    )


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_new_workspace_has_every_table_wal_and_foreign_keys(tmp_path):
    path = tmp_path / "ws.db"
    with open_workspace(path) as store:
        assert EXPECTED_TABLES <= set(store.db.table_names())
        assert store.schema_version() == migrations.SCHEMA_VERSION
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.integrity_check() == "ok"
    # Opening again applies nothing and keeps the version.
    with open_workspace(path) as store:
        applied = [m.name for m in migrations.migrations.applied(store.db)]
        assert applied == migrations.migration_names()


@pytest.mark.parametrize("stop_before", migrations.migration_names()[1:])
def test_upgrade_from_every_earlier_schema_keeps_data(tmp_path, stop_before):
    path = tmp_path / "old.db"
    db = Database(path)
    migrations.migrations.apply(db, stop_before=stop_before)
    done = migrations.migration_names().index(stop_before)
    db.execute(f"PRAGMA user_version = {done}")
    # Data written by the older version: a project and a logged call.
    db["projects"].insert({"name": "Old project", "description": "", "user_template": "{{q}}",
                           "created_at": "2026-01-01", "updated_at": "2026-01-01"})
    db["calls"].insert({"provider": "openai", "model": "m", "status": "ok",
                        "response_text": "refund approved quickly", "created_at": "2026-01-01"})
    db.close()

    with open_workspace(path) as store:
        assert store.schema_version() == migrations.SCHEMA_VERSION
        assert [p["name"] for p in store.list_projects()] == ["Old project"]
        assert store.count_calls() == 1
        assert store.integrity_check() == "ok"
        # Full-text search covers rows written before the FTS migration existed.
        assert [r["response_preview"] for r in store.page_calls(search="refund")] == [
            "refund approved quickly"
        ]


def test_upgrade_turns_token_counts_nobody_reported_into_unknown(tmp_path):
    """Older versions logged 0 tokens for a failed call or a reply without usage; they were never
    counted. m005 makes them NULL (unknown), leaving every reported count as it was."""
    path = tmp_path / "old.db"
    db = Database(path)
    migrations.migrations.apply(db, stop_before="m007_unknown_usage")
    db.execute("PRAGMA user_version = 4")
    counts = {"input_tokens": 0, "output_tokens": 0, "cached_tokens": 0, "reasoning_tokens": 0}
    base = {"provider": "openai", "model": "m", "created_at": "2026-01-01"}
    db["calls"].insert_all([
        {**base, "status": "error", "usage_json": None, **counts},  # failed: nothing reported
        {**base, "status": "ok", "usage_json": "{}", **counts},  # a stream without usage
        {**base, "status": "ok", "usage_json": '{"prompt_tokens": 0, "completion_tokens": 0}',
         **counts},  # reported, and really 0
        {**base, "status": "ok", "usage_json": '{"prompt_tokens": 9, "completion_tokens": 2}',
         **counts, "input_tokens": 9, "output_tokens": 2},
    ])
    db.close()
    with open_workspace(path) as store:
        got = [(r["input_tokens"], r["output_tokens"], r["cached_tokens"], r["reasoning_tokens"])
               for r in store.db.query("SELECT * FROM calls ORDER BY id")]
    assert got == [(None, None, None, None), (None, None, None, None), (0, 0, 0, 0), (9, 2, 0, 0)]


def test_workspace_from_a_newer_version_is_refused_and_left_unchanged(tmp_path):
    path = tmp_path / "future.db"
    open_workspace(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {migrations.SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = sha(path)
    with pytest.raises(WorkspaceTooNew) as info:
        open_workspace(path)
    message = str(info.value)
    assert str(path) in message and "newer version of Prompt Lab" in message
    assert "Update Prompt Lab" in message
    assert sha(path) == before


def test_unknown_applied_migration_means_newer(tmp_path):
    path = tmp_path / "future2.db"
    with open_workspace(path) as store:
        store.db["_sqlite_migrations"].insert(
            {"migration_set": "prompt-lab", "name": "m999_from_the_future", "applied_at": "x"}
        )
    with pytest.raises(WorkspaceTooNew):
        open_workspace(path)


def test_a_file_that_is_not_a_database_gets_a_clear_message(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database " * 100)
    with pytest.raises(WorkspaceError) as info:
        open_workspace(path)
    assert str(path) in str(info.value)
    assert "not a Prompt Lab workspace" in str(info.value)


def test_project_round_trip_keeps_everything_in_order(tmp_path):
    project = sample_project()
    with open_workspace(tmp_path / "ws.db") as store:
        project_id = store.save_project(project)
        loaded = store.load_project(project_id)
    assert loaded.name == "Support replies"
    assert [v.name for v in loaded.variants] == [v.name for v in project.variants]
    assert loaded.variants[1].system == project.variants[1].system
    assert [e.output for e in loaded.variants[0].examples] == [
        e.output for e in project.variants[0].examples
    ]
    assert loaded.variants[0].params == {"temperature": 0.3, "max_tokens": 300}
    assert [c.vars for c in loaded.cases] == [c.vars for c in project.cases]
    assert [c.label for c in loaded.cases][:2] == ["wrong size", "late parcel"]
    assert [(c.type, c.config) for c in loaded.checks] == [
        (c.type, c.config) for c in project.checks
    ]


def test_editing_a_project_keeps_logged_calls_linked_to_their_variant_and_case(tmp_path):
    project = sample_project()
    with open_workspace(tmp_path / "ws.db") as store:
        store.save_project(project)
        variant, case = project.variants[0], project.cases[0]
        (call_id,) = store.insert_calls(
            [make_call("Hi Maya", variant_id=variant.id, test_case_id=case.id)]
        )
        variant.system += "\nBe brief."
        variant.examples.append(Example(input="new", output="example"))
        del project.cases[5]
        store.save_project(project)
        row = store.get_call(call_id)
        assert (row["variant_id"], row["test_case_id"]) == (variant.id, case.id)
        reloaded = store.load_project(project.id)
        assert reloaded.variants[0].system.endswith("Be brief.")
        assert len(reloaded.variants[0].examples) == 6
        assert len(reloaded.cases) == 19


def test_prompt_versions_are_stored_once_per_exact_text(tmp_path):
    with open_workspace(tmp_path / "ws.db") as store:
        a = store.prompt_version_id(PromptVersion("You are terse.", "{{q}}", [Example("a", "b")]))
        again = store.prompt_version_id(PromptVersion("You are terse.", "{{q}}", [Example("a", "b")]))
        other = store.prompt_version_id(PromptVersion("You are terse!", "{{q}}", [Example("a", "b")]))
        assert a == again != other
        assert store.load_prompt_version(other).system == "You are terse!"


def test_full_text_search_and_paging_through_the_log(tmp_path):
    with open_workspace(tmp_path / "ws.db") as store:
        calls = [make_call(f"reply number {i}") for i in range(450)]
        calls[123].response_text = "Your refund was approved"
        store.insert_calls(calls)
        first = store.page_calls(limit=200)
        second = store.page_calls(limit=200, before_id=first[-1]["id"])
        third = store.page_calls(limit=200, before_id=second[-1]["id"])
        ids = [r["id"] for r in first + second + third]
        assert len(ids) == 450 and ids == sorted(ids, reverse=True)
        hits = store.page_calls(search="refund")
        assert [h["response_preview"] for h in hits] == ["Your refund was approved"]
        # Prefix search, and punctuation that would be FTS5 syntax is just text.
        assert len(store.page_calls(search="approv")) == 1
        assert store.page_calls(search='"unbalanced AND (') == []


def test_ratings_tags_and_pairwise_judgements(tmp_path):
    with open_workspace(tmp_path / "ws.db") as store:
        left, right = store.insert_calls([make_call("A"), make_call("B")])
        store.set_rating(Rating(call_id=left, thumbs=1, score=4, note="good", tags=["too long"]))
        store.set_rating(Rating(call_id=left, thumbs=1, score=5, tags=["invented policy"]))
        rating = store.get_rating(left)
        assert (rating.score, rating.tags) == (5, ["invented policy"])
        store.record_pairwise(PairwiseJudgement(left_call_id=left, right_call_id=right, winner="right"))
        (judgement,) = store.list_pairwise()
        assert judgement.better_call_id == right
        with pytest.raises(sqlite3.IntegrityError):
            store.set_rating(Rating(call_id=right, score=9))


def test_no_key_material_columns_exist_in_providers(tmp_path):
    with open_workspace(tmp_path / "ws.db") as store:
        store.save_provider("local", "openai", {"base_url": "http://127.0.0.1:8000/v1",
                                                "api_key_env": "LOCAL_KEY"})
        assert store.list_providers() == [{"name": "local", "kind": "openai",
                                           "base_url": "http://127.0.0.1:8000/v1",
                                           "api_key_env": "LOCAL_KEY"}]
        columns = {c.name for c in store.db["providers"].columns}
        assert not {c for c in columns if "key" in c or "secret" in c}


def test_the_file_opens_with_the_sqlite_utils_command(tmp_path):
    path = tmp_path / "ws.db"
    with open_workspace(path) as store:
        store.save_project(sample_project())
    out = subprocess.run(
        [sys.executable, "-m", "sqlite_utils", "rows", str(path), "projects", "-c", "name"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "Support replies" in out


def test_a_deleted_row_brought_back_is_written_again_with_its_id():
    """Undoing a delete puts the very objects back, ids and all: the save writes them again."""
    from lab.core.model import Example, Project, TestCase, Variant
    from lab.core.workspace.store import open_workspace

    store = open_workspace(None)
    variant = Variant("A", "openai/gpt-4o-mini", examples=[Example("q", "a")])
    project = Project("p", variants=[variant, Variant("B", "openai/gpt-4o")],
                      cases=[TestCase({"input": "x"})])
    store.save_project(project)
    ids = variant.id, variant.examples[0].id
    project.variants.remove(variant)
    store.save_project(project)
    assert [v.name for v in store.load_project(project.id).variants] == ["B"]
    project.variants.insert(0, variant)
    store.save_project(project)
    loaded = store.load_project(project.id)
    assert [v.name for v in loaded.variants] == ["A", "B"]
    assert (loaded.variants[0].id, loaded.variants[0].examples[0].id) == ids
