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


def test_first_start_installs_the_samples_once(lab_home):
    with open_default_workspace() as store:
        support, policies = store.list_projects()
        assert support["name"] == "Support replies"
        assert (support["variants"], support["cases"]) == (2, 20)
        assert current_project_id(store) == support["id"]  # the one the window opens
        assert policies["name"] == "Policy answers"
        project = store.load_project(policies["id"])
    with open_default_workspace() as store:
        assert len(store.list_projects()) == 2
    assert (lab_home / "workspace.db").exists()
    # Variant B retrieves from the policy documents, copied where the user may edit them.
    assert [v.retrieval is not None and v.retrieval.on for v in project.variants] == [False, True]
    (source,) = project.documents
    folder = lab_home / "sample-documents" / "policies"
    assert source.path == str(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["privacy.md", "refunds.md",
                                                        "shipping.md", "warranty.md"]
    assert {"expected_source", "must_mention"} <= set(project.cases[0].vars)
    assert [c.type for c in project.checks] == ["contains", "citations", "retrieval-hit"]


def test_a_sample_documents_folder_edited_by_the_user_is_kept(lab_home, tmp_path):
    folder = lab_home / "sample-documents" / "policies"
    folder.mkdir(parents=True)
    (folder / "refunds.md").write_text("# Returns\n\nOur own words.\n")
    with open_default_workspace(tmp_path / "other.db") as store:
        project = store.load_project(store.list_projects()[1]["id"])
    assert project.documents[0].path == str(folder)
    assert (folder / "refunds.md").read_text() == "# Returns\n\nOur own words.\n"
