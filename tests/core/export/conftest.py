"""A judged workspace (tests/helpers/judged_workspace.py) for the export tests."""

from __future__ import annotations

import pytest

from tests.helpers.judged_workspace import Workspace, build


@pytest.fixture(scope="module")
def judged(tmp_path_factory) -> Workspace:
    """Shared by a module's tests: read it, never change it."""
    return build(tmp_path_factory.mktemp("judged") / "workspace.db")


@pytest.fixture
def fresh(tmp_path) -> Workspace:
    """A judged workspace of the test's own, to add judgements to."""
    return build(tmp_path / "workspace.db")


@pytest.fixture
def store(judged):
    with judged.open() as s:
        yield s
