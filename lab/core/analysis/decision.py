"""The decision the lab helps make: prompt first, fine-tune only when the data says so.

`decide` answers five questions from what the workspace measured, then gives exactly one
recommendation, each reason a sentence with its number(s) and a link to the outputs behind it.

1. Has prompting been exhausted? The techniques the variants tried (few-shot examples, chain
   of thought, output format; retrieval and chaining where the lab can express them), how many
   variants and test cases, and whether the best variant is still significantly ahead of the
   runner-up (then prompt changes are still paying off).
2. What is the failure mode? The best variant's top tags and failing checks, knowledge-type
   (facts missing or made up) or behaviour-type (format, tone, length, style, ...).
3. Enough data to fine-tune? Good outputs after deduplication, against the guidance.
4. Would it pay? The repeated prompt at the user's volume against training and tuned prices.
5. How consistent is the best variant across samples?

The rules, in order (the first that holds decides):

* ``add_retrieval`` — knowledge-type failures are at least half of the best variant's counted
  failures (and at least 3 outputs): a tune does not reliably teach facts; give the model the
  facts (retrieved context) instead.
* ``keep_prompting`` — prompting is not exhausted: a core technique (few-shot, chain of thought,
  output format) is untried, fewer than 3 variants or 20 test cases were compared, or the best
  variant is significantly ahead of the runner-up. Also when nothing calls for a tune: the best
  variant fails under 5% of the time and a tune would not pay within 12 months.
* ``collect_examples`` — a tune is the next step but there are fewer than 50 good examples (a
  first useful tune); the recommendation says how many more.
* ``fine_tune`` — otherwise: prompting has plateaued on behaviour failures, or the repeated
  prompt costs more than a tune at the user's volume, and there is enough data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from lab.core.analysis.economics import PAYBACK_MONTHS, Economics
from lab.core.analysis.failure_modes import FailureMode, VariantFailures
from lab.core.analysis.figures import VariantFigures
from lab.core.analysis.links import Link, Reason
from lab.core.analysis.paired import PairedDifference
from lab.core.analysis.sample_agreement import VariantConsistency
from lab.core.analysis.techniques import Technique
from lab.core.analysis.training_data import FIRST_USEFUL, TrainingData

Recommendation = Literal["keep_prompting", "add_retrieval", "collect_examples", "fine_tune"]
CORE_TECHNIQUES = ("few_shot", "chain_of_thought", "output_format")
MIN_VARIANTS = 3
MIN_CASES = 20
KNOWLEDGE_SHARE = 0.5
MIN_KNOWLEDGE_FAILURES = 3
QUALITY_GAP = 0.05  # a best variant failing less often than this leaves little for a tune to fix


@dataclass(frozen=True)
class Evidence:
    """What the rules read: the answers to the five questions."""

    best: VariantFigures | None
    runner_up: VariantFigures | None
    best_vs_runner_up: PairedDifference | None  # runner-up → best
    techniques: list[Technique]
    variants: int
    cases: int
    failures: VariantFailures | None  # the best variant's
    data: TrainingData
    economics: Economics | None
    consistency: VariantConsistency | None
    scope_link: Link  # every output analysed: the link of reasons about the whole scope


@dataclass(frozen=True)
class Decision:
    recommendation: Recommendation
    headline: str
    reasons: list[Reason]
    more_examples_needed: int | None
    evidence: Evidence


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _usd(x: float | None) -> str:
    if x is None:
        return "unknown"
    return f"${x:,.2f}" if x >= 1 else f"${x:.4f}"


def quality_gap(best: VariantFigures | None) -> float | None:
    """How often the best variant fails: 1 − pass rate, or 1 − human approval without checks."""
    if best is None:
        return None
    if best.pass_rate is not None:
        return 1 - best.pass_rate.value
    if best.approval is not None:
        return 1 - best.approval.value
    return None


def _failure_reasons(e: Evidence) -> tuple[list[Reason], int, int]:
    if e.failures is None or not e.failures.modes:
        return [], 0, 0
    knowledge = [m for m in e.failures.modes if m.kind == "knowledge"]
    behaviour = [m for m in e.failures.modes if m.kind == "behaviour"]
    k, b = sum(m.count for m in knowledge), sum(m.count for m in behaviour)
    top: list[FailureMode] = e.failures.modes[:3]
    listed = ", ".join(f"{m.name} ({m.count}, {m.kind})" for m in top)
    ids = [i for m in top for i in m.link.call_ids]
    reasons = [Reason(f"{e.failures.variant}'s most frequent failures: {listed}; "
                      f"{k} knowledge-type against {b} behaviour-type.",
                      {"knowledge": k, "behaviour": b},
                      Link.calls(ids, f"{e.failures.variant}'s top failures"))]
    return reasons, k, b


def _prompting_reasons(e: Evidence) -> tuple[list[Reason], list[str]]:
    """Reasons about prompting, and what says it is not exhausted (empty: exhausted)."""
    reasons, open_ = [], []
    core = [t for t in e.techniques if t.key in CORE_TECHNIQUES]
    untried = [t.name for t in core if not t.tried]
    tried = [f"{t.name} ({', '.join(t.variants)})" for t in e.techniques if t.tried]
    text = (f"{len(core) - len(untried)} of the {len(core)} core prompting techniques tried: "
            f"{', '.join(tried) or 'none'}")
    text += f"; not tried: {', '.join(untried)}." if untried else "."
    reasons.append(Reason(text, {"tried": len(tried), "untried": untried}))
    if untried:
        open_.append("untried techniques")
    link = e.best.link if e.best else None
    reasons.append(Reason(f"{e.variants} variant(s) compared over {e.cases} test case(s).",
                          {"variants": e.variants, "cases": e.cases}, link))
    if e.variants < MIN_VARIANTS:
        open_.append(f"fewer than {MIN_VARIANTS} variants")
    if e.cases < MIN_CASES:
        open_.append(f"fewer than {MIN_CASES} test cases")
    d = e.best_vs_runner_up
    if d is not None and d.difference is not None:
        reasons.append(Reason(f"Best variant {d.b} against runner-up {d.a}: {d.verdict}.",
                              {"difference": d.difference, "p_value": d.p_value,
                               "cases": d.cases}, e.best.link if e.best else None))
        if d.significant:
            open_.append("the best variant is still significantly ahead")
    return reasons, open_


def _data_reason(e: Evidence) -> Reason:
    d = e.data
    what = "rated 4+ or thumbs up" if d.good_by == "rating" else "with every check passed"
    return Reason(f"{d.examples} good example(s) ({what}, {d.duplicates} duplicate(s) removed): "
                  f"{d.stage} ({d.guidance}).",
                  {"good_examples": d.examples, "duplicates": d.duplicates}, d.link)


def _economics_reason(e: Evidence) -> Reason | None:
    m = e.economics
    if m is None:
        return None
    figures = {"repeated_tokens": m.repeated_tokens, "calls_per_month": m.calls_per_month,
               "repeated_cost_per_month": m.repeated_cost_per_month,
               "training_cost": m.training_cost, "break_even_calls": m.break_even_calls,
               "break_even_calls_per_month": m.break_even_calls_per_month}
    text = (f"Every call of {m.variant} repeats about {m.repeated_tokens:,} prompt tokens; at "
            f"{m.calls_per_month:,} calls a month that is {_usd(m.repeated_cost_per_month)} a "
            "month")
    if m.training_cost is not None and m.saving_per_call is not None:
        text += f"; training a tune costs about {_usd(m.training_cost)}"
        if m.saving_per_call > 0 and m.break_even_calls is not None:
            text += (f" and pays back after {m.break_even_calls:,.0f} calls "
                     f"({m.payback_months:.1f} months at your volume; break-even volume "
                     f"{m.break_even_calls_per_month:,.0f} calls a month over {PAYBACK_MONTHS} "
                     "months)")
        else:
            text += ", and a call to the tuned model would cost more than one now, so it never pays"
    if m.unknown:
        text += f". Unknown: {'; '.join(m.unknown)} (add it to the price table)"
    return Reason(text + ".", figures)


def _consistency_reason(e: Evidence) -> Reason | None:
    c = e.consistency
    if c is None or not c.cases:
        return None
    parts = [f"text agrees {_pct(c.normalised.mean)}" if c.normalised.mean is not None else ""]
    if c.checks and c.checks.mean is not None:
        parts.append(f"check outcomes agree {_pct(c.checks.mean)}")
    text = ", ".join(p for p in parts if p)
    return Reason(f"Across samples of one case, {c.variant}'s {text} of the time "
                  f"({c.cases} cases with several samples).",
                  {"text_agreement": c.normalised.mean,
                   "check_agreement": c.checks.mean if c.checks else None})


def decide(e: Evidence) -> Decision:
    """The one recommendation and its reasons (the rules are in the module's docstring)."""
    prompting, open_ = _prompting_reasons(e)
    failures, knowledge, behaviour = _failure_reasons(e)
    data = _data_reason(e)
    money = _economics_reason(e)
    extra = [r for r in (_consistency_reason(e),) if r]
    best = e.best.name if e.best else "the best variant"

    def decision(rec: Recommendation, headline: str, reasons: list[Reason],
                 more: int | None = None) -> Decision:
        linked = [r if r.link else replace(r, link=e.scope_link) for r in reasons]
        return Decision(rec, headline, linked, more, e)

    if knowledge >= MIN_KNOWLEDGE_FAILURES and knowledge >= KNOWLEDGE_SHARE * (knowledge + behaviour):
        share = knowledge / (knowledge + behaviour)
        retrieval = next((t for t in e.techniques if t.key == "retrieval"), None)
        how = "improve the retrieved context" if retrieval and retrieval.tried else \
            "give the model the facts it lacks (retrieval of context per case)"
        return decision("add_retrieval", f"Add retrieval: {_pct(share)} of {best}'s failures are "
                        f"missing or wrong knowledge; {how} — a fine-tune does not reliably "
                        "teach facts.", [*failures, *prompting, data, *extra])
    gap = quality_gap(e.best)
    pays = e.economics.pays if e.economics else None
    if open_:
        return decision("keep_prompting", f"Keep prompting: {'; '.join(open_)}.",
                        [*prompting, *failures, data, *([money] if money else []), *extra])
    if (gap is None or gap < QUALITY_GAP) and not pays:
        fails = f"fails {_pct(gap)} of the time" if gap is not None else "has no recorded failures"
        return decision("keep_prompting", f"Keep the prompt: {best} {fails} and a tune would not "
                        f"pay within {PAYBACK_MONTHS} months.",
                        [*prompting, *failures, *([money] if money else []), data, *extra])
    motive = (f"prompting has plateaued with {best} failing {_pct(gap)} of the time"
              if gap is not None and gap >= QUALITY_GAP else
              "the repeated prompt costs more than a tune at your volume")
    if e.data.examples < FIRST_USEFUL:
        more = FIRST_USEFUL - e.data.examples
        return decision("collect_examples", f"Collect examples: {motive}, but there are only "
                        f"{e.data.examples} good examples; rate about {more} more good outputs "
                        f"to reach {FIRST_USEFUL}.",
                        [data, *prompting, *failures, *([money] if money else []), *extra], more)
    return decision("fine_tune", f"Fine-tune: {motive}, and {e.data.examples} good examples are "
                    "ready to export.", [*prompting, *failures, data,
                                         *([money] if money else []), *extra])
