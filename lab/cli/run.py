"""`lab run EXPERIMENT.toml`: pre-flight, estimate, a progress bar, the summary; Ctrl-C keeps what
came back and `--resume` finishes it."""

from __future__ import annotations

import argparse
import asyncio
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
    UserError,
)
from lab.cli.preflight import ask_models, load_experiment, prepare
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
    _require_trust(spec, args)
    options = RunOptions(concurrency=args.concurrency, max_concurrency=args.max_concurrency,
                         no_cache=args.no_cache, budget_usd=args.budget)
    with open_default_workspace(args.db, with_sample=False) as store:
        try:
            # trusted: _require_trust let the file through (no code checks, or trusted); the
            # file's project is kept in the workspace, so its runs show up in the window
            prepared = prepare(store, spec, args, options, prices, trusted=True, keep_project=True)
        except PlanError as exc:
            raise UserError(str(exc)) from None
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
        if args.junit:
            try:
                write_junit(store, prepared.run_id, args.junit)
            except OSError as exc:
                raise UserError(f"cannot write the JUnit file {args.junit}: {exc.strerror}") from None
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print("\n".join(terminal.summary_lines(report)))
    resume = f"lab run {args.experiment} --resume {report.run_id}"
    if report.status == "cancelled":
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
