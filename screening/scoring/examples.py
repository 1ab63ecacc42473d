"""The worked-example check: a scale file scores its own ``examples`` as stated, or it does not load.

It runs the examples through the same entry point as :func:`screening.score` (``scoring/frame.py``'s
``_score_one``), so loading a scale (``scoring/catalog.py``) sits on top of the engine entry point and
never calls the public ``score()`` that loads scales itself.
"""

from __future__ import annotations

import math
import numbers

import pandas as pd

from ..errors import Issue
from .frame import _score_one
from .scale import Scale

__all__ = ["example_issues"]


def example_issues(scale: Scale, file: str) -> list[Issue]:
    """Score the file's own worked examples; every mismatch is an issue."""
    spec = scale.spec
    cols = scale.input_columns()
    frame = pd.DataFrame(
        [[ex.responses.get(i) for i in spec.item_ids()] for ex in spec.examples], columns=cols, dtype="float64"
    )
    out, _ = _score_one(frame, scale, norms=None)
    # `total.band@set` checks a named band set other than the default
    other_sets = {key.split("@", 1)[1] for ex in spec.examples for key in ex.expected if "@" in key}
    by_set = {name: _score_one(frame, scale, norms=None, bands=name)[0] for name in sorted(other_sets)}
    issues = []
    for i, ex in enumerate(spec.examples):
        for key, want in ex.expected.items():
            base, _, set_name = key.partition("@")
            table = by_set[set_name] if set_name else out
            if f"{spec.id}.{base}" not in table.columns:  # e.g. `total.band` for a score without bands
                issues.append(Issue("unknown_output", f"example {ex.id!r} expects {key}, which scoring does not output",
                                    path=f"examples[{i}].expected.{key}", file=file))
                continue
            got = table[f"{spec.id}.{base}"].iloc[i]
            if pd.isna(got):
                same = want is None
            elif isinstance(want, bool) or isinstance(got, bool):
                same = bool(got) == want
            elif isinstance(want, (int, float)):
                # a band label where the file expects a number (or the reverse) is a mismatch, not a crash
                same = isinstance(got, numbers.Real) and math.isclose(float(got), float(want), rel_tol=0, abs_tol=1e-9)
            else:
                same = str(got) == str(want)
            if not same:
                issues.append(
                    Issue(
                        "example_mismatch",
                        f"example {ex.id!r}: {key} is {got!r} when scored, but the file expects {want!r}",
                        path=f"examples[{i}].expected.{key}",
                        file=file,
                    )
                )
    return issues
