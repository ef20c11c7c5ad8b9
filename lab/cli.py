"""The `lab` command: the GUI launcher and a thin command line over lab.core.

With no arguments it opens the app. Subcommands are added here as the engine grows; each one is a
small function that parses arguments, calls the core, and prints. User errors end with one clear
line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from lab import APP_NAME, __version__, terminal
from lab.core.experiment import file as experiment_file
from lab.core.providers import ProviderClient, keys
from lab.core.providers.pricing import PriceTable, PriceTableError
from lab.core.run.plan import PlanError, RunPlan, build_plan, provider_configs
from lab.core.run.preflight import unknown_models
from lab.core.run.report import run_report
from lab.core.run.runner import Runner
from lab.core.run.setup import PreparedRun, RunOptions, prepare_resume, prepare_run
from lab.core.workspace.errors import WorkspaceError
from lab.core.workspace.location import (
    default_workspace_path,
    lab_home,
    open_default_workspace,
)
from lab.core.workspace.providers import configured_providers
from lab.core.workspace.store import Store

EXIT_USER_ERROR = 2
EXIT_RUN_FAILED = 1  # the workspace could not be written during a run
EXIT_BUDGET = 3  # the budget cap stopped the run; resume it with a higher --budget
EXIT_CANCELLED = 130  # Ctrl-C, as shells report it


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (like every other error here), not the whole
    usage text; subcommands inherit it."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USER_ERROR, f"lab: {message} (see '{self.prog} --help')\n")


def _add_db(parser: argparse.ArgumentParser, top: bool = False) -> None:
    # On subcommands the default is SUPPRESS, so `lab --db X workspace` keeps X.
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=None if top else argparse.SUPPRESS,
        help="workspace file (default: $LAB_HOME/workspace.db or the platform's data folder)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lab",
        description=f"{APP_NAME}: edit prompts, A/B test them against your models, log every "
        "call, export fine-tuning data. Run with no command to open the app.",
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    _add_db(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    gui = sub.add_parser("gui", help="open the app (the default)", description="Open the app.")
    _add_db(gui)
    gui.set_defaults(handler=cmd_gui)

    info = sub.add_parser(
        "workspace",
        help="show where the workspace is and what it holds",
        description="Show the workspace file, its schema version and its projects.",
    )
    _add_db(info)
    info.add_argument("--json", action="store_true", help="print one JSON document")
    info.set_defaults(handler=cmd_workspace)

    keys_cmd = sub.add_parser(
        "keys",
        help="store API keys in the system keyring",
        description="API keys live in the operating system's keyring (or in environment "
        "variables), never in the workspace, settings or logs.",
    )
    keys_sub = keys_cmd.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    key_set = keys_sub.add_parser(
        "set", help="store a key, read from standard input",
        description="Store the key for PROVIDER in the keyring. The key is read from standard "
        "input (type or paste it, then Enter), so it never appears in the shell history.",
    )
    key_set.add_argument("provider", metavar="PROVIDER", help="provider name, e.g. openai")
    _add_db(key_set)
    key_set.set_defaults(handler=cmd_keys_set)
    key_list = keys_sub.add_parser(
        "list", help="show which providers have a key (never the key)",
        description="Show each provider and where its key comes from: keyring, environment, "
        "or missing.",
    )
    _add_db(key_list)
    key_list.add_argument("--json", action="store_true", help="print one JSON document")
    key_list.set_defaults(handler=cmd_keys_list)
    key_delete = keys_sub.add_parser(
        "delete", help="remove a stored key", description="Remove PROVIDER's key from the keyring.")
    key_delete.add_argument("provider", metavar="PROVIDER")
    _add_db(key_delete)
    key_delete.set_defaults(handler=cmd_keys_delete)
    _add_run(sub)
    _add_log(sub)
    _add_export(sub)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _usd(text: str) -> float:
    try:
        value = float(text.removeprefix("$"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an amount in USD, e.g. 0.50") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("the budget must be more than 0")
    return value


def _add_run(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser(
        "run", help="run an experiment file headless",
        description="Run every variant over every test case (times --samples) of an experiment "
        "file, logging each call to the workspace. Shows the estimated calls, tokens and cost "
        "first, a progress bar on a terminal, and a summary table at the end. Exit status: 0 "
        "when every call ended (successfully or with a recorded error), 1 when the workspace "
        "could not be written, 2 for bad input, 3 when the budget stopped the run, 130 when "
        "cancelled (Ctrl-C; finished calls are kept, and --resume finishes the rest).",
    )
    run.add_argument("experiment", metavar="EXPERIMENT.toml", help="the experiment file")
    _add_db(run)
    run.add_argument("--concurrency", type=_positive_int, default=8, metavar="N",
                     help="calls in flight at once, across providers (default 8; each "
                     "provider's own limit applies too)")
    run.add_argument("--samples", type=_positive_int, metavar="N",
                     help="samples per variant and test case (default: the file's, or 1)")
    run.add_argument("--no-cache", action="store_true",
                     help="send every call, even ones the log already has an answer for")
    run.add_argument("--budget", type=_usd, metavar="USD",
                     help="stop starting calls once the run has spent this much")
    run.add_argument("--resume", type=_positive_int, metavar="RUN_ID",
                     help="finish an earlier run of this experiment: only its missing, failed "
                     "and cancelled cells are called again")
    run.add_argument("--yes", "-y", action="store_true",
                     help="do not ask before running (only asked on a terminal)")
    run.add_argument("--json", action="store_true",
                     help="print one JSON document with the per-variant figures")
    run.set_defaults(handler=cmd_run)


def _add_log(sub: argparse._SubParsersAction) -> None:
    log = sub.add_parser("log", help="list logged calls, newest first",
                         description="List logged calls, newest first, with full-text search "
                         "over prompts, outputs and errors.")
    _add_db(log)
    log.add_argument("--search", metavar="TEXT", help="only calls whose text matches TEXT")
    log.add_argument("--limit", type=_positive_int, default=20, metavar="N",
                     help="how many calls to show (default 20)")
    log.add_argument("--json", action="store_true", help="print one JSON document")
    log.set_defaults(handler=cmd_log)


def _add_export(sub: argparse._SubParsersAction) -> None:
    from lab.core.export import describe_formats

    formats = describe_formats()
    export = sub.add_parser(
        "export", help="write judged outputs as a fine-tuning dataset",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Write logged outputs (a saved dataset, or a selection given here) in a "
        "fine-tuning service's or trainer's own format, deduplicated, split into train and "
        "validation, checked against the target's rules, with a README.md dataset card.\n\n"
        "Formats:\n" + "\n".join(f"  {name:<15} {text}" for name, text in formats.items()) +
        "\n\nExit status: 0 written; 2 bad input, empty selection or rule violations "
        "(nothing written; --force writes anyway).")
    _add_db(export)
    export.add_argument("--format", required=True, choices=list(formats), metavar="NAME",
                        help="target format (listed above)")
    export.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    pick = export.add_argument_group("what to export (rules combine with AND)")
    pick.add_argument("--dataset", metavar="NAME", help="a dataset saved in the workspace")
    pick.add_argument("--min-score", type=int, choices=range(1, 6), metavar="N",
                      help="rated N or better (1-5)")
    pick.add_argument("--thumbs-up", action="store_true", help="only outputs with a thumbs up")
    pick.add_argument("--tag", action="append", default=[], metavar="TAG",
                      help="carries this tag (repeatable)")
    pick.add_argument("--exclude-tag", action="append", default=[], metavar="TAG",
                      help="does not carry this tag, e.g. a failure mode (repeatable)")
    pick.add_argument("--checks-passed", action="store_true", help="every automatic check passed")
    pick.add_argument("--experiment", action="append", default=[], metavar="NAME")
    pick.add_argument("--run", action="append", default=[], type=int, metavar="ID")
    pick.add_argument("--variant", action="append", default=[], metavar="NAME")
    pick.add_argument("--model", action="append", default=[], metavar="NAME")
    pick.add_argument("--search", default="", metavar="TEXT", help="full-text search")
    shape = export.add_argument_group("shape of each example")
    shape.add_argument("--kind", choices=["sft", "preference"],
                       help="supervised examples or preference pairs (formats that hold both)")
    shape.add_argument("--from-ratings", action="store_true",
                       help="preference pairs from ratings too, not only pairwise judgements")
    shape.add_argument("--system", choices=["keep", "drop", "replace"], default="keep",
                       help="keep the system prompt, drop it, or replace it with --short-system")
    shape.add_argument("--short-system", default="", metavar="TEXT")
    shape.add_argument("--examples", choices=["auto", "turns", "fold", "drop"], default="auto",
                       help="few-shot examples as masked turns, folded into the system prompt, "
                       "or dropped (auto: the best the format allows)")
    quality = export.add_argument_group("quality")
    quality.add_argument("--dedup", choices=["whitespace", "exact", "none"], default="whitespace")
    quality.add_argument("--split", type=float, default=0.9, metavar="FRACTION",
                         help="share for training; the rest is validation (1.0: no validation)")
    quality.add_argument("--seed", type=int, default=0, help="seed of the split")
    quality.add_argument("--base-model", metavar="MODEL", help="model to tune (its token limits)")
    card = export.add_argument_group("dataset card")
    card.add_argument("--name", default="", help="dataset name in the card")
    card.add_argument("--description", default="")
    card.add_argument("--licence", default="", help="licence field of the card")
    export.add_argument("--force", action="store_true", help="write even if rules are broken")
    export.add_argument("--json", action="store_true", help="print one JSON document")
    export.set_defaults(handler=cmd_export)


def _has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM"):
        return True  # the user chose a platform (offscreen, xcb, wayland, ...) explicitly
    if sys.platform in {"win32", "darwin"}:
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def cmd_gui(args: argparse.Namespace) -> int:
    if not _has_display():
        raise UserError(
            "No display found (DISPLAY and WAYLAND_DISPLAY are unset). "
            "Run it on a virtual screen: xvfb-run -a lab gui"
        )
    from lab.gui.app import run_app

    return run_app(db=args.db)


def cmd_workspace(args: argparse.Namespace) -> int:
    with open_default_workspace(args.db) as store:
        info = {
            "path": str(default_workspace_path(args.db)),
            "schema_version": store.schema_version(),
            "calls": store.count_calls(),
            "projects": [
                {k: p[k] for k in ("id", "name", "variants", "cases")}
                for p in store.list_projects()
            ],
        }
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"Workspace  {info['path']}")
    print(f"Schema     version {info['schema_version']}")
    print(f"Calls      {info['calls']}")
    for p in info["projects"]:
        print(f"Project    {p['name']} ({p['variants']} variants, {p['cases']} test cases)")
    return 0


def _read_key(provider: str) -> str:
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(f"Key for {provider} (input hidden): ")
    return sys.stdin.readline()


def _provider_names(db: str | None) -> list[str]:
    with open_default_workspace(db, with_sample=False) as store:
        return [c.name for c in configured_providers(store)]


def cmd_keys_set(args: argparse.Namespace) -> int:
    known = _provider_names(args.db)
    if args.provider not in known:
        raise UserError(
            f"no provider named '{args.provider}'; known providers: {', '.join(known)}"
        )
    key = _read_key(args.provider).strip()
    if not key:
        raise UserError(f"no key given on standard input for '{args.provider}'; nothing stored")
    try:
        keys.set_key(args.provider, key)
    except keys.KeyringUnavailable as exc:
        raise UserError(str(exc)) from None
    print(f"Stored the key for {args.provider} in the system keyring.")
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    with open_default_workspace(args.db, with_sample=False) as store:
        configs = configured_providers(store)
    keyring_ok = keys.keyring_available()
    statuses = keys.list_keys(configs)
    if args.json:
        print(json.dumps({
            "keyring": keyring_ok,
            "providers": [{"provider": s.provider, "source": s.source, "local": c.is_local,
                           "env_vars": list(s.env_vars)} for c, s in zip(configs, statuses)],
        }, indent=2))
        return 0
    for config, status in zip(configs, statuses):
        where = {"keyring": "key in the keyring", "env": "key from the environment"}.get(
            status.source or "", "no key needed (runs locally)" if config.is_local else "no key")
        hint = f"  (or set {' / '.join(status.env_vars)})" if not status.has_key and status.env_vars else ""
        print(f"{status.provider:<12} {where}{hint}")
    if not keyring_ok:
        print("No system keyring is available: keys can only come from environment variables.")
    return 0


def cmd_keys_delete(args: argparse.Namespace) -> int:
    try:
        removed = keys.delete_key(args.provider)
    except keys.KeyringUnavailable as exc:
        raise UserError(str(exc)) from None
    if not removed:
        raise UserError(f"no key stored for '{args.provider}' in the keyring")
    print(f"Deleted the key for {args.provider} from the system keyring.")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    try:
        spec = experiment_file.load(args.experiment)
        prices = PriceTable.load(lab_home() / "prices.toml")
    except (experiment_file.ExperimentFileError, PriceTableError) as exc:
        raise UserError(str(exc)) from None
    options = RunOptions(concurrency=args.concurrency, no_cache=args.no_cache,
                         budget_usd=args.budget)
    with open_default_workspace(args.db, with_sample=False) as store:
        prepared = _prepare(store, spec, args, options, prices)
        db_path = store.path
    problems = asyncio.run(_unknown_models(prepared.plan))
    if problems:
        raise UserError(problems[0])
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
    return 0


def _prepare(store: Store, spec: experiment_file.ExperimentSpec, args: argparse.Namespace,
             options: RunOptions, prices: PriceTable) -> PreparedRun:
    try:
        providers = provider_configs(spec, configured_providers(store))
        if args.resume is None:
            plan = build_plan(spec, providers, samples=args.samples)
            return prepare_run(store, plan, options, prices, source=str(args.experiment))
        if args.samples is not None or args.no_cache:
            raise UserError("--samples and --no-cache are part of the run; they cannot change "
                            "when resuming (leave them out)")
        prepared = prepare_resume(store, args.resume, list(providers.values()), options, prices)
    except PlanError as exc:
        raise UserError(str(exc)) from None
    if prepared.plan.spec.project != spec.project:
        raise UserError(
            f"{args.experiment}: its variants, test cases or checks changed since run "
            f"{args.resume} started, so it cannot finish that run. Start a new run (leave out "
            "--resume), or restore the file."
        )
    return prepared


async def _unknown_models(plan: RunPlan) -> list[str]:
    clients = {name: ProviderClient(config) for name, config in plan.providers.items()}
    try:
        return await unknown_models(plan, clients)
    finally:
        await asyncio.gather(*(c.aclose() for c in clients.values()))


async def _run_until_interrupted(runner: Runner):
    # Ctrl-C cancels the run cleanly (calls in flight are logged as cancelled); a second
    # Ctrl-C while that happens is not needed and is ignored.
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, runner.cancel)
    except (NotImplementedError, RuntimeError):  # not the main thread, or Windows
        pass
    return await runner.run()


def _confirm() -> bool:
    # The question goes to stderr with the estimate: stdout may be piped (`--json | jq`).
    print("Run it? [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def cmd_log(args: argparse.Namespace) -> int:
    with open_default_workspace(args.db, with_sample=False) as store:
        rows = store.page_calls(limit=args.limit, search=args.search)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        print("\n".join(terminal.log_lines(rows)))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from lab.core import export as ex

    selection = ex.Selection(
        min_score=args.min_score, thumbs_up=args.thumbs_up, tags=args.tag,
        exclude_tags=args.exclude_tag, checks_passed=args.checks_passed,
        experiments=args.experiment, runs=args.run, variants=args.variant, models=args.model,
        search=args.search)
    try:
        options = ex.ExportOptions(
            kind=args.kind, from_ratings=args.from_ratings, dedup=args.dedup,
            prompt=ex.PromptHandling(system=args.system, short_system=args.short_system,
                                     examples=args.examples),
            train_fraction=args.split, seed=args.seed, base_model=args.base_model,
            dataset_name=args.name, description=args.description, licence=args.licence,
            force=args.force)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    with open_default_workspace(args.db, with_sample=False) as store:
        what = args.dataset if args.dataset else selection
        try:
            plan = ex.plan_export(store, what, args.format, options)
            result = ex.write_export(plan, args.out, progress=_export_progress(args.json))
        except ex.ValidationFailed as exc:
            if args.json:
                print(json.dumps({"written": False, "report": exc.report.to_dict()}, indent=2))
            else:
                print(exc.report.text(), file=sys.stderr)
            raise UserError(f"the export breaks {args.format}'s rules ({exc.report.errors} "
                            "error(s)); nothing was written. Fix them, or use --force.") from None
        except (ex.ExportError, ValueError) as exc:
            raise UserError(str(exc).splitlines()[0]) from None
    if args.json:
        print(json.dumps({"written": True, **result.summary,
                          "files": {k: str(v) for k, v in result.files.items()}},
                         indent=2, default=str))
        return 0
    counts = ", ".join(f"{n} {split}" for split, n in result.counts.items() if n)
    print(f"Wrote {counts} examples in {args.format} format to {result.out_dir}")
    for name, path in result.files.items():
        print(f"  {path}")
    report = result.report.text().strip()
    if report:
        print(report)
    return 0


def _export_progress(quiet: bool):
    if quiet or not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        print(f"\rwriting {done}/{total}", end="" if done < total else "\n", file=sys.stderr)

    return show


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = getattr(args, "handler", cmd_gui)
    try:
        return handler(args)
    except (UserError, WorkspaceError) as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("lab: interrupted", file=sys.stderr)
        return 130


def gui_main() -> int:
    """The `prompt-lab` launcher: the same as `lab gui`."""
    return main(["gui", *sys.argv[1:]])


if __name__ == "__main__":
    raise SystemExit(main())
