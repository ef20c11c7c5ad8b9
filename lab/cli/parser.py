"""Every `lab` command and option, declared with argparse and nothing else.

A command names its handler as "module:function" of this package; `lab.cli.main` imports it only
after the arguments parsed, so help and usage errors never load the core.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

from lab import APP_NAME, __version__
from lab.cli.errors import EXIT_USER_ERROR


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (like every other error here), not the whole
    usage text; subcommands inherit it."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.split()[0]  # "lab", or "prompt-lab" for the launcher
        self.exit(EXIT_USER_ERROR, f"{command}: {message} (see '{self.prog} --help')\n")


def _add_db(parser: argparse.ArgumentParser, top: bool = False) -> None:
    # On subcommands the default is SUPPRESS, so `lab --db X workspace` keeps X.
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=None if top else argparse.SUPPRESS,
        help="workspace file (default: $LAB_HOME/workspace.db or the platform's data folder)",
    )


def _add_experiment(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--experiment", metavar="EXPERIMENT.toml",
                        help="also know the providers this experiment file defines")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return value


def _add_gui_options(parser: argparse.ArgumentParser) -> None:
    from lab.core.run.smoke import DEFAULT_TIMEOUT_S  # plain Python: no Qt, workspace or network

    parser.add_argument(
        "--smoke-test", action="store_true",
        help="check that this installation works, then exit: open the window on a throwaway "
        "workspace (never yours), wait until it painted and loaded the sample project, run a "
        "python check in a worker process; exit 0, or 1 with one line saying what failed")
    parser.add_argument("--timeout", type=_seconds, default=DEFAULT_TIMEOUT_S, metavar="SECONDS",
                        help=f"how long --smoke-test may take (default {DEFAULT_TIMEOUT_S:g})")


def build_gui_parser() -> argparse.ArgumentParser:
    """`prompt-lab`, the desktop launcher: `lab gui` under its own name, with --version."""
    parser = _Parser(prog="prompt-lab", description=f"Open {APP_NAME}. The `lab` command has "
                     "the rest (lab --help).")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    _add_db(parser, top=True)
    _add_gui_options(parser)
    parser.set_defaults(handler="app:cmd_gui")
    return parser


def build_lab_gui_parser() -> argparse.ArgumentParser:
    """`lab gui` (and `lab` alone): the options of the `gui` command in `build_parser`, without
    building the other commands, whose help loads every export format: the window's start does
    not wait for them."""
    parser = _Parser(prog="lab gui", description="Open the app.")
    _add_db(parser, top=True)
    _add_gui_options(parser)
    parser.set_defaults(handler="app:cmd_gui")
    return parser


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
    _add_gui_options(gui)
    gui.set_defaults(handler="app:cmd_gui")

    info = sub.add_parser(
        "workspace",
        help="show where the workspace is and what it holds",
        description="Show the workspace file, its schema version and its projects.",
    )
    _add_db(info)
    info.add_argument("--json", action="store_true", help="print one JSON document")
    info.set_defaults(handler="workspace:cmd_workspace")

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
    key_set.add_argument("provider", metavar="PROVIDER",
                         help="provider name, e.g. openai, or one an experiment file defines")
    _add_db(key_set)
    _add_experiment(key_set)
    key_set.set_defaults(handler="keys:cmd_keys_set")
    key_list = keys_sub.add_parser(
        "list", help="show which providers have a key (never the key)",
        description="Show each provider and where its key comes from: keyring, environment, "
        "or missing.",
    )
    _add_db(key_list)
    _add_experiment(key_list)
    key_list.add_argument("--json", action="store_true", help="print one JSON document")
    key_list.set_defaults(handler="keys:cmd_keys_list")
    key_delete = keys_sub.add_parser(
        "delete", help="remove a stored key", description="Remove PROVIDER's key from the keyring.")
    key_delete.add_argument("provider", metavar="PROVIDER")
    _add_db(key_delete)
    key_delete.set_defaults(handler="keys:cmd_keys_delete")
    _add_run(sub)
    _add_check(sub)
    _add_import(sub)
    _add_log(sub)
    _add_export(sub)
    _add_report(sub)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"cannot be negative, not {value}")
    return value


def _pass_rate_floor(text: str):
    from lab.core.run.gate import (
        PassRateFloor,  # plain Python: no workspace or network stack
    )

    try:
        return PassRateFloor.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run every variant over every test case (times --samples) of an experiment "
        "file, logging each call to the workspace. Shows the estimated calls, tokens and cost "
        "first, a progress bar on a terminal, and a summary table at the end.\n\n"
        "Python checks are code: a file that has them runs only once you trust it (--trust, "
        "needed once; an edited file asks again), and otherwise nothing is sent (exit 2). Each "
        "python check has a time limit (its 'timeout' option, default 2 seconds) and a memory "
        "limit; past either it fails and the run goes on.\n\n"
        "Exit status (for CI):\n"
        "  0    every call ended without an error and every threshold was met\n"
        "  1    the workspace could not be written\n"
        "  2    bad input, or a provider could not be reached (nothing was sent)\n"
        "  3    the budget stopped the run (--resume finishes it)\n"
        "  4    calls ended in errors (see --allow-errors, --max-errors)\n"
        "  5    a threshold was missed (--fail-under, --max-errors)\n"
        "  7    batches are still at the provider (--no-wait, or one could not be followed); "
        "--resume collects them\n"
        "  130  cancelled with Ctrl-C (finished calls are kept; --resume finishes the rest)",
    )
    run.add_argument("experiment", metavar="EXPERIMENT.toml", help="the experiment file")
    _add_db(run)
    run.add_argument("--concurrency", type=_positive_int, default=8, metavar="N",
                     help="calls in flight at once (default 8): each provider starts here unless "
                     "it pins a lower concurrency, and halves on a rate limit")
    run.add_argument("--max-concurrency", type=_positive_int, metavar="N",
                     help="let each provider's limit grow up to N while it keeps up without "
                     "rate limits or slowing down (default: no growth above --concurrency)")
    run.add_argument("--samples", type=_positive_int, metavar="N",
                     help="samples per variant and test case (default: the file's, or 1)")
    run.add_argument("--no-cache", action="store_true",
                     help="send every call, even ones the log already has an answer for")
    run.add_argument("--budget", type=_usd, metavar="USD",
                     help="stop starting calls once the run has spent this much")
    run.add_argument("--resume", type=_positive_int, metavar="RUN_ID",
                     help="finish an earlier run of this experiment: only its missing, failed "
                     "and cancelled cells are called again")
    batch = run.add_argument_group("batch runs (half price, results within 24 hours)")
    batch.add_argument("--batch", action="store_true",
                       help="send the calls through the providers' batch APIs (OpenAI, "
                       "Anthropic, Gemini) at the batch price; the batches are kept in the "
                       "workspace, so a run killed while it waits is finished by --resume. "
                       "Providers with no batch API (Ollama, local servers), chains and LLM "
                       "judges go one by one as usual")
    batch.add_argument("--no-batch", action="store_true",
                       help="with --resume: send what a batch run still lacks one by one "
                       "(batches already at the provider are still collected)")
    batch.add_argument("--no-wait", action="store_true",
                       help="send the batches and stop (exit 7); `--resume RUN_ID` collects them")
    run.add_argument("--trust", action="store_true",
                     help="trust this file's python checks to run on this machine, and run; "
                     "remembered for this exact content (in the lab's home), so it is needed "
                     "once, and again only after the file changes")
    run.add_argument("--yes", "-y", action="store_true",
                     help="do not ask before running (only asked on a terminal)")
    run.add_argument("--json", action="store_true",
                     help="print one JSON document with the per-variant figures")
    gates = run.add_argument_group("CI gates")
    gates.add_argument("--fail-under", action="append", default=[], type=_pass_rate_floor,
                       metavar="[VARIANT=]RATE",
                       help="exit 5 if the pass rate (every check passed) is under RATE: 0.9 or "
                       "90%% for the whole run, B=0.9 for variant B, *=0.9 for each variant "
                       "(repeatable)")
    gates.add_argument("--max-errors", type=_count, metavar="N",
                       help="allow up to N calls to end in errors; more is exit 5")
    gates.add_argument("--allow-errors", action="store_true",
                       help="calls that end in errors do not fail the run (no exit 4)")
    gates.add_argument("--junit", metavar="FILE",
                       help="write JUnit XML: one test case per variant, test case and sample")
    run.set_defaults(handler="run:cmd_run")


def _add_check(sub: argparse._SubParsersAction) -> None:
    check = sub.add_parser(
        "check", help="check an experiment file without running it",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="The pre-flight of `lab run` alone: the file, missing variables, unknown "
        "providers and models (each provider is asked for its model list; nothing else is sent), "
        "parameters out of range, and the estimated calls, tokens and cost.\n\n"
        "Exit status: 0 it would run (a provider that cannot be reached is only a warning); "
        "2 one line per problem.")
    check.add_argument("experiment", metavar="EXPERIMENT.toml", help="the experiment file")
    _add_db(check)
    check.add_argument("--samples", type=_positive_int, metavar="N",
                       help="estimate N samples per variant and test case")
    check.add_argument("--no-cache", action="store_true",
                       help="estimate as if nothing could be answered from the log")
    check.add_argument("--batch", action="store_true",
                       help="the pre-flight of `lab run --batch`: batch prices, each provider's "
                       "batch limits, and what goes one by one")
    check.add_argument("--json", action="store_true",
                       help="print one JSON document: problems, warnings and the estimate")
    check.set_defaults(handler="check:cmd_check")


def _add_import(sub: argparse._SubParsersAction) -> None:
    imp = sub.add_parser(
        "import", help="convert a promptfoo config or an OpenAI Evals eval into an experiment",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Convert another tool's experiment into an experiment file, with a report of "
        "what was converted, approximated or left out (and why, with the original text) "
        "written beside it as EXPERIMENT.import-report.md. See docs/importing.md.\n\n"
        "Exit status: 0 everything converted; 6 written, but some parts were left out (see the "
        "report); 2 the source cannot be read, or the output exists (--force).")
    kinds = imp.add_subparsers(dest="source", metavar="FORMAT", required=True)
    promptfoo = kinds.add_parser(
        "promptfoo", help="a promptfoo config (promptfooconfig.yaml)",
        description="Convert a promptfoo config: prompts x providers become variants, tests "
        "become test cases, assertions become checks.")
    promptfoo.add_argument("path", metavar="CONFIG.yaml", help="the promptfoo config")
    evals = kinds.add_parser(
        "openai-evals", help="an openai/evals registry eval, or a hosted Evals export",
        description="Convert an openai/evals registry eval (its YAML; samples.jsonl is found "
        "beside it or in the registry's data folder) or a hosted OpenAI Evals export (a folder "
        "with eval.json, items.jsonl and optionally runs.json, or that eval.json).")
    evals.add_argument("path", metavar="PATH", help="the eval YAML, the export folder or its "
                       "eval.json")
    evals.add_argument("--model", metavar="PROVIDER/MODEL",
                       help="the variant's model where the source names none "
                       "(default openai/gpt-4o-mini)")
    for parser in (promptfoo, evals):
        parser.add_argument("--out", metavar="EXPERIMENT.toml",
                            help="where to write the experiment (default: beside the source)")
        parser.add_argument("--force", action="store_true", help="replace an existing file")
        parser.set_defaults(handler="importing:cmd_import")


def _add_log(sub: argparse._SubParsersAction) -> None:
    log = sub.add_parser("log", help="list logged calls, newest first",
                         description="List logged calls, newest first, with full-text search "
                         "over prompts, outputs and errors.")
    _add_db(log)
    log.add_argument("--search", metavar="TEXT", help="only calls whose text matches TEXT")
    log.add_argument("--limit", type=_positive_int, default=20, metavar="N",
                     help="how many calls to show (default 20)")
    log.add_argument("--json", action="store_true", help="print one JSON document")
    log.set_defaults(handler="log:cmd_log")


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
    pick.add_argument("--step", default="", metavar="NAME",
                      help="a prompt chain's step: export that step's own prompts and outputs "
                           "of the chains selected (rated, tagged, checked on their final "
                           "output) instead of the final outputs; sft only")
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
    export.set_defaults(handler="export:cmd_export")


def _add_report(sub: argparse._SubParsersAction) -> None:
    report = sub.add_parser(
        "report", help="what a run means: statistics, A/B verdicts and the next step",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Analyse a run (default: the newest) or every run of an experiment: pass "
        "rates and scores with 95%% intervals that treat the test case as the unit, an A/B "
        "verdict for every pair of variants, consistency across samples, how well the LLM judge "
        "agrees with human ratings, failure modes, and a recommendation: keep prompting, add "
        "retrieval, collect examples or fine-tune, each reason with its numbers.\n\n"
        "--html needs matplotlib for its charts: pip install 'prompt-lab[report]'.")
    _add_db(report)
    which = report.add_mutually_exclusive_group()
    which.add_argument("--run", type=_positive_int, metavar="ID", help="the run to analyse")
    which.add_argument("--experiment", metavar="NAME",
                       help="every run of the experiment with this name")
    report.add_argument("--json", action="store_true", help="print one JSON document")
    report.add_argument("--html", metavar="FILE",
                        help="also write a self-contained HTML report with charts")
    report.add_argument("--calls-per-month", type=_positive_int, default=100_000, metavar="N",
                        help="the calls a month you expect in production, for whether a "
                        "fine-tune pays (default 100,000)")
    report.add_argument("--good", choices=["rating", "checks"], default="rating",
                        help="what makes an output good training data: rated 4+ or thumbs up "
                        "(default), or every check passed")
    report.set_defaults(handler="report:cmd_report")
