"""`lab report` on a terminal: the analysis as rich tables and the decision with its reasons."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text

from lab.cli.terminal import make_table, money, render
from lab.core.analysis.analyse import Analysis
from lab.core.analysis.clustered import CaseProportion
from lab.core.analysis.intervals import MeanInterval
from lab.core.analysis.kappa import Kappa, describe

TOP_FAILURES = 5


def _heading(text: str) -> Text:
    return Text(text, style="bold")


def _rate(p: CaseProportion | None) -> str:
    return "-" if p is None else f"{p.value:.0%} ({p.low:.0%}–{p.high:.0%})"


def _mean(m: MeanInterval | None) -> str:
    if m is None:
        return "-"
    if m.low is None or m.high is None:
        return f"{m.mean:.2f}"
    return f"{m.mean:.2f} ({m.low:.2f}–{m.high:.2f})"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _kappa(k: Kappa | None) -> str:
    if k is None:
        return "-"
    if k.value is None:
        return f"undefined (n={k.n})"
    return f"{k.value:.2f} ({k.low:.2f} to {k.high:.2f}), {describe(k.value)}, n={k.n}"


def _variants(a: Analysis) -> list[RenderableType]:
    t = make_table(["variant", "model", "cases", "samples", "pass (95% CI)", "judge score",
                    "human score", "cost", "p50 ms", "p95 ms", "ttft ms"],
                   right={2, 3, 7, 8, 9, 10})
    for v in a.variants:
        t.add_row(v.name, v.model, str(v.cases), str(v.max_samples), _rate(v.pass_rate),
                  _mean(v.judge_score), _mean(v.human_score), money(v.cost_usd),
                  _ms(v.latency_ms.get(50)), _ms(v.latency_ms.get(95)), _ms(v.ttft_p50_ms))
    out: list[RenderableType] = [_heading("Variants"), t]
    checks = sorted({c for v in a.variants for c in v.checks})
    if checks:
        c = make_table(["check", *(v.name for v in a.variants)])
        for name in checks:
            c.add_row(name, *(_rate(v.checks.get(name)) for v in a.variants))
        out += ["", _heading("Pass rate per check"), c]
    return out


def _comparisons(a: Analysis) -> list[RenderableType]:
    if not a.comparisons:
        return []
    out: list[RenderableType] = ["", _heading("A/B verdicts (paired by test case)")]
    for comp in a.comparisons:
        out.append(Text(f"{comp.a} vs {comp.b}", style="bold"))
        for diff in (comp.pass_rate, comp.judge_score, comp.human_score):
            if diff is not None:
                out.append(f"  {diff.measure}: {diff.verdict} [{diff.test}; {diff.cases} cases]")
        if comp.blind is not None:
            s = comp.blind.summary
            out.append(f"  blind judgements: {comp.b} won {s.wins}, tied {s.ties}, lost {s.losses}"
                       f" — {s.verdict}")
        if not comp.verdicts:
            out.append("  nothing graded for both variants yet")
    return out


def _consistency(a: Analysis) -> list[RenderableType]:
    c = a.consistency
    if c is None:
        return []
    t = make_table(["variant", "cases", "exact text", "whitespace normalised", "check outcomes",
                    "JSON fields"], right={1, 2, 3, 4})
    for v in c.variants:
        fields = ", ".join(f"{name} {_share(f.mean)}" for name, f in list(v.json_fields.items())[:4])
        t.add_row(v.variant, str(v.cases), _share(v.exact.mean), _share(v.normalised.mean),
                  _share(v.checks.mean if v.checks else None), fields or "-")
    return ["", _heading("Consistency across samples (chance two samples of a case agree)"), t]


def _judges(a: Analysis) -> list[RenderableType]:
    if not a.judge_agreement:
        return []
    t = make_table(["judge check", "scores vs human (weighted kappa)",
                    "pass vs human good (kappa)"])
    warnings = []
    for j in a.judge_agreement:
        t.add_row(j.check, _kappa(j.scores), _kappa(j.pass_fail))
        for k in (j.scores, j.pass_fail):
            warnings += [f"  {j.check}: {w}" for w in (k.warnings if k else ()) if w not in warnings]
    return ["", _heading("LLM judge against human ratings"), t, *dict.fromkeys(warnings)]


def _failures(a: Analysis) -> list[RenderableType]:
    rows = [(f.variant, m) for f in a.failure_modes for m in f.modes[:TOP_FAILURES]]
    if not rows:
        return []
    t = make_table(["variant", "failure", "from", "kind", "outputs", "share"], right={4, 5})
    for variant, m in rows:
        t.add_row(variant, m.name, m.source, m.kind, str(m.count), _share(m.share))
    return ["", _heading("Failure modes (tags on outputs not rated good, failed checks)"), t]


def _decision(a: Analysis) -> list[RenderableType]:
    d = a.decision
    out: list[RenderableType] = ["", Text(f"Recommendation: {d.recommendation}", style="bold"),
                                 d.headline]
    out += [f"  • {r.text}" for r in d.reasons]
    return out


def report_lines(a: Analysis, color: bool = False, width: int | None = None) -> list[str]:
    head = Text(f"Report · {a.scope} · {a.calls} calls", style="bold")
    items: list[RenderableType] = [head, "", *_variants(a), *_comparisons(a), *_consistency(a),
                                   *_judges(a), *_failures(a), *_decision(a), "", *a.notes]
    return render(*items, color=color, width=width)
