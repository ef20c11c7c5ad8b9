"""A project's history in the store: prompt versions per variant with their runs and names,
the project's runs with cost and pass rates (runs of `lab run FILE` included), one call's detail."""

from __future__ import annotations

from lab.core.experiment.file import loads
from lab.core.workspace.migrations import migration_names
from lab.core.workspace.store import open_workspace
from tests.helpers.experiments import KEY_ENV, experiment_text, run_experiment
from tests.helpers.fake_provider import API_KEY, FakeProviderServer


def test_versions_runs_and_pass_rates(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, API_KEY)
    db = tmp_path / "w.db"
    server = FakeProviderServer().start()
    try:
        text = experiment_text(server, cases=2)
        with open_workspace(db) as store:
            spec = loads(text, "tone.toml")
            project_id = store.project_for_file(spec.project, str(tmp_path / "tone.toml"))
        first = run_experiment(text, db)
        edited = text.replace('system = "You are terse."', 'system = "You are very terse."')
        second = run_experiment(edited, db)
        third = run_experiment(edited, db)  # the same prompt again: no new version
    finally:
        server.stop()
    with open_workspace(db) as store:
        # The runs were made for the file, so they are this project's (through the experiment).
        for run_id in (first.run_id, second.run_id, third.run_id):
            store.db.execute("UPDATE experiments SET project_id = ? WHERE id = (SELECT"
                             " experiment_id FROM runs WHERE id = ?)", [project_id, run_id])
        store.db.conn.commit()
        versions = store.variant_prompt_versions(project_id, None, "A")
        assert [v["version"].system for v in versions] == ["You are very terse.", "You are terse."]
        assert versions[0]["runs"] == [third.run_id, second.run_id]
        assert versions[1]["runs"] == [first.run_id] and versions[1]["calls"] == 2
        assert versions[0]["first_used"] >= versions[1]["last_used"]
        store.name_prompt_version(versions[1]["id"], "  before the edit ")
        assert store.variant_prompt_versions(project_id, None, "A")[1]["name"] == "before the edit"
        assert [v["version"].system for v in store.variant_prompt_versions(
            project_id, None, "B")] == ["You are warm and brief."]

        runs = store.project_runs(project_id)
        assert [r["id"] for r in runs] == [third.run_id, second.run_id, first.run_id]
        latest = runs[0]
        assert latest["variants"] == ["A", "B"] and latest["cases"] == 2
        assert latest["status"] == "done" and latest["calls"] == 4
        passed = latest["pass_rates"]
        assert set(passed) == {"A", "B"} and passed["A"][1] == 2
        assert [r["id"] for r in store.project_runs(project_id, limit=1,
                                                    before_id=third.run_id)] == [second.run_id]

        call_id = store.calls_for_run(first.run_id)[0]["id"]
        detail = store.call_detail(call_id)
        assert detail["checks"] == {"mentions order": detail["checks"]["mentions order"]}
        assert store.run_ids_of_call(call_id) == (first.run_id, project_id)
        assert store.call_detail(10**9) is None


def test_the_migration_adds_the_name_column():
    store = open_workspace(None)
    columns = {c.name for c in store.db["prompt_versions"].columns}
    assert "name" in columns
    assert "m008_prompt_version_names" in migration_names()


