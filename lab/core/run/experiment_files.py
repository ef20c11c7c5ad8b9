"""The window and experiment files as one world: opening a file as a project of the workspace,
writing the project back, and what a project's file says now (its own providers, samples, whether
its code may run, and its content's digest, so a change made elsewhere is noticed).

A project opened from a file is the workspace project that file maps to (`project_for_file`,
matched by the file's resolved path), the same one `lab run FILE` logs to. Writing back keeps the
file's own `[providers]` tables and samples, and its cases file while the test cases are still the
ones in it, so `lab run` reads the same experiment the window shows. Comments in the file are
not kept (the TOML writer has no place for them). Trust stays with the file's content (lab.core.run.trust): a file with python checks that
is not trusted opens with those checks not run; a file the user trusted, written back by the
window, stays trusted (the new content is the user's own).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.core.experiment import file as experiment_file
from lab.core.experiment.file import ExperimentFileError, ExperimentSpec
from lab.core.model import Project
from lab.core.run.trust import code_checks, trust_file, untrusted_code_checks
from lab.core.workspace.location import LAST_PROJECT_KEY
from lab.core.workspace.trust import TrustStore

if TYPE_CHECKING:  # annotations only: loaded where used, not at import
    from lab.core.workspace.store import Store



@dataclass
class FileState:
    """What a project's experiment file says now (all empty for a project with no file)."""

    path: str | None = None
    exists: bool = False
    sha256: str | None = None  # of the bytes on disk
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    samples: int | None = None
    untrusted: list[str] = field(default_factory=list)  # python checks that may not run
    problem: str = ""  # why the file could not be read (it is still the project's file)

    @property
    def trusted(self) -> bool:
        return not self.untrusted


def read_experiment(path: str | Path) -> tuple[ExperimentSpec, list[str]]:
    """The experiment in `path`, and the names of its python checks that may not run because
    the file is not trusted. Raises ExperimentFileError, naming file, line and field."""
    spec = experiment_file.load(Path(path).resolve())
    return spec, untrusted_code_checks(spec)


def adopt_experiment(store: Store, spec: ExperimentSpec) -> int:
    """Make the file's project the workspace project it maps to, and the one open next."""
    if spec.source is None:
        raise ValueError("only an experiment read from a file can be adopted")
    project_id = store.project_for_file(spec.project, str(Path(spec.source).resolve()))
    store.set_meta(LAST_PROJECT_KEY, str(project_id))
    return project_id


def file_state(project: Project) -> FileState:
    """What the project's file says now: read from disk (call it off the GUI thread)."""
    if not project.source_path:
        return FileState()
    path = Path(project.source_path)
    state = FileState(path=str(path))
    try:
        data = path.read_bytes()
    except OSError:
        state.problem = f"{path} is not there any more; File ▸ Save Experiment writes it again."
        state.untrusted = code_checks(project.checks)
        return state
    state.exists, state.sha256 = True, hashlib.sha256(data).hexdigest()
    try:
        spec = experiment_file.load(path)
    except ExperimentFileError as exc:
        state.problem = str(exc)
        state.untrusted = untrusted_code_checks(project, path)
        return state
    state.providers, state.samples = spec.providers, spec.samples
    state.untrusted = untrusted_code_checks(project, path) if code_checks(project.checks) else []
    return state


def file_digest(path: str | Path) -> str | None:
    """SHA-256 of the file's bytes now; None if it cannot be read."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def write_experiment(project: Project, path: str | Path, *, samples: int = 1,
                     providers: dict[str, dict[str, Any]] | None = None,
                     trusted: bool = False, trust: TrustStore | None = None) -> str:
    """Write the project as an experiment file (atomically: a half-written file never replaces
    the old one) and return the digest of what was written. `trusted`: the project's code
    checks may run now (the user's own, or from a file they trusted): the file as written is
    trusted too."""
    target = Path(path)
    spec = ExperimentSpec(project=project, providers=dict(providers or {}), samples=samples)
    try:  # test cases still as the file's cases file has them: keep pointing at it
        kept = experiment_file.cases_file_kept(target.read_text(encoding="utf-8"),
                                               target.parent, project.cases)
    except (OSError, UnicodeDecodeError):
        kept = None
    data = experiment_file.dumps(spec, cases_file=kept).encode("utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    digest = hashlib.sha256(data).hexdigest()
    if trusted and code_checks(project.checks):
        (trust or TrustStore()).trust(digest, target.resolve())
    return digest


def trust_read_file(spec: ExperimentSpec, *, trust: TrustStore | None = None) -> None:
    """The user trusts the file as it was read: its python checks may run."""
    trust_file(spec, trust=trust)
