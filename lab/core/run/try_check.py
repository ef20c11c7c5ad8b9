"""Trying one check on one output, now: the check editor's "try it" box.

`try_check` grades with the same graders a run uses. A python check runs in a worker process
with its time limit (an expression typed in the editor may loop forever) and only when the
caller says the check may run code (a check typed by the user, or from a trusted file). An LLM
judge needs a model call: `try_judge` makes it (a coroutine, for the network loop), with the
judge request the runner would send, and reads the verdict the way a run does; the call is
returned for the caller to log (every model call is kept, tried ones too).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from lab.core.checks.config import runs_code
from lab.core.checks.graders import run_check
from lab.core.checks.judge import judge_prompt, parse_judge_reply
from lab.core.checks.result import CheckConfigError, CheckResult
from lab.core.checks.workers import ExpressionPool
from lab.core.model import Call, Check, TestCase
from lab.core.providers import ChatRequest, ProviderClient, ProviderConfig, ProviderError
from lab.core.run.calls import failed, started_call, succeeded
from lab.core.run.plan import JUDGE_LABEL


class CannotTry(Exception):
    """The check cannot grade this output here; the message says why and what to do."""


def try_check(check: Check, output: str, case: TestCase | None, *,
              may_run_code: bool, pool: ExpressionPool | None = None) -> CheckResult:
    """Grade `output` with `check` (not an LLM judge: see `try_judge`). Blocks while a python
    check runs (at most its time limit): call it off the GUI thread. `pool`: worker processes
    to keep between tries (default: one started for this try and stopped after)."""
    if check.type == "judge":
        raise CannotTry(f"'{check.title}' is an LLM judge: it needs a model call (try_judge).")
    if runs_code(check) and not may_run_code:
        raise CannotTry(f"'{check.title}' is python code from a file you have not trusted; "
                        "trust the file to run it.")
    try:
        if runs_code(check) and pool is not None:
            return run_check(check, output, case, expressions=pool)
        if runs_code(check):
            with ExpressionPool(size=1) as own:
                return run_check(check, output, case, expressions=own)
        return run_check(check, output, case)
    except CheckConfigError as exc:
        raise CannotTry(str(exc)) from None


def judge_target(check: Check, default_model: str,
                 providers: Iterable[ProviderConfig]) -> tuple[ProviderConfig, str]:
    """(provider, model name) a judge check is asked on: its own `model`, else `default_model`
    (the variant whose output is graded)."""
    model = check.config.get("model") or default_model
    name, slash, model_name = str(model).partition("/")
    by_name = {p.name: p for p in providers}
    if not slash or name not in by_name:
        raise CannotTry(f"The judge model '{model}' names no provider this workspace knows; "
                        "write it as provider/model.")
    return by_name[name], model_name


async def try_judge(check: Check, output: str, case: TestCase | None, default_model: str,
                    providers: Iterable[ProviderConfig]) -> tuple[CheckResult | None, Call]:
    """Ask the judge model to grade `output`: its verdict (None if the call failed) and the
    call, to be logged (`store.insert_calls`)."""
    provider, model = judge_target(check, default_model, providers)
    try:
        messages = judge_prompt(check, output, case)
    except CheckConfigError as exc:
        raise CannotTry(str(exc)) from None
    request = ChatRequest(model=model, messages=messages, params={"temperature": 0})
    call = started_call(provider=provider.name, model=model, request={},
                        params=dict(request.params), variant_name=f"{JUDGE_LABEL}{check.title}",
                        case_vars=dict(case.vars) if case else {})
    began = time.monotonic()
    try:
        async with ProviderClient(provider) as client:
            result = await client.complete(request)
    except ProviderError as exc:
        failed(call, exc, began, free=provider.is_local)
        return None, call
    succeeded(call, result)
    return parse_judge_reply(check, result.text), call
