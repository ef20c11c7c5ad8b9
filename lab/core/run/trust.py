"""May an experiment's code run here? Checks that are code (``python``) run only from a trusted
source, the way editors treat a folder they have not been told to trust.

Trusted: a project the user typed in the window (their own checks), and an experiment file whose
exact content the user trusted (`lab run FILE --trust`; remembered by
``lab.core.workspace.trust``, so an edited file asks again). Not trusted: any other file, however
it arrived (git, an import from another tool). A file without code checks needs no trust at all.

`untrusted_code_checks` is the question a caller asks before a run (the command line refuses, a
window may ask the user); `resume_trusted` answers it for a run being resumed, whose checks come
from the workspace. The run itself enforces the answer: `PreparedRun.trusted` False means its
python checks are not run (lab.core.run.calls).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lab.core.checks.config import check_names, runs_code
from lab.core.experiment import file as experiment_file
from lab.core.experiment.file import ExperimentSpec
from lab.core.model import Check, Project
from lab.core.workspace.trust import TrustedFile, TrustStore, file_digest

WINDOW_SOURCE = "gui"  # `PreparedRun.source` of runs started from the window


def code_checks(checks: Sequence[Check]) -> list[str]:
    """Display names of the checks that are code, in order."""
    return [name for check, name in zip(checks, check_names(checks)) if runs_code(check)]


def untrusted_code_checks(
    spec_or_project: ExperimentSpec | Project,
    source_path: str | Path | None = None,
    *,
    trust: TrustStore | None = None,
) -> list[str]:
    """Names of the checks that would run code from a source the user has not trusted; [] when
    everything may run.

    `source_path`: the file the checks were read from (default: the spec's own `source`); None
    for a project typed in the window, which is the user's own. For a spec loaded from that very
    file, trust is decided on the bytes that were parsed (`spec.sha256`), not a second read."""
    if isinstance(spec_or_project, ExperimentSpec):
        spec: ExperimentSpec | None = spec_or_project
        project = spec_or_project.project
        source_path = spec_or_project.source if source_path is None else source_path
    else:
        spec, project = None, spec_or_project
    names = code_checks(project.checks)
    if not names or source_path is None:
        return []
    if spec is not None and spec.sha256 and spec.source is not None and (
            Path(spec.source).resolve() == Path(source_path).resolve()):
        digest = spec.sha256
    else:
        try:
            digest = file_digest(source_path)
        except OSError:
            return names  # cannot read it: cannot trust it
    return [] if (trust or TrustStore()).is_trusted(digest) else names


def trust_file(spec: ExperimentSpec, *, trust: TrustStore | None = None) -> TrustedFile:
    """Trust the file `spec` was loaded from, as it was read (its code may then run)."""
    if spec.source is None or not spec.sha256:
        raise ValueError("only an experiment loaded from a file can be trusted")
    return (trust or TrustStore()).trust(spec.sha256, spec.source)


def resume_trusted(run: dict[str, Any], spec: ExperimentSpec, *,
                   trust: TrustStore | None = None) -> bool:
    """Whether run `run` (a workspace row) may run its code checks when resumed, with `spec` its
    stored experiment: it has none, it was started from the window, or the file it was started
    from is trusted and still holds exactly these checks, variants and cases."""
    if not code_checks(spec.project.checks):
        return True
    source = run.get("experiment_source") or ""
    if source == WINDOW_SOURCE:
        return True
    path = Path(source)
    if not source or not path.is_file():
        return False
    try:
        current = experiment_file.load(path)
    except experiment_file.ExperimentFileError:
        return False
    return current.project == spec.project and not untrusted_code_checks(current, trust=trust)
