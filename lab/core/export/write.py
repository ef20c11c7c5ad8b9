"""Writing a planned export: streamed, atomic, with progress and cancel.

Each file is written to a hidden temporary file in the output folder and renamed over its final
name only once every file is complete, so an interrupted, cancelled or failed export leaves the
folder as it was (no half-written train.jsonl next to an old README). Records are built and
written one at a time from the plan's examples. `progress(done, total)` is called every
`progress_every` records and at the end; setting the `cancel` event stops the export at the next
record and removes the temporary files.
"""

from __future__ import annotations

import csv
import errno
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from lab.core.export import card, csv_table
from lab.core.export.plan import ExportError, ExportPlan, ValidationFailed
from lab.core.export.target import LineEncoder
from lab.core.export.validation import Problem, Report

Progress = Callable[[int, int], None]


class ExportCancelled(ExportError):
    """The user cancelled; nothing in the output folder was changed."""


@dataclass
class ExportResult:
    out_dir: Path
    files: dict[str, Path]  # file name -> path, data files first, then README.md and the rest
    counts: dict[str, int]
    sizes: dict[str, int]
    report: Report
    summary: dict[str, Any]
    # Problems only visible once written (a file over a service's size limit).
    problems: list[Problem] = field(default_factory=list)
    # Files of an earlier export in the folder that this one did not replace.
    stale_files: list[Path] = field(default_factory=list)


class _Writer:
    """One data file in the target's layout: JSONL, a JSON array with a record per line, CSV."""

    def __init__(self, handle: IO[str], plan: ExportPlan):
        self.handle, self.layout, self.count = handle, plan.target.layout, 0
        self.dumps = LineEncoder()
        self.csv = (csv.DictWriter(handle, fieldnames=csv_table.columns(plan.kind))
                    if self.layout == "csv" else None)
        if self.csv:
            self.csv.writeheader()

    def write(self, record: dict[str, Any]) -> None:
        if self.csv:
            self.csv.writerow(record)
        elif self.layout == "json-array":
            self.handle.write(("[\n" if self.count == 0 else ",\n") + self.dumps(record))
        else:
            self.handle.write(self.dumps(record) + "\n")
        self.count += 1

    def close(self) -> None:
        if self.layout == "json-array":
            self.handle.write("[]\n" if self.count == 0 else "\n]\n")


def _finish(handle: IO[str]) -> None:
    handle.flush()
    os.fsync(handle.fileno())  # on disk before the rename makes it the real file
    handle.close()


def write_export(plan: ExportPlan, out_dir: str | Path, progress: Progress | None = None,
                 cancel: threading.Event | None = None) -> ExportResult:
    """Write the plan's files, the dataset card and any extra files into `out_dir`.

    Raises ValidationFailed when the report has errors and the plan was not forced,
    ExportCancelled when `cancel` was set, ExportError when the folder cannot be written.
    """
    if plan.report.has_errors and not plan.options.force:
        raise ValidationFailed(plan.report)
    out = Path(out_dir).expanduser()
    temps: dict[str, Path] = {}
    handle: IO[str] | None = None
    try:
        out.mkdir(parents=True, exist_ok=True)
        total, done, every = len(plan.examples), 0, max(1, plan.options.progress_every)
        for split_name, file_name in plan.files.items():
            temps[file_name] = out / f".{file_name}.{os.getpid()}.tmp"
            handle = open(temps[file_name], "w", encoding="utf-8", newline="")
            writer = _Writer(handle, plan)
            for _example, record in plan.records(split_name):
                if cancel is not None and cancel.is_set():
                    raise ExportCancelled("Export cancelled; nothing was written.")
                writer.write(record)
                done += 1
                if progress and done % every == 0:
                    progress(done, total)
            writer.close()
            _finish(handle)
        if progress:
            progress(done, total)
        sizes = {name: path.stat().st_size for name, path in temps.items()}
        extras = plan.target.extra_files(plan.files, plan.kind, plan.dataset_name,
                                            plan.examples)
        for name, text in extras.items():
            temps[name] = out / f".{name}.{os.getpid()}.tmp"
            temps[name].write_text(text, encoding="utf-8")
            sizes[name] = temps[name].stat().st_size
        summary = plan.summary()  # once: its token statistics go over every example
        temps["README.md"] = out / f".README.md.{os.getpid()}.tmp"
        temps["README.md"].write_text(card.render(plan, sizes, summary["tokens"]),
                                      encoding="utf-8")
        for name, path in temps.items():
            os.replace(path, out / name)
    except BaseException as exc:
        if handle is not None and not handle.closed:
            handle.close()
        for path in temps.values():
            path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _disk_error(exc, out) from exc
        raise
    return _result(plan, out, sizes, summary)


def _disk_error(exc: OSError, out: Path) -> ExportError:
    if exc.errno == errno.ENOSPC:
        return ExportError(f"The disk holding {out} is full; nothing was written. Free some "
                           "space or choose another folder.")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ExportError(f"Cannot write into {out} ({exc.strerror}); choose a folder you can "
                           "write to.")
    return ExportError(f"Cannot write the export into {out}: {exc.strerror or exc}.")


def _result(plan: ExportPlan, out: Path, sizes: dict[str, int],
            summary: dict[str, Any]) -> ExportResult:
    problems = []
    limit = plan.target.max_file_bytes
    for name in plan.files.values():
        if limit is not None and sizes[name] > limit:
            problems.append(Problem("error", f"{plan.target.name}.file-size", f"{name} is "
                                    f"{sizes[name]:,} bytes; {plan.target.service} takes files "
                                    f"of at most {limit:,} bytes.",
                                    "Export fewer examples per file.", file=name))
    ours = {f"{s}{plan.target.suffix}" for s in ("train", "validation")}
    stale = [out / name for name in sorted(ours - set(plan.files.values()))
             if (out / name).exists()]
    names = [*plan.files.values(), "README.md", *(n for n in sizes if n not in plan.files.values())]
    return ExportResult(
        out_dir=out, files={n: out / n for n in dict.fromkeys(names)}, counts=plan.counts(),
        sizes=sizes, report=plan.report, summary=summary, problems=problems,
        stale_files=stale,
    )
