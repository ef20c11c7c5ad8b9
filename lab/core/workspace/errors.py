"""Why a workspace could not be opened or written; every message names the file and what to do."""

from __future__ import annotations


class WorkspaceError(Exception):
    """A workspace that cannot be opened or written; the message says which file and what to do."""


class WorkspaceTooNew(WorkspaceError):
    """The database was written by a newer version of the lab than this one."""
