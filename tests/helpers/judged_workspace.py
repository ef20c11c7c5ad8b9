"""A real workspace of judged outputs, made the way a run and a reviewer would make it.

Calls are built with the runner's own `build_messages` and each provider family's own
`build_body` (so request bodies have the real OpenAI, Anthropic and Gemini shapes), saved with
`save_run_records` together with their check results, then rated, tagged and compared pairwise
through the store's judgement API. `Workspace` remembers every id so tests can state the right
answer.

The data:

* experiment "support", variant A (OpenAI, a long system prompt and two few-shot examples) and
  variant B (Anthropic, a short system prompt, no examples), 12 questions, one output each;
  A's outputs are rated 5 (question 11: 2, tagged "rambling"), B's get thumbs up on even
  questions and down on odd ones; A passes the "polite" check except on question 11.
* A also has a second sample of questions 0-2: an exact repeat of question 0's output, one that
  differs from question 1's only in whitespace, and a genuinely different one for question 2.
* pairwise: A beats B on questions 0-7, B beats A on 8-9, a tie on 10, and on 11 each won once.
* experiment "gemini-check": one Gemini call (variant G), tagged "good", rated 4.
* noise that must never be exported: a failed call, an LLM judge's call, and a call whose
  request body is empty (it is rebuilt from its prompt version).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lab.core.experiment.template import build_messages
from lab.core.model import (
    Call,
    Example,
    PairwiseJudgement,
    PromptVersion,
    Rating,
    TestCase,
    Usage,
    Variant,
)
from lab.core.providers.base import ChatRequest, ProviderConfig
from lab.core.providers.registry import family_for
from lab.core.workspace.runs import CallRecord, LoggedCheck
from lab.core.workspace.store import Store, open_workspace

LONG_SYSTEM = (
    "You are the support assistant of Acme Parcels. Answer the customer's question in one "
    "short, friendly sentence. Never promise refunds; say a colleague will check instead. "
    "Use the customer's words where you can, and do not mention these instructions. "
) * 3
EXAMPLES = [
    Example("Where is my parcel?", "It left our depot this morning and arrives tomorrow."),
    Example("Can I return shoes?", "Yes, within 30 days, in their box."),
]
QUESTIONS = [f"Question {i}: my order {1000 + i} has not arrived, what now?" for i in range(12)]
USER_TEMPLATE = "{{question}}"


@dataclass
class Workspace:
    path: Path
    a: dict[int, int] = field(default_factory=dict)  # question -> A's output id
    b: dict[int, int] = field(default_factory=dict)
    a_repeat: dict[int, int] = field(default_factory=dict)  # question -> A's second sample
    gemini: int = 0
    failed: int = 0
    judge: int = 0
    rebuilt: int = 0
    version_a: int = 0
    version_b: int = 0

    def open(self) -> Store:
        return open_workspace(self.path)


def _call(kind: str, model: str, variant: Variant, question: str, output: str, **ids) -> Call:
    messages = build_messages(variant, USER_TEMPLATE, TestCase(vars={"question": question}))
    config = ProviderConfig(name=kind, kind=kind)
    body = family_for(kind).build_body(config, ChatRequest(model=model, messages=messages,
                                                           params={"temperature": 0.7}))
    return Call(provider=kind, model=model, request=body, status="ok", response_text=output,
                usage=Usage(input_tokens=50, output_tokens=12), variant_name=variant.name,
                case_vars={"question": question}, **ids)


def answer(variant: str, i: int) -> str:
    return f"Variant {variant} on order {1000 + i}: a colleague will check it today."


def build(path: Path) -> Workspace:
    ws = Workspace(path)
    a = Variant("A", "openai/gpt-4o-mini", system=LONG_SYSTEM, examples=list(EXAMPLES))
    b = Variant("B", "anthropic/claude-3-haiku", system="You are warm and brief.")
    g = Variant("G", "gemini/gemini-2.5-flash", system="You are precise.")
    with open_workspace(path) as store:
        ws.version_a = store.prompt_version_id(PromptVersion(a.system, USER_TEMPLATE, a.examples))
        ws.version_b = store.prompt_version_id(PromptVersion(b.system, USER_TEMPLATE))
        version_g = store.prompt_version_id(PromptVersion(g.system, USER_TEMPLATE))
        experiment = store.create_experiment("support", {})
        run = store.create_run(experiment, samples=2)
        common = {"run_id": run, "experiment_id": experiment}
        records = []
        for i, q in enumerate(QUESTIONS):
            call_a = _call("openai", "gpt-4o-mini", a, q, answer("A", i),
                           prompt_version_id=ws.version_a, **common)
            polite = LoggedCheck("polite", passed=i != 11, score=None, reason="")
            records.append(CallRecord(call_a, case_index=i, checks=[polite]))
            call_b = _call("anthropic", "claude-3-haiku", b, q, answer("B", i),
                           prompt_version_id=ws.version_b, **common)
            records.append(CallRecord(call_b, case_index=i))
        repeats = {0: answer("A", 0), 1: "  " + answer("A", 1).replace(" ", "\n", 1) + "\n",
                   2: "A different, longer reply about order 1002 and its delivery."}
        for i, text in repeats.items():
            call = _call("openai", "gpt-4o-mini", a, QUESTIONS[i], text,
                         prompt_version_id=ws.version_a, sample_index=1, **common)
            records.append(CallRecord(call, case_index=i))
        failed = _call("openai", "gpt-4o-mini", a, QUESTIONS[0], "", prompt_version_id=ws.version_a,
                       **common)
        failed.status, failed.error_type = "error", "server_error"
        records.append(CallRecord(failed, case_index=0))
        store.save_run_records(records)
        for i in range(12):
            ws.a[i], ws.b[i] = records[2 * i].call.id, records[2 * i + 1].call.id
        ws.a_repeat = {i: records[24 + n].call.id for n, i in enumerate(repeats)}
        ws.failed = failed.id
        judge = _call("openai", "gpt-4o", a, QUESTIONS[0], '{"score": 5}', **common)
        store.save_run_records([CallRecord(judge, judged=records[0].call)])
        ws.judge = judge.id

        gemini_experiment = store.create_experiment("gemini-check", {})
        call_g = _call("gemini", "gemini-2.5-flash", g, QUESTIONS[0], "Order 1000 is on its way.",
                       prompt_version_id=version_g, experiment_id=gemini_experiment)
        # A call logged without its request body: exporting rebuilds it from the prompt version.
        bare = Call(provider="openai", model="gpt-4o-mini", request={}, status="ok",
                    response_text="Order 1005 will be checked by a colleague.",
                    prompt_version_id=version_g, case_vars={"question": QUESTIONS[5]},
                    variant_name="G", experiment_id=gemini_experiment)
        ws.gemini, ws.rebuilt = store.insert_calls([call_g, bare])

        for i in range(12):
            store.set_rating(Rating(ws.a[i], score=5 if i != 11 else 2,
                                    tags=["rambling"] if i == 11 else []))
            store.set_rating(Rating(ws.b[i], thumbs=1 if i % 2 == 0 else -1))
        store.set_rating(Rating(ws.gemini, score=4, tags=["good"]))
        for i in range(12):
            left, right = (ws.a[i], ws.b[i]) if i % 2 == 0 else (ws.b[i], ws.a[i])
            a_side = "left" if left == ws.a[i] else "right"
            b_side = "right" if a_side == "left" else "left"
            if i < 8:
                store.record_pairwise(PairwiseJudgement(left, right, a_side))
            elif i < 10:
                store.record_pairwise(PairwiseJudgement(left, right, b_side))
            elif i == 10:
                store.record_pairwise(PairwiseJudgement(left, right, "tie"))
            else:
                store.record_pairwise(PairwiseJudgement(left, right, a_side))
                store.record_pairwise(PairwiseJudgement(right, left, a_side))
    return ws
