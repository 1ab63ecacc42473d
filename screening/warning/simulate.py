"""A simulated district for testing and measuring the early warning (no real student in it).

Schools of very different sizes (log-normal, 30 to 3,000 students), each with
its own persistent deviation from the district (a random school effect on the
log-odds scale: the real over-dispersion every district has), students with
their own persistent effect across waves, a few schools with a real excess,
one risk group (``bullied``) with a real excess and the other flags pure
noise, and an optional excess in one period of the school year.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["DATES", "Simulated", "simulate_district"]

#: Wave dates: term starts, finals, graduation season — two school years.
DATES = ("2024-09-05", "2025-01-08", "2025-03-03", "2025-06-10", "2025-09-04", "2026-01-07", "2026-03-02", "2026-06-09")


@dataclass(frozen=True)
class Simulated:
    frame: pd.DataFrame  # one row per student and wave
    excess_schools: tuple[str, ...]
    excess_group: str


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def simulate_district(
    n_schools: int = 100,
    n_waves: int = 6,
    *,
    n_students: int | None = None,
    excess_schools: int = 4,
    excess_or: float = 2.5,
    group_or: float = 2.0,
    school_sd: float = 0.3,
    student_sd: float = 0.8,
    orange: float = 0.05,
    yellow: float = 0.12,
    period_or: float = 1.0,
    period: str = "graduation_season",
    seed: int = 0,
    dates: Sequence[str] = DATES,
) -> Simulated:
    """Simulate ``n_schools`` schools over ``n_waves`` waves.

    Parameters
    ----------
    n_students : int, optional
        Total students (school sizes are rescaled to it); default: sizes as drawn
        (median about 300).
    excess_schools, excess_or
        The first ``excess_schools`` schools in a random order have their odds of
        orange (and of yellow or worse) multiplied by ``excess_or`` in every wave.
    group_or
        Odds ratio of bullied students (8% of students); the other flags have none.
    school_sd, student_sd
        SDs of the school and student effects on the log-odds scale.
    orange, yellow
        District rates of orange and of yellow (not orange) at effect 0.
    period_or, period
        Odds ratio of waves whose date falls in ``period`` (1 = no period effect).
    """
    rng = np.random.default_rng(seed)
    sizes = np.clip(np.exp(rng.normal(np.log(300), 1.0, n_schools)), 30, 3000)
    if n_students is not None:
        sizes = sizes * n_students / sizes.sum()
    sizes = np.maximum(np.rint(sizes).astype(np.int64), 10)
    names = np.array([f"S{i:03d}" for i in range(n_schools)])
    excess = rng.permutation(n_schools)[:excess_schools]
    school_eff = rng.normal(0, school_sd, n_schools)
    school_eff[excess] += np.log(excess_or)
    n = int(sizes.sum())
    school = np.repeat(np.arange(n_schools), sizes)
    grade = rng.integers(7, 10, n)
    klass = rng.integers(1, 7, n)
    sex = np.where(rng.random(n) < 0.5, "F", "M")
    flags = {f: rng.random(n) < p for f, p in (("left_behind", 0.15), ("single_parent", 0.1), ("bullied", 0.08), ("poverty", 0.1))}
    # a few flags unknown (the questionnaire left blank): unknown is not "no"
    unknown = {f: rng.random(n) < 0.02 for f in flags}
    student_eff = rng.normal(0, student_sd, n) + school_eff[school] + np.log(group_or) * flags["bullied"]
    from .periods import label_periods

    wave_dates = pd.to_datetime(list(dates[:n_waves]))
    wave_period = label_periods(pd.Series(wave_dates))["period"].tolist()
    parts = []
    # the student effect shifts the latent scale; thresholds keep the marginal rates near orange / yellow
    lo_orange, lo_yellow = _logit(orange), _logit(orange + yellow)
    for w in range(n_waves):
        shift = np.log(period_or) if wave_period[w] == period else 0.0
        latent = student_eff + shift + rng.logistic(0, 1, n)
        # orange when latent > -logit threshold: P(orange) = expit(logit(orange) + effect) for the logistic noise
        tier_code = np.where(latent > -lo_orange, 2, np.where(latent > -lo_yellow, 1, 0))
        urgent = (tier_code == 2) & (rng.random(n) < 0.15)
        rescreen = rng.random(n) < 0.03
        part = {
            "student": np.arange(n),
            "wave": f"W{w + 1}",
            "on": wave_dates[w],
            "school": names[school],
            "grade": grade,
            "class": klass,
            "sex": sex,
            "tier": pd.Categorical.from_codes(tier_code, categories=["green", "yellow", "orange"], ordered=True),  # type: ignore[call-overload]
            "urgent": urgent,
            "rescreen": rescreen,
        }
        df = pd.DataFrame(part)
        for f, v in flags.items():
            arr = pd.array(v, dtype="boolean")
            arr[unknown[f]] = pd.NA
            df[f] = arr
        parts.append(df)
    frame = pd.concat(parts, ignore_index=True)
    frame["wave"] = pd.Categorical(frame["wave"], categories=[f"W{w + 1}" for w in range(n_waves)], ordered=True)
    return Simulated(frame, tuple(names[excess].tolist()), "bullied")
