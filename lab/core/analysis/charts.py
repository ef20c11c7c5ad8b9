"""The report's charts, drawn with matplotlib (an optional dependency: `prompt-lab[report]`) as
PNG images inlined in data URIs, so an HTML report is one self-contained file.

Matplotlib is imported when a chart is drawn, never when the lab starts; figures are made with
`matplotlib.figure.Figure` directly (no pyplot, no GUI backend). Each function returns None when
there is nothing to draw.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from typing import Any

from lab.core.analysis.comparisons import Comparison
from lab.core.analysis.figures import VariantFigures
from lab.core.analysis.sample_agreement import ConsistencyReport

MAX_HEATMAP_CASES = 60
COLOURS = {"win": "#3b7d4f", "tie": "#b8b8b8", "loss": "#b5533c", "bar": "#4a72a8"}


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def pass_rate_chart(variants: Sequence[VariantFigures]) -> str | None:
    """Bars of each variant's pass rate (or human approval without checks) with 95% whiskers."""
    shown = [(v.name, v.pass_rate or v.approval) for v in variants if v.pass_rate or v.approval]
    if not shown:
        return None
    label = "pass rate (every check passed)" if any(v.pass_rate for v in variants) else \
        "rated good by a human"
    fig = _figure(max(4.0, 1.1 * len(shown) + 2), 3.2)
    ax = fig.add_subplot()
    values = [p.value * 100 for _, p in shown]
    below = [max(0.0, (p.value - p.low) * 100) for _, p in shown]
    above = [max(0.0, (p.high - p.value) * 100) for _, p in shown]
    ax.bar([n for n, _ in shown], values, color=COLOURS["bar"], yerr=[below, above], capsize=6,
           ecolor="#222222")
    ax.set_ylim(0, 105)
    ax.set_ylabel(f"{label}, %")
    ax.set_title("Pass rate with 95% interval (test case as the unit)", fontsize=10)
    return _png(fig)


def score_chart(variants: Sequence[VariantFigures]) -> str | None:
    """Mean judge and human scores per variant with their 95% intervals."""
    series = [("judge", [v.judge_score for v in variants]),
              ("human", [v.human_score for v in variants])]
    series = [(name, values) for name, values in series if any(values)]
    if not series:
        return None
    fig = _figure(max(4.0, 1.3 * len(variants) + 2), 3.2)
    ax = fig.add_subplot()
    width = 0.8 / len(series)
    for i, (name, values) in enumerate(series):
        xs = [j + i * width for j in range(len(variants))]
        means = [m.mean if m else math.nan for m in values]
        errs = [[(m.mean - m.low) if m and m.low is not None else 0 for m in values],
                [(m.high - m.mean) if m and m.high is not None else 0 for m in values]]
        ax.bar(xs, means, width=width, yerr=errs, capsize=4, label=f"{name} score")
    ax.set_xticks([j + width * (len(series) - 1) / 2 for j in range(len(variants))],
                  [v.name for v in variants])
    ax.set_ylim(0, 5.5)
    ax.legend(fontsize=8)
    ax.set_title("Mean score with 95% interval (over test cases)", fontsize=10)
    return _png(fig)


def latency_chart(variants: Sequence[VariantFigures]) -> str | None:
    """Box plots of latency: box 25th–75th percentile, line the median, whiskers 5th and 95th."""
    stats = [{"label": v.name, "med": v.latency_ms[50], "q1": v.latency_ms[25],
              "q3": v.latency_ms[75], "whislo": v.latency_ms[5], "whishi": v.latency_ms[95],
              "fliers": []} for v in variants if len(v.latency_ms) >= 5]
    if not stats:
        return None
    fig = _figure(max(4.0, 1.1 * len(stats) + 2), 3.2)
    ax = fig.add_subplot()
    ax.bxp(stats, showfliers=False)
    ax.set_ylabel("latency, ms")
    ax.set_title("Latency (box: 25th–75th percentile, whiskers: 5th–95th)", fontsize=10)
    return _png(fig)


def pairwise_chart(comparisons: Sequence[Comparison]) -> str | None:
    """Blind pairwise judgements per pair of variants: wins, ties and losses of the second."""
    shown = [c for c in comparisons if c.blind is not None]
    if not shown:
        return None
    fig = _figure(6.5, 0.6 * len(shown) + 1.4)
    ax = fig.add_subplot()
    labels = [f"{c.b} vs {c.a}" for c in shown]
    left = [0.0] * len(shown)
    for key, name in (("wins", "win"), ("ties", "tie"), ("losses", "loss")):
        counts = [getattr(c.blind.summary, key) for c in shown]
        ax.barh(labels, counts, left=left, color=COLOURS[name], label=f"{name}s")
        left = [a + b for a, b in zip(left, counts)]
    ax.invert_yaxis()
    ax.set_xlabel("blind judgements")
    ax.legend(fontsize=8, ncols=3, loc="lower right")
    ax.set_title("Blind pairwise judgements (wins of the first-named variant)", fontsize=10)
    return _png(fig)


def heatmap_chart(consistency: ConsistencyReport | None) -> str | None:
    """Cases × variants: how often two samples agree (check outcomes where outputs had checks,
    else whitespace-normalised text). At most 60 cases, in the report's order."""
    if consistency is None:
        return None
    variants = [v.variant for v in consistency.variants]
    use_checks = any(c.checks is not None for c in consistency.cells)
    cases: dict[Any, str] = {}
    for cell in consistency.cells:
        cases.setdefault(cell.case, cell.case_label)
    keys = list(cases)[:MAX_HEATMAP_CASES]
    if not keys or not variants:
        return None
    index = {k: i for i, k in enumerate(keys)}
    grid = [[math.nan] * len(variants) for _ in keys]
    for cell in consistency.cells:
        if cell.case in index:
            value = cell.checks if use_checks else cell.normalised
            grid[index[cell.case]][variants.index(cell.variant)] = \
                math.nan if value is None else value
    fig = _figure(1.2 * len(variants) + 3.5, 0.22 * len(keys) + 1.6)
    ax = fig.add_subplot()
    image = ax.imshow(grid, aspect="auto", cmap="viridis", vmin=0, vmax=1,
                      interpolation="nearest")
    ax.set_xticks(range(len(variants)), variants)
    ax.set_yticks(range(len(keys)), [cases[k][:40] for k in keys], fontsize=7)
    fig.colorbar(image, ax=ax, label="chance two samples agree")
    what = "check outcomes" if use_checks else "text (whitespace normalised)"
    ax.set_title(f"Consistency per test case: {what}", fontsize=10)
    return _png(fig)
