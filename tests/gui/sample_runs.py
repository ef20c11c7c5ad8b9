"""The sample workspace pointed at the fake provider server over loopback, for tests that run it
from the window (the server itself is the `fake_server` fixture in conftest.py)."""

from __future__ import annotations

import sqlite3

from lab.core.providers.base import ProviderConfig
from lab.core.workspace.location import current_project_id, open_default_workspace
from lab.core.workspace.providers import save_provider
from tests.helpers.fake_provider import FakeProviderServer

KEY_ENV = "LAB_GUI_TEST_KEY"
# The support sample's id, for queries over a workspace that also holds the policy sample.
SUPPORT = "(SELECT id FROM projects WHERE name = 'Support replies')"


def point_sample_at(server: FakeProviderServer, lab_home) -> None:
    """The sample workspace, with a provider `fake` and both variants on its models."""
    with open_default_workspace(lab_home / "workspace.db") as store:
        save_provider(store, ProviderConfig(name="fake", kind="openai", local=False,
                                            base_url=server.base_url("openai"),
                                            api_key_env=KEY_ENV, concurrency=8))
        project = store.load_project(current_project_id(store))
        project.variants[0].model = "fake/gpt-4o-mini"
        project.variants[1].model = "fake/gpt-4o"
        store.save_project(project)


def point_project_at(server: FakeProviderServer, lab_home, name: str, cases: int | None = None,
                     open_it: bool = True) -> None:
    """A sample project (by name) on the fake's models, with its first `cases` test cases only
    (None: all), made the one the window opens."""
    from lab.core.workspace.location import LAST_PROJECT_KEY

    point_sample_at(server, lab_home)
    with open_default_workspace(lab_home / "workspace.db") as store:
        project_id = next(p["id"] for p in store.list_projects() if p["name"] == name)
        project = store.load_project(project_id)
        for variant in project.variants:
            variant.model = "fake/gpt-4o-mini"
        if cases is not None:
            del project.cases[cases:]
        store.save_project(project)
        if open_it:
            store.set_meta(LAST_PROJECT_KEY, str(project_id))


def calls_in_db(lab_home) -> int:
    conn = sqlite3.connect(lab_home / "workspace.db")
    try:
        return conn.execute("SELECT count(*) FROM calls WHERE status = 'ok'").fetchone()[0]
    finally:
        conn.close()
