"""CI gates: whether a finished run is good enough, as an exit status a CI job can rely on.

A run passes when every call ended without an error (or no more than `--max-errors`, or any
number with `--allow-errors`) and every `--fail-under` pass-rate threshold is met. Pass rates
are the summary's: a call passes when every check it ran passed, over the calls that came back
(errors are counted apart, so an outage shows as errors, not as failed checks).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lab.core.analysis.summary import PassRate, VariantSummary

ALL_VARIANTS = "*"


@dataclass(frozen=True)
class PassRateFloor:
    """`--fail-under [VARIANT=]RATE`: no variant means the whole run; `*` means each variant."""

    rate: float  # 0..1
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> PassRateFloor:
        """'0.9', '90%', 'B=0.95' or '*=85%'; raises ValueError with what to write instead."""
        name, eq, value = text.rpartition("=")
        value = value.strip()
        try:
            rate = float(value.removesuffix("%")) / (100 if value.endswith("%") else 1)
        except ValueError:
            raise ValueError(f"'{text}' is not a pass rate; write 0.9, 90% or VARIANT=0.9") from None
        if not 0 <= rate <= 1:
            raise ValueError(f"'{text}': a pass rate is between 0 and 1 (or 0% and 100%)")
        return cls(rate, name.strip() if eq else None)


@dataclass
class Gates:
    fail_under: list[PassRateFloor] = field(default_factory=list)
    max_errors: int | None = None  # errors allowed; None: none, unless allow_errors
    allow_errors: bool = False


@dataclass
class Verdict:
    errors: list[str] = field(default_factory=list)  # calls ended in errors beyond what is allowed
    missed: list[str] = field(default_factory=list)  # thresholds not met

    @property
    def passed(self) -> bool:
        return not self.errors and not self.missed


def _combined(rates: list[PassRate]) -> PassRate | None:
    passed, n = sum(r.passed for r in rates), sum(r.n for r in rates)
    return PassRate(passed, n, passed / n, 0.0, 1.0) if n else None


def _percent(rate: float) -> str:
    return f"{rate:.1%}"


def judge(variants: list[VariantSummary], gates: Gates) -> Verdict:
    """The run's verdict against the gates, each shortfall as a sentence naming its figures."""
    verdict = Verdict()
    errors = sum(v.errors for v in variants)
    if errors:
        detail = ", ".join(f"{v.variant}: {v.errors}" for v in variants if v.errors)
        if gates.max_errors is not None and errors > gates.max_errors:
            verdict.missed.append(f"{errors} calls ended in errors ({detail}); --max-errors "
                                  f"allows {gates.max_errors}")
        elif gates.max_errors is None and not gates.allow_errors:
            verdict.errors.append(f"{errors} calls ended in errors ({detail})")
    by_name = {v.variant: v for v in variants}
    for floor in gates.fail_under:
        if floor.variant is None:
            targets = [("the run", _combined([v.overall for v in variants if v.overall]))]
        elif floor.variant == ALL_VARIANTS:
            targets = [(f"variant {v.variant}", v.overall) for v in variants]
        elif floor.variant in by_name:
            targets = [(f"variant {floor.variant}", by_name[floor.variant].overall)]
        else:
            verdict.missed.append(f"--fail-under names variant '{floor.variant}', which the run "
                                  f"does not have (it has {', '.join(by_name)})")
            continue
        for what, rate in targets:
            if rate is None:
                verdict.missed.append(f"{what} has no graded outputs to meet a pass rate of "
                                      f"{_percent(floor.rate)}")
            elif rate.rate < floor.rate:
                verdict.missed.append(f"{what} passed {_percent(rate.rate)} of its checked "
                                      f"outputs ({rate.passed}/{rate.n}), under "
                                      f"{_percent(floor.rate)}")
    return verdict
