"""Where the workspace lives, and opening it with the sample projects on first start.

Order of precedence: an explicit `--db PATH`, then the `LAB_HOME` environment variable (a folder
holding `workspace.db`), then the platform's data directory (on Linux
`~/.local/share/prompt-lab/workspace.db`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from platformdirs import user_data_dir

from lab.core.runtime.resources import resource_path
from lab.core.workspace.errors import WorkspaceError

if TYPE_CHECKING:
    from lab.core.workspace.store import Store

WORKSPACE_FILENAME = "workspace.db"
PRICES_FILENAME = "prices.toml"
SAMPLE_FILE = "sample/support-replies.toml"
POLICY_SAMPLE_FILE = "sample/policy-answers.toml"
SAMPLE_DOCUMENTS = "sample-documents"  # in the lab's home: the samples' documents, editable
LAST_PROJECT_KEY = "last_project_id"


def lab_home() -> Path:
    """The folder for the default workspace and the user's own files (price table, settings)."""
    env = os.environ.get("LAB_HOME")
    if env:
        return Path(env).expanduser()
    return Path(user_data_dir("prompt-lab", appauthor=False))


def user_prices_path() -> Path:
    """The user's own price file: it overrides the shipped table model by model. It may not
    exist yet (`pricing.save_user_price` creates it, `pricing.ensure_user_copy` copies the
    shipped table there to edit)."""
    return lab_home() / PRICES_FILENAME


def default_workspace_path(db: str | Path | None = None) -> Path:
    if db:
        return Path(db).expanduser()
    return lab_home() / WORKSPACE_FILENAME


def check_workspace_path(path: Path, *, create: bool, explicit: bool) -> None:
    """Refuse, in one line naming the path, a workspace path that cannot be what the user meant.

    A folder is never a workspace. Reading (``create=False``) needs an existing file: a command
    that only looks must not leave an empty workspace behind a mistyped path. A path the user
    typed (``explicit``) must be in a folder that exists; only the default location's folders
    are made on first start.
    """
    if path.is_dir():
        raise WorkspaceError(
            f"{path} is a folder, not a workspace file; give a file path such as "
            f"{path / WORKSPACE_FILENAME}."
        )
    if not path.exists():
        if not create:
            raise WorkspaceError(
                f"There is no workspace at {path}. Check the path; a workspace is created when "
                "you open the app or run an experiment with --db."
            )
        if explicit and not path.parent.is_dir():
            raise WorkspaceError(
                f"The folder {path.parent} does not exist; create it first or give another path "
                "for the workspace."
            )


def open_default_workspace(
    db: str | Path | None = None, *, with_sample: bool = True, create: bool = True
) -> Store:
    """Open the workspace; an empty one gets the sample project so a newcomer sees what it's for.

    ``create=False`` is for commands that only read: a missing workspace is an error, not a new
    empty file.
    """
    # The store (sqlite-utils) is imported here, not with this module: the window opens its
    # workspace on the store thread, so the import stays off the path to its first paint.
    from lab.core.workspace.store import open_workspace

    path = default_workspace_path(db)
    check_workspace_path(path, create=create, explicit=db is not None)
    store = open_workspace(path)
    if with_sample and not store.list_projects():
        install_sample(store)
    return store


def install_sample(store: Store) -> int:
    """Add the sample projects to the workspace: support replies (the one opened) and policy
    answers, whose variant B retrieves from a few policy documents."""
    _install(store, POLICY_SAMPLE_FILE)
    project_id = _install(store, SAMPLE_FILE)  # saved last: it heads the list of projects
    store.set_meta(LAST_PROJECT_KEY, str(project_id))
    return project_id


def _install(store: Store, name: str) -> int:
    from lab.core.experiment import file as experiment_file

    path = resource_path(name)
    spec = experiment_file.load(path)
    for source in spec.project.documents:
        source.path = str(sample_documents(path.parent, source.path))
    return store.save_project(spec.project)


def sample_documents(shipped_dir: Path, relative: str) -> Path:
    """A sample's documents folder, copied to the lab's home on first start so it can be
    edited and indexed again (the shipped copy may be read-only, and moves with the install);
    a copy made earlier is kept as the user left it. If it cannot be copied, the shipped one."""
    shipped = shipped_dir / relative
    target = lab_home() / SAMPLE_DOCUMENTS / shipped.name
    if not target.exists():
        try:
            shutil.copytree(shipped, target)
        except OSError:
            return shipped
    return target


def current_project_id(store: Store) -> int | None:
    """The project the user had open last, or the newest one."""
    remembered = store.get_meta(LAST_PROJECT_KEY)
    projects = store.list_projects()
    ids = {p["id"] for p in projects}
    if remembered and remembered.isdigit() and int(remembered) in ids:
        return int(remembered)
    return projects[0]["id"] if projects else None
