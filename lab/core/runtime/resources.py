"""Finding the data files shipped with the lab (the top-level resources/ folder, as lab.resources)."""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path


def resource_path(relative: str) -> Path:
    """A real filesystem path to a shipped resource, e.g. "sample/support-replies.toml"."""
    ref = files("lab.resources").joinpath(relative)
    # Installed as a normal package the files are on disk; as_file covers zipped installs too.
    with as_file(ref) as path:
        return Path(path)
