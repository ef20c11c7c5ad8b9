"""`lab run EXPERIMENT.toml`: pre-flight, estimate, a progress bar, the summary; Ctrl-C keeps what
came back and `--resume` finishes it."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import shlex
import signal
import sys

from lab.cli import terminal
from lab.cli.errors import (
    EXIT_BUDGET,
    EXIT_CALL_ERRORS,
    EXIT_CANCELLED,
    EXIT_RUN_FAILED,
    EXIT_THRESHOLD,
    EXIT_WAITING,
    UserError,
)
from lab.cli.preflight import ask_models, load_experiment, prepare
from lab.core.run.batch import BatchRunner
from lab.core.run.batch_plan import BatchOptions, needs_batch_runner, with_batches
from lab.core.run.gate import Gates, judge
from lab.core.run.junit import write_junit
from lab.core.run.plan import PlanError
from lab.core.run.report import run_report
from lab.core.run.runner import Runner
from lab.core.experiment import file as experiment_file
from lab.core.run.setup import RunOptions
from lab.core.run.trust import trust_file, untrusted_code_checks
from lab.core.workspace.location import lab_home, open_default_workspace


def cmd_run(args: argparse.Namespace) -> int:
    spec, prices = load_experiment(args.experiment)
    _check_batch_flags(args)
    _require_trust(spec, args)
    options = RunOptions(concurrency=args.concurrency, max_concurrency=args.max_concurrency,
                         no_cache=args.no_cache, budget_usd=args.budget,
                         batch=True if args.batch else False if args.no_batch else None)
    batch_options = BatchOptions.from_env(wait=not args.no_wait)
    with open_default_workspace(args.db, with_sample=False) as store:
        try:
            # trusted: _require_trust let the file through (no code checks, or trusted); the
            # file's project is kept in the workspace, so its runs show up in the window
            prepared = prepare(store, spec, args, options, prices, trusted=True, keep_project=True)
            # a batch run, or a resume with batches still at a provider
            batches = needs_batch_runner(store, prepared)
            if batches:
                prepared = with_batches(store, prepared, prices, options=batch_options)
        except PlanError as exc:
            raise UserError(str(exc)) from None
        if args.no_wait and not batches:
            raise UserError("--no-wait is for batch runs (add --batch); nothing was sent")
        db_path = store.path
    models = ask_models(prepared.plan)
    if models.problems:
        raise UserError(models.problems[0])
    if models.unreachable and not prepared.nothing_to_do:
        if not args.yes:
            raise UserError(f"{models.unreachable[0]} Pass --yes to run anyway.")
        for line in models.unreachable:
            print(f"lab: warning: {line.removesuffix(' Nothing was sent.')}", file=sys.stderr)
    if prepared.nothing_to_do:
        print(f"Run {prepared.run_id} is complete; nothing to resume.", file=sys.stderr)
    else:
        print("\n".join(terminal.estimate_lines(prepared.estimate, args.budget)), file=sys.stderr)
        if not args.yes and sys.stdin.isatty() and not _confirm():
            print("Nothing was sent.", file=sys.stderr)
            return 0
        progress = terminal.ProgressBar()
        if batches:
            runner: Runner = BatchRunner(db_path, prepared, on_event=progress.on_event,
                                         prices=prices, batch_options=batch_options)
        else:
            runner = Runner(db_path, prepared, on_event=progress.on_event, prices=prices)
        finished = asyncio.run(_run_until_interrupted(runner))
        prepared.run_id = finished.run_id
        for warning in runner.warnings:
            print(f"lab: warning: {warning}", file=sys.stderr)
        if finished.status == "failed":
            print(f"lab: run {finished.run_id} stopped: {finished.message}", file=sys.stderr)
            return EXIT_RUN_FAILED
    with open_default_workspace(db_path, with_sample=False) as store:
        report = run_report(store, prepared.run_id)
        batch_rows = store.batches_for_run(prepared.run_id)
        failures = store.batch_failures(prepared.run_id)
        if args.junit:
            try:
                write_junit(store, prepared.run_id, args.junit)
            except OSError as exc:
                raise UserError(f"cannot write the JUnit file {args.junit}: {exc.strerror}") from None
    if args.json:
        document = report.to_dict()
        if batch_rows:
            document["batches"] = [_batch_summary(b) for b in batch_rows]
        print(json.dumps(document, indent=2))
    else:
        print("\n".join(terminal.summary_lines(report)))
        if batch_rows:
            print("\n".join(_batch_lines(batch_rows)))
    resume = f"lab run {args.experiment} --resume {report.run_id}"
    if failures:
        for line in _failure_lines(failures, resume):
            print(f"lab: {line}", file=sys.stderr)
    if report.status == "waiting":
        left = [b for b in batch_rows if b["status"] in ("submitted", "in_progress", "cancelling",
                                                          "ended")]
        why = "; ".join(dict.fromkeys(b["error"] for b in left if b["error"]))
        print(f"lab: {len(left)} batch{'es are' if len(left) != 1 else ' is'} still at the "
              f"provider{f' ({why})' if why else ''}; their results are collected by: {resume}",
              file=sys.stderr)
        return EXIT_WAITING
    if report.status == "cancelled":
        cancelled = sum(b["status"] == "cancelling" for b in batch_rows)
        if cancelled:
            print(f"lab: cancelled {cancelled} batch{'es' if cancelled != 1 else ''} at the "
                  "provider; what they finished is billed and collected when the run is resumed.",
                  file=sys.stderr)
        print(f"lab: cancelled; finished calls are kept. Finish with: {resume}", file=sys.stderr)
        return EXIT_CANCELLED
    if report.status == "budget":
        print(f"lab: the budget of {terminal.money(args.budget)} was reached. Finish with: "
              f"{resume} --budget USD", file=sys.stderr)
        return EXIT_BUDGET
    if report.not_sent:  # a provider stopped (no key, no credit): the summary says why, once
        noun = "call was" if report.not_sent == 1 else "calls were"
        print(f"lab: {report.not_sent} {noun} not sent (see above); once that is fixed, finish "
              f"with: {resume}", file=sys.stderr)
    verdict = judge(report.variants, Gates(args.fail_under, args.max_errors, args.allow_errors))
    for line in verdict.errors + verdict.missed:
        print(f"lab: {line}.", file=sys.stderr)
    if verdict.errors:
        return EXIT_CALL_ERRORS
    return EXIT_THRESHOLD if verdict.missed else 0


async def _run_until_interrupted(runner: Runner):
    # Ctrl-C cancels the run cleanly (calls in flight are logged as cancelled); a second
    # Ctrl-C while that happens is not needed and is ignored.
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, runner.cancel)
    except (NotImplementedError, RuntimeError):  # not the main thread, or Windows
        pass
    return await runner.run()


def _check_batch_flags(args: argparse.Namespace) -> None:
    if args.batch and args.no_batch:
        raise UserError("--batch and --no-batch contradict each other; choose one")
    if args.no_batch and args.resume is None:
        raise UserError("--no-batch goes with --resume (a new run sends calls one by one "
                        "unless --batch)")


def _batch_summary(batch: dict) -> dict:
    return {key: batch[key] for key in (
        "id", "provider", "kind", "model", "provider_batch_id", "status", "provider_status",
        "outcome", "request_count", "succeeded_count", "failed_count", "error", "submitted_at",
        "ended_at", "collected_at")} | {"logged": batch["logged"]}


def _batch_lines(batches: list[dict]) -> list[str]:
    lines = ["", "Batches (at the batch price; no per-call latency: each batch's turnaround)"]
    for b in batches:
        turnaround = ""
        if b["submitted_at"] and b["collected_at"]:
            seconds = (dt.datetime.fromisoformat(b["collected_at"])
                       - dt.datetime.fromisoformat(b["submitted_at"])).total_seconds()
            turnaround = f", {_duration(seconds)} from sending to results"
        logged = ", ".join(f"{n:,} {outcome}" for outcome, n in sorted(b["logged"].items()))
        status = b["status"] + (f" ({b['outcome']})" if b["outcome"] else "")
        lines.append(f"  {b['id']}: {b['provider']}/{b['model']} {b['provider_batch_id'] or '-'}"
                     f" · {status} · {b['request_count']:,} requests"
                     f"{f': {logged}' if logged else ''}{turnaround}")
    return lines


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _failure_lines(failures: list[dict], resume: str) -> list[str]:
    kinds: dict[str, int] = {}
    for f in failures:
        kinds[f["outcome"]] = kinds.get(f["outcome"], 0) + 1
    counted = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    lines = [f"{len(failures)} request{'s' if len(failures) != 1 else ''} did not succeed in "
             f"batches ({counted}):"]
    for f in failures[:10]:
        lines.append(f"  {f['custom_id']} (variant {f['variant_name']}, case "
                     f"{f['case_index'] + 1}, sample {f['sample_index'] + 1}): "
                     f"{f['error_message'] or f['outcome']}")
    if len(failures) > 10:
        lines.append(f"  … and {len(failures) - 10} more (`lab log` lists them)")
    lines.append(f"Send them again with: {resume} (in a new batch; add --no-batch to send them "
                 "one by one)")
    return lines


def _require_trust(spec: experiment_file.ExperimentSpec, args: argparse.Namespace) -> None:
    """Refuse, before anything is sent, a file whose python checks (code) the user has not
    trusted; `--trust` trusts it (this exact content) and goes on."""
    untrusted = untrusted_code_checks(spec)
    if not untrusted:
        return
    if args.trust:
        try:
            trust_file(spec)
        except OSError as exc:
            raise UserError(f"could not remember that {args.experiment} is trusted: "
                            f"{exc.strerror or exc} ({exc.filename or lab_home()})") from None
        print(f"lab: trusted {args.experiment}: its python checks will run on this machine "
              "(remembered until the file changes)", file=sys.stderr)
        return
    checks = ", ".join(f"'{name}'" for name in untrusted)
    noun = "check" if len(untrusted) == 1 else "checks"
    command = shlex.join(["lab", "run", str(args.experiment), "--trust"])
    raise UserError(
        f"{args.experiment}: python {noun} {checks} would run code on this machine, and this "
        f"file is not trusted; nothing was sent. If you trust it, run: {command} (once: trust "
        "is remembered until the file changes)"
    )


def _confirm() -> bool:
    # The question goes to stderr with the estimate: stdout may be piped (`--json | jq`).
    print("Run it? [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")
