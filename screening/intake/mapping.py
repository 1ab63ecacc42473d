"""Which column holds which item: question numbers, ``start=`` and explicit mappings.

A questionnaire rarely names its columns ``phq9_1 … phq9_9``. Its headers
carry question numbers instead — ``3、题干`` / ``3.`` / ``3：`` (问卷星, 腾讯问卷),
``第3题(行标签)`` for the rows of a matrix question, ``Q3`` / ``Q3_1``
(Qualtrics export tags). This module parses those numbers and maps the items of
a scale onto them:

- ``start=3``: the scale's items are the answer columns from question 3 on,
  in order (questions 3, 4, … or the rows of matrix question 3); the columns
  taken must be consecutive questions, and a matrix with more rows than the
  scale has items is an error;
- ``start="Q3_1"``: the items are the columns from this header on;
- ``columns=[…]`` or ``{item: …}``: explicit, each entry a header, a question
  number (``5``) or a matrix row (``(3, 2)``);
- otherwise the default names ``{scale}_{item}``.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

from ..errors import Issue, did_you_mean
from ..scoring import Scale

__all__ = ["ColumnSpec", "Question", "parse_questions", "resolve_items"]

ColumnSpec = Union[str, int, tuple[int, int]]  # noqa: UP007 - a runtime alias must work on Python 3.10

_MATRIX = (
    re.compile(r"^第\s*(\d+)\s*题\s*[(（].*[)）]$", re.S),  # 问卷星: 第3题(做事时提不起劲或没有兴趣)
    re.compile(r"^(\d+)\s*[(（].*[)）]$", re.S),  # 问卷星 variant: 3(…)
)
_TAG = re.compile(r"^[Qq](\d+)(?:[_.](\d+))?$")  # Qualtrics export tags Q3, Q3_1
_SINGLE = re.compile(r"^(\d+)\s*(?:[、.:]|$)", re.S)  # 3、题干 / 3.题干 / 3：题干 (NFKC folds ．：) / a bare 3


@dataclass(frozen=True)
class Question:
    """A column recognised as (part of) a numbered question."""

    column: str
    number: int
    matrix: bool
    row: int  # 1-based position among the columns of the same question


def _parse(header: str) -> tuple[int, bool] | None:
    h = unicodedata.normalize("NFKC", header).strip()
    for rx in _MATRIX:
        m = rx.match(h)
        if m:
            return int(m.group(1)), True
    m = _TAG.match(h)
    if m:
        return int(m.group(1)), m.group(2) is not None
    m = _SINGLE.match(h)
    if m:
        return int(m.group(1)), False
    return None


def parse_questions(columns: Sequence[str]) -> dict[str, Question]:
    """The columns whose header carries a question number, with matrix rows numbered in file order."""
    out: dict[str, Question] = {}
    rows: dict[int, int] = {}
    for col in columns:
        parsed = _parse(str(col))
        if parsed is None:
            continue
        number, matrix = parsed
        rows[number] = rows.get(number, 0) + 1
        out[col] = Question(col, number, matrix, rows[number])
    return out


def _describe(q: Question) -> str:
    return f"question {q.number}" + (f" row {q.row}" if q.matrix else "")


def _by_start_number(scale: Scale, start: int, order: Sequence[str], questions: Mapping[str, Question],
                     file: str) -> tuple[list[str] | None, list[Issue]]:
    n = len(scale.items)
    qcols = [c for c in order if c in questions]
    first = next((i for i, c in enumerate(qcols) if questions[c].number == start), None)
    if first is None:
        numbers = sorted({q.number for q in questions.values()})
        found = f"questions found: {numbers[0]}–{numbers[-1]}" if numbers else "no numbered question headers found"
        return None, [Issue("no_question", f"{scale.id}: no question numbered {start} in the file", file=file,
                            hint=f"{found}; pass start= with the number of the scale's first question, or columns=")]
    taken = qcols[first:first + n]
    issues: list[Issue] = []
    if len(taken) < n:
        issues.append(Issue("item_count", f"{scale.id} has {n} items but only {len(taken)} answer columns follow "
                            f"question {start}", file=file, column=taken[-1] if taken else "",
                            hint="check start= and that the whole scale is in the file"))
        return None, issues
    for prev, cur in itertools.pairwise(taken):
        p, c = questions[prev], questions[cur]
        if not ((c.number == p.number and c.matrix and p.matrix) or c.number == p.number + 1):
            issues.append(Issue(
                "question_gap", f"{scale.id} from question {start}: {_describe(c)} follows {_describe(p)}, "
                f"so the {n} columns taken are not consecutive questions", file=file, column=cur,
                hint="map the items explicitly with columns=[...] if the scale is split across the questionnaire"))
            break
    last = questions[taken[-1]]
    after = qcols[first + n] if first + n < len(qcols) else None
    if after is not None and last.matrix and questions[after].number == last.number:
        rows = sum(1 for q in questions.values() if q.number == last.number)
        issues.append(Issue("item_count", f"matrix question {last.number} has {rows} rows but {scale.id} has "
                            f"{n} items", file=file, column=after,
                            hint="is this the same form of the scale? map the items with columns= otherwise"))
    return (None if issues else taken), issues


def _lookup(spec: Any, order: Sequence[str], questions: Mapping[str, Question], aliases: Mapping[str, str],
            scale: Scale, item: str, file: str) -> tuple[str | None, Issue | None]:
    if isinstance(spec, bool):
        spec = None  # a bool is never a question number
    if isinstance(spec, str):
        if spec in order:
            return spec, None
        if spec in aliases:
            return aliases[spec], None
        return None, Issue("missing_column", f"{scale.id} item {item} is mapped to a column the file does not have",
                           file=file, column=spec, hint=did_you_mean(spec, order) or "")
    if isinstance(spec, int):
        hits = [q for q in questions.values() if q.number == spec]
        if len(hits) == 1:
            return hits[0].column, None
        if not hits:
            return None, Issue("no_question", f"{scale.id} item {item}: no question numbered {spec} in the file",
                               file=file)
        return None, Issue("matrix_question", f"{scale.id} item {item}: question {spec} has {len(hits)} columns "
                           f"(a matrix); name the row as ({spec}, row)", file=file, column=hits[0].column)
    if isinstance(spec, tuple) and len(spec) == 2 and all(isinstance(x, int) for x in spec):
        hit = next((q for q in questions.values() if q.number == spec[0] and q.row == spec[1]), None)
        if hit is None:
            return None, Issue("no_question", f"{scale.id} item {item}: no row {spec[1]} of question {spec[0]}",
                               file=file)
        return hit.column, None
    return None, Issue("bad_mapping", f"{scale.id} item {item}: a column is named by a header (str), a question "
                       f"number (int) or a matrix row ((question, row)); got {type(spec).__name__}", file=file)


def resolve_items(
    scale: Scale,
    order: Sequence[str],
    questions: Mapping[str, Question],
    *,
    columns: Sequence[ColumnSpec] | Mapping[str, ColumnSpec] | None = None,
    start: int | str | None = None,
    aliases: Mapping[str, str] | None = None,
    file: str = "",
) -> tuple[list[str] | None, list[Issue]]:
    """The column of each item of ``scale`` (in item order), or None and the issues found.

    ``order`` lists the columns that may hold answers, in file order (metadata
    and dropped columns already removed).
    """
    aliases = aliases or {}
    items = scale.items
    n = len(items)
    if columns is not None and start is not None:
        return None, [Issue("bad_mapping", f"{scale.id}: give columns= or start=, not both", file=file)]
    if columns is not None:
        if isinstance(columns, Mapping):
            unknown = [str(k) for k in columns if str(k) not in items]
            if unknown:
                return None, [Issue("bad_mapping", f"{scale.id} has no item(s) {unknown}; items are {items}", file=file,
                                    hint=did_you_mean(unknown[0], items) or "")]
            wanted = {str(k): v for k, v in columns.items()}
            specs: list[Any] = [wanted.get(i, scale.input_columns()[k]) for k, i in enumerate(items)]
        elif isinstance(columns, (list, tuple)):
            if len(columns) != n:
                return None, [Issue("item_count", f"{scale.id} has {n} items but columns= lists {len(columns)}",
                                    file=file)]
            specs = list(columns)
        else:
            return None, [Issue("bad_mapping", f"{scale.id}: columns= must be a list in item order or a mapping "
                                f"item → column; got {type(columns).__name__}", file=file)]
        out: list[str] = []
        issues: list[Issue] = []
        for item, spec in zip(items, specs, strict=True):
            col, issue = _lookup(spec, order, questions, aliases, scale, item, file)
            if issue is not None:
                issues.append(issue)
            elif col is not None:
                out.append(col)
        return (out if not issues else None), issues
    if isinstance(start, bool):
        start = None
    if isinstance(start, int):
        return _by_start_number(scale, start, order, questions, file)
    if isinstance(start, str):
        col = start if start in order else aliases.get(start)
        if col is None or col not in order:
            return None, [Issue("missing_column", f"{scale.id}: start= names a column the file does not have",
                                file=file, column=start, hint=did_you_mean(start, order) or "")]
        i = list(order).index(col)
        taken = list(order[i:i + n])
        if len(taken) < n:
            return None, [Issue("item_count", f"{scale.id} has {n} items but only {len(taken)} columns follow "
                                f"{start!r}", file=file, column=start)]
        return taken, []
    defaults = scale.input_columns()
    present = [c for c in defaults if c in order]
    if len(present) == n:
        return defaults, []
    if not present:
        return None, [Issue("missing_column", f"the file has none of the columns {defaults[0]} … {defaults[-1]} "
                            f"of {scale.id}", file=file, column=defaults[0],
                            hint="say where the scale is: start=<number of its first question> (e.g. start=3), "
                                 "start='<first column>', or columns=[...] in item order")]
    return None, [Issue("missing_column", f"the responses have no column for an item of {scale.id}", file=file,
                        column=c, hint=did_you_mean(c, order) or "") for c in defaults if c not in order]
