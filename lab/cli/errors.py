"""What a `lab` command can end with: a user error (one line, exit 2) and the exit statuses."""

from __future__ import annotations

EXIT_USER_ERROR = 2
EXIT_RUN_FAILED = 1  # the workspace could not be written during a run
EXIT_BUDGET = 3  # the budget cap stopped the run; resume it with a higher --budget
EXIT_CALL_ERRORS = 4  # calls ended in errors (beyond --max-errors, unless --allow-errors)
EXIT_THRESHOLD = 5  # a --fail-under or --max-errors threshold was missed
EXIT_PARTIAL_IMPORT = 6  # lab import wrote the experiment, but some parts could not be converted
EXIT_WAITING = 7  # a batch run left batches at the provider (--no-wait, or one that could not be
                  # followed); `lab run --resume` collects them
EXIT_CANCELLED = 130  # Ctrl-C, as shells report it


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit status 2."""
