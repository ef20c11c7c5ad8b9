"""The analysis as one self-contained HTML file a user can attach to a pull request: the decision
with its reasons, the charts (inline PNG, `charts`), and the tables. No scripts, no external
styles, fonts or images; everything is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from lab.core.analysis import charts
from lab.core.analysis.analyse import Analysis
from lab.core.analysis.clustered import CaseProportion
from lab.core.analysis.intervals import MeanInterval
from lab.core.analysis.kappa import Kappa, describe

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222;
       padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .6em 0; }
th, td { padding: .25em .7em; border-bottom: 1px solid #eee; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.decision { background: #f4f7fb; border-left: 4px solid #4a72a8; padding: .6em 1em; }
.rec { font-size: 1.15em; font-weight: 600; } .note { color: #666; font-size: .9em; }
.warn { color: #9a4a00; } img { max-width: 100%; margin: .5em 1em .5em 0; }
"""


def _rate(p: CaseProportion | None) -> str:
    return "–" if p is None else f"{p.value:.0%} ({p.low:.0%}–{p.high:.0%})"


def _mean(m: MeanInterval | None) -> str:
    if m is None:
        return "–"
    if m.low is None or m.high is None:
        return f"{m.mean:.2f}"
    return f"{m.mean:.2f} ({m.low:.2f}–{m.high:.2f})"


def _num(value: float | None, fmt: str = "{:,.0f}") -> str:
    return "–" if value is None else fmt.format(value)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int] = frozenset()
           ) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td{' class=n' if i in numeric else ''}>{escape(str(c))}</td>"
                         for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _img(uri: str | None, alt: str) -> str:
    return f'<img src="{uri}" alt="{escape(alt)}">' if uri else ""


def _kappa(k: Kappa | None) -> str:
    if k is None:
        return "–"
    if k.value is None:
        return f"undefined (n = {k.n})"
    return f"{k.value:.2f} ({k.low:.2f} to {k.high:.2f}), {describe(k.value)}, n = {k.n}"


def _confusion(k: Kappa, title: str) -> str:
    names = [str(c) if not isinstance(c, bool) else ("pass / good" if c else "fail / not good")
             for c in k.categories]
    rows = [[f"judge {names[i]}", *map(str, row)] for i, row in enumerate(k.table)]
    return (f"<p class=note>{escape(title)}: rows the judge, columns the human</p>"
            + _table(["", *(f"human {n}" for n in names)], rows, set(range(1, len(names) + 1))))


def html_report(a: Analysis) -> str:
    """The whole report as one HTML document."""
    money = lambda v: "unknown" if v is None else f"${v:,.4f}"
    d = a.decision
    parts = [f"<h1>Prompt Lab report: {escape(a.scope)}</h1>",
             f"<p class=note>{a.calls:,} calls · runs {', '.join(map(str, a.runs))}</p>",
             "<div class=decision>",
             f"<p class=rec>Recommendation: {escape(d.recommendation.replace('_', ' '))}</p>",
             f"<p>{escape(d.headline)}</p><ul>",
             *(f"<li>{escape(r.text)}</li>" for r in d.reasons), "</ul></div>",
             "<h2>Variants</h2>",
             _table(["variant", "model", "cases", "samples per case", "pass (95% CI)",
                     "judge score", "human score", "rated good", "cost", "p50 ms", "p95 ms",
                     "TTFT p50 ms"],
                    [[v.name, v.model, v.cases, v.max_samples, _rate(v.pass_rate),
                      _mean(v.judge_score), _mean(v.human_score), _rate(v.approval),
                      money(v.cost_usd), _num(v.latency_ms.get(50)), _num(v.latency_ms.get(95)),
                      _num(v.ttft_p50_ms)] for v in a.variants], {2, 3, 8, 9, 10, 11}),
             _img(charts.pass_rate_chart(a.variants), "pass rate per variant"),
             _img(charts.score_chart(a.variants), "scores per variant"),
             _img(charts.latency_chart(a.variants), "latency per variant")]
    checks = sorted({c for v in a.variants for c in v.checks})
    if checks:
        parts += ["<h2>Pass rate per check</h2>",
                  _table(["check", *(v.name for v in a.variants)],
                         [[c, *(_rate(v.checks.get(c)) for v in a.variants)] for c in checks])]
    if a.comparisons:
        parts.append("<h2>A/B verdicts (paired by test case)</h2>")
        for c in a.comparisons:
            items = [f"<li>{escape(x.measure)}: {escape(x.verdict)} <span class=note>"
                     f"({escape(x.test)}; {x.cases} cases)</span></li>"
                     for x in (c.pass_rate, c.judge_score, c.human_score) if x]
            if c.blind:
                s = c.blind.summary
                items.append(f"<li>blind judgements: {escape(c.b)} won {s.wins}, tied {s.ties}, "
                             f"lost {s.losses} — {escape(s.verdict)}</li>")
            parts.append(f"<h3>{escape(c.a)} vs {escape(c.b)}</h3><ul>"
                         + ("".join(items) or "<li>nothing graded for both yet</li>") + "</ul>")
        parts.append(_img(charts.pairwise_chart(a.comparisons), "blind pairwise judgements"))
    if a.consistency:
        parts += ["<h2>Consistency across samples</h2>",
                  f"<p class=note>{escape(a.consistency.method)}</p>",
                  _table(["variant", "cases", "exact text", "whitespace normalised",
                          "check outcomes", "JSON fields"],
                         [[v.variant, v.cases, _num(v.exact.mean, "{:.0%}"),
                           _num(v.normalised.mean, "{:.0%}"),
                           _num(v.checks.mean if v.checks else None, "{:.0%}"),
                           ", ".join(f"{k} {_num(f.mean, '{:.0%}')}"
                                     for k, f in v.json_fields.items()) or "–"]
                          for v in a.consistency.variants], {1, 2, 3, 4}),
                  _img(charts.heatmap_chart(a.consistency), "consistency heat map")]
    if a.judge_agreement:
        parts.append("<h2>LLM judge against human ratings</h2>")
        for j in a.judge_agreement:
            parts.append(f"<h3>{escape(j.check)}</h3><ul>"
                         f"<li>scores, quadratic-weighted kappa: {_kappa(j.scores)}</li>"
                         f"<li>pass vs human good, kappa: {_kappa(j.pass_fail)}</li></ul>")
            for k, title in ((j.scores, "1–5 scores"), (j.pass_fail, "pass / good")):
                if k is not None and k.n:
                    parts.append(_confusion(k, title))
                    parts += [f"<p class=warn>{escape(w)}</p>" for w in k.warnings]
    rows = [[f.variant, m.name, m.source, m.kind, m.count, f"{m.share:.0%}"]
            for f in a.failure_modes for m in f.modes[:10]]
    if rows:
        parts += ["<h2>Failure modes</h2>",
                  _table(["variant", "failure", "from", "kind", "outputs", "share"], rows, {4, 5})]
    parts += [f"<p class=note>{escape(n)}</p>" for n in a.notes]
    body = "\n".join(p for p in parts if p)
    return (f"<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
            f"<title>Prompt Lab report: {escape(a.scope)}</title><style>{STYLE}</style></head>"
            f"<body>\n{body}\n</body></html>\n")
