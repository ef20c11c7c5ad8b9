"""Where the workspace lives, and the sample project on first start."""

from __future__ import annotations

from lab.core.workspace.location import (
    current_project_id,
    default_workspace_path,
    open_default_workspace,
)


def test_lab_home_decides_the_default_workspace(lab_home):
    assert default_workspace_path() == lab_home / "workspace.db"


def test_explicit_db_wins(tmp_path):
    assert default_workspace_path(tmp_path / "x.db") == tmp_path / "x.db"


def test_first_start_installs_the_sample_once(lab_home):
    with open_default_workspace() as store:
        (project,) = store.list_projects()
        assert project["name"] == "Support replies"
        assert (project["variants"], project["cases"]) == (2, 20)
        assert current_project_id(store) == project["id"]
    with open_default_workspace() as store:
        assert len(store.list_projects()) == 1
    assert (lab_home / "workspace.db").exists()
