"""Finding a scale's questions in an export without ``start=``: by option labels, option count and wording.

A 问卷星 questionnaire usually holds the scale as consecutive questions
(``8、做事时提不起劲或没有兴趣`` … or the rows of one matrix question). When
the caller gives neither ``start=`` nor ``columns=`` and the default column
names (``phq9_1`` …) are absent, every run of ``n`` consecutive numbered
questions (``n`` = the scale's items) is a candidate. A run fits when each of
its columns holds only

* option labels of the matching item (按选项文本, text download), or
* whole numbers from 1 to the item's number of options (按选项序号, index
  download; skip codes -2/-3 allowed), or
* the scale's own option values (a plain table whose headers are numbered).

Among fitting runs the one whose headers read most like the scale's item
wording (``difflib`` ratio against the YAML ``text.zh``/``text.en``) is
chosen, if it is clearly ahead; two runs that fit equally well (PHQ-9 and a
second 4-option scale in an index download with headers that say nothing)
are an error asking for ``--start``. The chosen mapping is returned, so the
caller can print it for the teacher to check.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import Issue
from ..scoring import Scale
from .groups import stem
from .mapping import Question
from .options import ItemTarget, distinct_cells, option_key

__all__ = ["Detected", "detect_items"]

#: How much better (header wording ratio) the best run must be than the next to be chosen on wording.
MARGIN = 0.12


@dataclass(frozen=True)
class Detected:
    """Where a scale was found: its columns in item order, how (``labels``/``index``) and the wording match."""

    scale: str
    columns: tuple[str, ...]
    questions: tuple[int, ...]
    how: str
    wording: float


def _column_profile(s: pd.Series, missing: frozenset[str]) -> tuple[set[str], set[float] | None]:
    """Distinct answered cells (label keys) and, when all are numbers, their set."""
    codes, uniq = distinct_cells(s, missing)
    keys = {option_key(uniq[k]) for k in np.unique(codes[codes >= 0])}
    nums = pd.to_numeric(pd.Series(sorted(keys), dtype=object), errors="coerce")
    numbers = set(nums.astype(float)) if len(keys) and bool(nums.notna().all()) else None
    return keys, numbers


def _fit(profile: tuple[set[str], set[float] | None], target: ItemTarget, how: str) -> bool:
    keys, numbers = profile
    if not keys:
        return False
    if how == "labels":
        return numbers is None and keys <= set(target.labels)
    if numbers is None:
        return False
    if how == "index":
        return numbers <= set(range(1, len(target.option_values) + 1))
    return numbers <= {float(v) for v in target.allowed}


def _consecutive(cols: Sequence[str], questions: Mapping[str, Question]) -> bool:
    for prev, cur in itertools.pairwise(cols):
        p, c = questions[prev], questions[cur]
        if not ((c.number == p.number and c.matrix and p.matrix) or c.number == p.number + 1):
            return False
    return True


def _wording(cols: Sequence[str], scale: Scale) -> float:
    texts = []
    for item in scale.spec.items:
        t = item.text
        texts.append([x for x in (t.get("zh"), t.get("en")) if x] if t is not None else [])
    ratios = []
    for col, cands in zip(cols, texts, strict=True):
        h = stem(col)
        if not h or not cands:
            ratios.append(0.0)
            continue
        ratios.append(max(difflib.SequenceMatcher(None, h, c.casefold()).ratio() for c in cands))
    return float(np.mean(ratios)) if ratios else 0.0


def detect_items(
    scale: Scale,
    frame: pd.DataFrame,
    order: Sequence[str],
    questions: Mapping[str, Question],
    targets: Sequence[ItemTarget],
    *,
    taken: set[str],
    missing_codes: frozenset[str],
    file: str,
    kinds: Sequence[str] = ("labels", "index"),
) -> tuple[Detected | None, list[Issue]]:
    """Find ``scale`` among the numbered questions of ``frame`` (see the module docstring).

    ``kinds`` says which cell contents may fit, in order of preference:
    ``labels`` (option text), ``index`` (1-based option numbers), ``values``
    (the scale's own option values).
    """
    n = len(targets)
    qcols = [c for c in order if c in questions and c not in taken]
    profiles = {c: _column_profile(frame[c], missing_codes) for c in qcols}
    fits: list[tuple[int, str]] = []
    for i in range(len(qcols) - n + 1):
        window = qcols[i:i + n]
        if not _consecutive(window, questions):
            continue
        for how in kinds:
            if all(_fit(profiles[c], t, how) for c, t in zip(window, targets, strict=True)):
                fits.append((i, how))
                break
    hint = (f"say where it starts: --start {scale.id}=<number of its first question> "
            f"(Python: start={{'{scale.id}': <number>}})")
    if not fits:
        return None, [Issue("scale_not_found", f"no run of {n} consecutive questions holds only {scale.id}'s options "
                            f"({', '.join(targets[0].option_names)}) or option numbers 1–{len(targets[0].option_values)}",
                            file=file, hint=hint)]
    scored = sorted(((_wording(qcols[i:i + n], scale), i, how) for i, how in fits), reverse=True)
    # runs that fit by label beat runs that fit only by numbers
    if any(h == "labels" for _, _, h in scored):
        scored = [x for x in scored if x[2] == "labels"]
    best = scored[0]
    if len(scored) > 1 and best[0] - scored[1][0] < MARGIN:
        starts = sorted({questions[qcols[i]].number for _, i, _ in scored[:4]})
        return None, [Issue("scale_ambiguous", f"{scale.id} could start at question "
                            + " or ".join(str(s) for s in starts) + " (the options fit and the wording does not decide)",
                            file=file, hint=hint.replace("<number of its first question>", str(starts[0])))]
    cols = tuple(qcols[best[1]:best[1] + n])
    return Detected(scale.id, cols, tuple(questions[c].number for c in cols), best[2], round(best[0], 2)), []
