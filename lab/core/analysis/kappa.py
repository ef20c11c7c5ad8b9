"""Agreement between two raters beyond chance: Cohen's kappa, unweighted or quadratic-weighted,
with a large-sample confidence interval.

Used to ask whether an LLM judge can stand in for a human: the judge's 1–5 score against the
human's 1–5 rating (quadratic weights: a 4 against a 5 is a near miss, a 1 against a 5 is not),
or the judge's pass/fail against the human's good/not good (unweighted).

Method (Cohen 1960, 1968; the variance of Fleiss, Cohen & Everitt 1969, "Large sample standard
errors of kappa and weighted kappa", Psychological Bulletin 72(5)), with agreement weights
w_ij (1 on the diagonal; quadratic: 1 − (i − j)² / (k − 1)²) and cell shares p_ij:

    p_o = Σ w_ij p_ij          p_e = Σ w_ij p_i· p_·j          κ = (p_o − p_e) / (1 − p_e)
    w̄_i· = Σ_j p_·j w_ij       w̄_·j = Σ_i p_i· w_ij
    Var(κ) = [Σ p_ij (w_ij − (w̄_i· + w̄_·j)(1 − κ))² − (κ − p_e (1 − κ))²] / (n (1 − p_e)²)

and the interval κ ± z·√Var, clipped to [−1, 1]. The standard error is a large-sample one: with
fewer than 30 rated outputs, or an interval wider than ±0.2, the result carries a warning.
Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

Weights = Literal["none", "quadratic"]
MIN_TRUSTED_N = 30
MAX_TRUSTED_HALF_WIDTH = 0.2
METHOD = "Cohen's kappa; 95% interval from the large-sample standard error of Fleiss, Cohen & " \
         "Everitt (1969)"


@dataclass(frozen=True)
class Kappa:
    """Cohen's kappa of two raters over the same items, with what it rests on."""

    value: float | None  # None when chance agreement is total (every item in one category)
    low: float | None
    high: float | None
    n: int
    weights: Weights
    categories: tuple[Hashable, ...]
    table: tuple[tuple[int, ...], ...]  # rows: the first rater's category, columns: the second's
    observed: float | None  # (weighted) share of agreement
    expected: float | None  # (weighted) agreement expected by chance
    method: str = METHOD
    warnings: tuple[str, ...] = ()


def agreement_weights(k: int, weights: Weights) -> list[list[float]]:
    if weights == "quadratic" and k > 1:
        return [[1 - (i - j) ** 2 / (k - 1) ** 2 for j in range(k)] for i in range(k)]
    return [[1.0 if i == j else 0.0 for j in range(k)] for i in range(k)]


def cohen_kappa(
    pairs: Iterable[tuple[Hashable, Hashable]], categories: Sequence[Hashable],
    weights: Weights = "none", confidence: float = 0.95,
) -> Kappa:
    """Kappa of (first rater, second rater) pairs over ordered ``categories`` (for quadratic
    weights the order is the scale: 1..5). Pairs with a value outside the categories raise
    ValueError."""
    cats = tuple(categories)
    index = {c: i for i, c in enumerate(cats)}
    k = len(cats)
    table = [[0] * k for _ in range(k)]
    for a, b in pairs:
        if a not in index or b not in index:
            raise ValueError(f"rating {a!r} or {b!r} is not one of {list(cats)}")
        table[index[a]][index[b]] += 1
    frozen = tuple(tuple(row) for row in table)
    n = sum(map(sum, table))
    if n == 0:
        return Kappa(None, None, None, 0, weights, cats, frozen, None, None,
                     warnings=("No output has both ratings yet.",))
    w = agreement_weights(k, weights)
    p = [[table[i][j] / n for j in range(k)] for i in range(k)]
    rows = [sum(p[i]) for i in range(k)]
    cols = [sum(p[i][j] for i in range(k)) for j in range(k)]
    p_o = sum(w[i][j] * p[i][j] for i in range(k) for j in range(k))
    p_e = sum(w[i][j] * rows[i] * cols[j] for i in range(k) for j in range(k))
    if 1 - p_e < 1e-12:
        return Kappa(None, None, None, n, weights, cats, frozen, p_o, p_e, warnings=(
            "Kappa is undefined: both raters put every output in the same category.",))
    kappa = (p_o - p_e) / (1 - p_e)
    w_row = [sum(cols[j] * w[i][j] for j in range(k)) for i in range(k)]
    w_col = [sum(rows[i] * w[i][j] for i in range(k)) for j in range(k)]
    total = sum(p[i][j] * (w[i][j] - (w_row[i] + w_col[j]) * (1 - kappa)) ** 2
                for i in range(k) for j in range(k))
    var = max(0.0, (total - (kappa - p_e * (1 - kappa)) ** 2) / (n * (1 - p_e) ** 2))
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    half = z * math.sqrt(var)
    low, high = max(-1.0, kappa - half), min(1.0, kappa + half)
    warnings = []
    if n < MIN_TRUSTED_N:
        warnings.append(f"Only {n} output(s) have both ratings; fewer than {MIN_TRUSTED_N} are "
                        "too few to trust this agreement.")
    if half > MAX_TRUSTED_HALF_WIDTH:
        warnings.append(f"The interval is ±{half:.2f} wide (more than ±{MAX_TRUSTED_HALF_WIDTH}): "
                        "rate more outputs to pin the agreement down.")
    return Kappa(kappa, low, high, n, weights, cats, frozen, p_o, p_e, warnings=tuple(warnings))


def describe(kappa: float | None) -> str:
    """Landis & Koch's (1977) words for a kappa: the scale most papers quote."""
    if kappa is None:
        return "undefined"
    for limit, word in ((0.0, "poor"), (0.2, "slight"), (0.4, "fair"), (0.6, "moderate"),
                        (0.8, "substantial")):
        if kappa <= limit:
            return word
    return "almost perfect"
