"""Local norms from a reference sample, written as a scale file's ``norms`` block so that ``score()`` uses them."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import yaml
from scipy import stats

from .. import columns as C
from .._params import InvalidParameterError, check_choice
from .._version import __version__
from ..errors import SpecError
from ..loading import read_yaml
from ..scoring import Scale, load_scale
from ..scoring import score as score_responses
from ..specs.common import Source
from ..specs.scale import NormGroup, NormSet
from ._inputs import ScaleLike, check_frame
from ._result import frame_text

__all__ = ["NormsBuild", "SmallNormGroupWarning", "as_text", "build_norms", "percentile_rank"]

FloatArray = npt.NDArray[np.float64]

#: Default smallest group size for stable norms. A convention, not a law:
#: with n = 100 a percentile near the 5th or 95th rests on about five people;
#: test manuals commonly aim for several hundred per norm group.
MIN_GROUP_N = 100

_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


class SmallNormGroupWarning(UserWarning):
    """A norm group has fewer reference cases than ``min_group_n``: its percentiles are unstable."""


def as_text(v: object) -> str:
    """A group value as the text ``score()`` matches it with (7, 7.0 and "7" are the same group)."""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def percentile_rank(x: FloatArray, at: FloatArray) -> FloatArray:
    """Mid-point percentile rank of each value of ``at`` in the sample ``x``.

    ``PR(a) = 100 · (#{x < a} + ½ · #{x = a}) / n`` — the share of the sample
    below ``a``, counting half of those exactly at ``a`` (Crocker & Algina
    1986, ch. 19). It is never 0 or 100 for a value seen in the sample, so a
    normalised T always exists there.
    """
    xs = np.sort(np.asarray(x, dtype=np.float64))
    below = np.searchsorted(xs, at, side="left")
    upto = np.searchsorted(xs, at, side="right")
    return np.asarray(100.0 * (below + 0.5 * (upto - below)) / len(xs))


class _NoAliasDumper(yaml.SafeDumper):
    """Safe dumper that writes shared sub-trees out in full instead of as &anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


@dataclass(frozen=True, repr=False)
class NormsBuild:
    """Result of :func:`build_norms`.

    Attributes
    ----------
    score : str
        The score id the norms are for.
    scale_id : str or None
        The scale, when norms were built from responses to a scale.
    method : {"table", "linear"}
        What the norm set stores (see :func:`build_norms`).
    t_score : {"normalised", "linear"}
        Which T-score the ``table`` rows hold.
    groups : DataFrame
        One row per group: the ``by`` values, ``n``, ``mean``, ``sd``, ``min``,
        ``max`` and ``small`` (True when ``n < min_group_n``).
    table : DataFrame
        One row per group and raw score: ``raw``, ``n_at`` (cases at that
        score), ``percentile`` (mid-point percentile rank), ``t_normalised``,
        ``t_linear``, and ``t`` (the kind written to the YAML), unrounded.
    norm_set : NormSet
        The validated norm set as it is written into a scale file (rounded).
    n_used, n_excluded : int
        Reference rows used, and rows left out (no score, an ``invalid``
        status, or a missing group value).
    """

    score: str
    scale_id: str | None
    method: str
    t_score: str
    by: tuple[str, ...]
    groups: pd.DataFrame
    table: pd.DataFrame
    norm_set: NormSet
    n_used: int
    n_excluded: int
    _scale: Scale | None = None

    def __repr__(self) -> str:
        head = (
            f"<NormsBuild {self.scale_id + '.' if self.scale_id else ''}{self.score}: method={self.method}"
            f"{', T ' + self.t_score if self.method == 'table' else ''}, by={list(self.by)}, "
            f"{len(self.groups)} group(s), n used = {self.n_used}, excluded = {self.n_excluded}"
        )
        return f"{head}\n{frame_text(self.groups)}>"

    def _repr_html_(self) -> str:
        """Notebook view: what was built, the groups and the first rows of the norm table."""
        from ._result import html_view

        title = f"NormsBuild {self.scale_id + '.' if self.scale_id else ''}{self.score}"
        lines = [f"method = {self.method}{', T ' + self.t_score if self.method == 'table' else ''}; by = {list(self.by)}; "
                 f"{len(self.groups)} group(s); n used = {self.n_used}, excluded = {self.n_excluded}"]
        return html_view(title, lines, [("groups", self.groups), ("table", self.table)])

    def norms_block(self, name: str = "local", *, default: bool = True) -> dict[str, Any]:
        """The ``norms`` block of a scale file holding only this set, as plain data."""
        _check_name(name)
        block: dict[str, Any] = {"sets": {name: self.norm_set.model_dump(mode="json", exclude_none=True)}}
        if default:
            block = {"default": name, **block}
        return block

    def to_scale_dict(
        self, scale: ScaleLike | None = None, *, name: str = "local", default: bool = True, replace: bool = False
    ) -> dict[str, Any]:
        """A complete scale definition (plain data) with these norms added as set ``name``.

        Parameters
        ----------
        scale : str, path, Scale or mapping, optional
            The scale to add the norms to; defaults to the scale they were built from.
            A scale read from a file keeps that file's content (comments are lost).
        name : str
            Name of the norm set (lower_snake_case).
        default : bool
            Make it the scale's default norm set, which ``score()`` applies
            unless told otherwise.
        replace : bool
            Replace an existing set of the same name instead of raising.

        Returns
        -------
        dict
            Loads with :func:`screening.load_scale` (checked before returning).
        """
        func = "NormsBuild.to_scale_dict"
        _check_name(name)
        if scale is None and self._scale is None:
            raise InvalidParameterError(
                f"The 'scale' parameter of {func} must be given when the norms were not built from a "
                "scale. Got None instead."
            )
        sc = self._scale if scale is None else load_scale(scale)
        if sc is None:  # pragma: no cover - excluded just above
            raise InvalidParameterError(f"The 'scale' parameter of {func} must be a scale. Got None instead.")
        if self.score not in sc.score_ids:
            raise InvalidParameterError(
                f"The 'scale' parameter of {func} must be a scale with the score {self.score!r} the norms are for. "
                f"Got {sc.id} with scores {sc.score_ids} instead."
            )
        doc = _scale_document(sc)
        norms = dict(doc.get("norms") or {})
        sets = dict(norms.get("sets") or {})
        if name in sets and not replace:
            raise InvalidParameterError(
                f"The 'name' parameter of {func} must be a new norm set name, not one of the existing sets of "
                f"{sc.id} ({sorted(sets)}) unless replace=True. Got {name!r} instead."
            )
        sets[name] = self.norm_set.model_dump(mode="json", exclude_none=True)
        norms["sets"] = sets
        if default:
            norms["default"] = name
        doc["norms"] = norms
        try:
            load_scale(doc)
        except SpecError as exc:  # would mean a bug here: the norm set was validated already
            raise InvalidParameterError(
                f"The 'scale' parameter of {func} must be a scale that stays valid once the norms are "
                f"added. Got a scale with these problems instead.\n{exc}"
            ) from exc
        return doc

    def to_scale_yaml(
        self, scale: ScaleLike | None = None, *, name: str = "local", default: bool = True, replace: bool = False
    ) -> str:
        """:meth:`to_scale_dict` as YAML text (``yaml.safe_dump``), ready to save as a scale file."""
        doc = self.to_scale_dict(scale, name=name, default=default, replace=replace)
        return yaml.dump(doc, Dumper=_NoAliasDumper, allow_unicode=True, sort_keys=False, width=100)


def _check_name(name: object) -> None:
    if not isinstance(name, str) or not _SNAKE.match(name):
        raise InvalidParameterError(
            "The 'name' parameter of NormsBuild must be a lower_snake_case name such as 'local_2025'. Got "
            f"{name!r} instead."
        )


def _scale_document(sc: Scale) -> dict[str, Any]:
    path = Path(sc.source)
    if sc.source != "<mapping>" and path.is_file():
        data, issues = read_yaml(path)
        if not issues and isinstance(data, dict):
            return dict(data)
    return dict(sc.spec.model_dump(mode="json", exclude_none=True))


def build_norms(
    data: pd.DataFrame,
    scale: ScaleLike | None = None,
    score: str | None = None,
    *,
    by: Sequence[str] = (),
    method: Literal["table", "linear"] = "table",
    t_score: Literal["normalised", "linear"] = "normalised",
    min_group_n: int = MIN_GROUP_N,
    decimals: int = 2,
    source: str | None = None,
    population: str | None = None,
    columns: Mapping[str, str] | None = None,
    prefix: str | None = None,
    response_format: Literal["value", "index", "label"] = "value",
    on_invalid: Literal["raise", "missing"] = "raise",
) -> NormsBuild:
    """Percentile and T-score norms of one score from a reference sample, by group.

    Parameters
    ----------
    data : DataFrame
        The reference sample. With ``scale``: item responses (scored with
        :func:`screening.score`, norms off). Without: ``score`` is a column of
        ``data`` that already holds the raw scores.
    scale : str, path, Scale or mapping, optional
        The scale the score belongs to.
    score : str
        Score id (with a scale) or column name (without).
    by : list of str
        Columns of ``data`` defining the norm groups (e.g. ``["sex", "grade"]``);
        empty for one group. ``score()`` later reads the same columns.
    method : {"table", "linear"}
        ``table``: rows ``[raw, t, percentile]`` for every raw score from the
        group's lowest to its highest (every whole number in between for
        whole-number scores, the observed values otherwise). ``linear``: the
        group's mean and SD; ``score()`` then computes a linear T and no percentile.
    t_score : {"normalised", "linear"}
        Which T the ``table`` rows hold. ``normalised``: ``T = 50 + 10·Φ⁻¹(PR/100)``
        (area transformation: the T a normal distribution would give the same
        percentile). ``linear``: ``T = 50 + 10·(raw − mean)/SD`` (keeps the
        shape of the raw distribution).
    min_group_n : int
        Groups smaller than this get a :class:`SmallNormGroupWarning` and
        ``small = True`` (default 100, a convention; see Notes).
    decimals : int
        Decimals kept for T and percentile in the written norms (mean and SD
        keep two more).
    source, population : str, optional
        Citation and description of the reference sample written into the norm
        set. Say who the sample is (place, year, grades, sampling).
    columns, prefix, response_format, on_invalid
        As in :func:`screening.score` (scale mode only).

    Returns
    -------
    NormsBuild
        Tables, group sizes and the :class:`~screening.specs.scale.NormSet`;
        ``.to_scale_yaml()`` gives a scale file that uses them.

    Notes
    -----
    Percentile rank (mid-point definition): ``PR(x) = 100·(#{X < x} + ½·#{X = x})/n``
    within the group. ``mean`` and ``SD`` use ``n − 1``. A score below the
    lowest raw score of the reference group gets no T-score from a table
    (``score()`` gives NaN): the sample says nothing about it. A score between
    two table rows takes the lower row.

    Rows of the reference sample are used when their score is not NaN, the
    scale status is not ``invalid`` and every ``by`` value is present; the
    others are counted in ``n_excluded``. T-scores always rise with the raw
    score, whatever the score's ``direction``.

    How large a norm group must be has no single answer; percentiles in the
    tails need the most cases. The default warning threshold (100) is a
    floor, not a recommendation.

    References
    ----------
    Crocker L, Algina J (1986) Introduction to Classical and Modern Test Theory,
    ch. 19 (norms, percentile ranks, normalised scores). The R equivalent of
    the table is ``50 + 10 * qnorm((rank(x) - 0.5) / n)`` evaluated per raw
    score (``rank`` with ties averaged gives the same mid-point rank).

    Examples
    --------
    >>> import pandas as pd
    >>> import screening.research as rs
    >>> ref = pd.DataFrame({"total": [3, 5, 5, 7, 9, 11], "sex": ["F", "F", "F", "M", "M", "M"]})
    >>> nb = rs.build_norms(ref, score="total", by=["sex"], min_group_n=3)
    >>> nb.groups["n"].tolist()
    [3, 3]
    """
    func = "build_norms"
    frame = check_frame(func, "data", data)
    by = _check_options(func, frame, method, t_score, by, min_group_n, decimals)
    # phase 1: the raw score of every reference row, and which rows may be used
    sc: Scale | None = None
    if scale is None:
        raw, usable, score_id = _raw_from_column(func, frame, score, columns, prefix)
    else:
        sc = load_scale(scale)
        raw, usable, score_id = _raw_from_scale(func, frame, sc, score, columns, prefix, response_format, on_invalid)
    # phase 2: the norm group of every usable row
    x, codes, group_values, n_excluded = _reference_groups(func, frame, by, raw, usable)
    # phase 3: one vectorised pass per norm group
    group_rows: list[dict[str, Any]] = []
    table_parts: list[pd.DataFrame] = []
    norm_groups: list[NormGroup] = []
    for g, values in enumerate(group_values):
        row, part, norm_group = _one_group(func, x[codes == g], dict(zip(by, values, strict=True)), score_id,
                                           method, t_score, min_group_n, decimals)
        group_rows.append(row)
        table_parts.append(part)
        norm_groups.append(norm_group)
    # phase 4: the norm set, with where it came from
    what = (
        "linear T (mean, SD)" if method == "linear" else f"table of {t_score} T-scores and mid-point percentile ranks"
    )
    ref = source or (
        f"Local norms built with screening.research.build_norms (screening {__version__}) from {len(x)} reference "
        f"responses: {what}."
    )
    norm_set = NormSet(
        score=score_id,
        by=by,
        method=method,
        source=Source(ref=ref),
        population=population,
        groups=tuple(norm_groups),
    )
    groups = pd.DataFrame(group_rows)
    table = pd.concat(table_parts, ignore_index=True)
    return NormsBuild(
        score=score_id,
        scale_id=sc.id if sc is not None else None,
        method=method,
        t_score=t_score,
        by=by,
        groups=groups,
        table=table,
        norm_set=norm_set,
        n_used=len(x),
        n_excluded=n_excluded,
        _scale=sc,
    )



def _check_options(func: str, frame: pd.DataFrame, method: str, t_score: str, by: Any, min_group_n: Any,
                   decimals: Any) -> tuple[str, ...]:
    """The options of :func:`build_norms` that do not depend on the scale; returns ``by`` as a tuple of columns."""
    check_choice(func, "method", method, ("table", "linear"))
    check_choice(func, "t_score", t_score, ("normalised", "linear"))
    if isinstance(by, str) or not isinstance(by, Sequence):
        raise InvalidParameterError(f"The 'by' parameter of {func} must be a list of column names. Got {by!r} instead.")
    cols = tuple(str(b) for b in by)
    missing_by = [b for b in cols if b not in frame.columns]
    if missing_by:
        raise InvalidParameterError(
            f"The 'by' parameter of {func} must be a list of columns of data. Got {missing_by}, which are "
            "not columns, instead."
        )
    if isinstance(min_group_n, bool) or not isinstance(min_group_n, int) or min_group_n < 2:
        raise InvalidParameterError(
            f"The 'min_group_n' parameter of {func} must be an int ≥ 2. Got {min_group_n!r} instead."
        )
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 6:
        raise InvalidParameterError(
            f"The 'decimals' parameter of {func} must be an int from 0 to 6. Got {decimals!r} instead."
        )
    return cols


def _raw_from_column(func: str, frame: pd.DataFrame, score: str | None, columns: Mapping[str, str] | None,
                     prefix: str | None) -> tuple[FloatArray, npt.NDArray[np.bool_], str]:
    """Raw scores already in a column of ``data``: the scores, the usable rows and the score id."""
    if columns is not None or prefix is not None:
        raise InvalidParameterError(
            f"The 'columns' and 'prefix' parameters of {func} map scale items to columns, so they need a scale. "
            "Got a value without a scale instead."
        )
    if not isinstance(score, str) or score not in frame.columns:
        raise InvalidParameterError(
            f"The 'score' parameter of {func} must be the column of data holding the raw scores when no scale "
            f"is given. Got {score!r} instead."
        )
    raw = pd.to_numeric(frame[score], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    text_bad = frame[score].notna().to_numpy() & np.isnan(raw)
    if text_bad.any():
        raise InvalidParameterError(
            f"The 'score' parameter of {func} must be a numeric column. Got {score!r}, with "
            f"{int(text_bad.sum())} value(s) that are not numbers, instead."
        )
    usable = ~np.isnan(raw)
    # a column of score() output is named "{scale}.{score}"; a norm set names the score alone
    score_id = score.rsplit(".", 1)[-1]
    if not _SNAKE.match(score_id):
        raise InvalidParameterError(
            f"The 'score' parameter of {func} must be a column named like a score id (lower_snake_case, "
            f"optionally after 'scale.'; rename the column). Got {score!r} instead."
        )
    return raw, usable, score_id


def _raw_from_scale(func: str, frame: pd.DataFrame, sc: Scale, score: str | None, columns: Mapping[str, str] | None,
                    prefix: str | None, response_format: Literal["value", "index", "label"],
                    on_invalid: Literal["raise", "missing"]) -> tuple[FloatArray, npt.NDArray[np.bool_], str]:
    """Raw scores from item responses (scored with norms off): the scores, the usable (valid) rows and the score id."""
    if not isinstance(score, str) or score not in sc.score_ids:
        raise InvalidParameterError(
            f"The 'score' parameter of {func} must be a score id of {sc.id} ({sc.score_ids}). Got "
            f"{score!r} instead."
        )
    check_choice(func, "response_format", response_format, ("value", "index", "label"))
    check_choice(func, "on_invalid", on_invalid, ("raise", "missing"))
    out = score_responses(
        frame,
        sc,
        columns=columns,
        prefix=prefix,
        response_format=response_format,
        on_invalid=on_invalid,
        norms=None,
    )
    raw = out[C.score_col(sc.id, score)].to_numpy(dtype=np.float64, na_value=np.nan)
    usable = ~np.isnan(raw) & (out[C.status_col(sc.id)].astype(str).to_numpy() != "invalid")
    score_id = score
    return raw, usable, score_id


def _reference_groups(func: str, frame: pd.DataFrame, by: tuple[str, ...], raw: FloatArray,
                      usable: npt.NDArray[np.bool_]) -> tuple[FloatArray, npt.NDArray[np.intp], list[tuple[str, ...]], int]:
    """The usable scores, the norm group code of each, the groups' ``by`` values (sorted) and the rows excluded."""
    keys = [frame[b] for b in by]
    for col in keys:
        usable &= col.notna().to_numpy()
    n_excluded = int(len(frame) - usable.sum())
    x = raw[usable]
    labels = [np.array([as_text(v) for v in col.to_numpy()[usable]], dtype=object) for col in keys]
    if len(x) == 0:
        raise InvalidParameterError(
            f"The 'data' parameter of {func} must be a table with scored rows that have every group value. "
            "Got none instead."
        )
    if labels:
        combo = pd.MultiIndex.from_arrays(labels, names=list(by))
        codes, uniques = pd.factorize(combo, sort=True)
        group_values = [tuple(str(v) for v in (u if isinstance(u, tuple) else (u,))) for u in uniques]
    else:
        codes = np.zeros(len(x), dtype=np.intp)
        group_values = [()]
    return x, codes, group_values, n_excluded


def _one_group(func: str, xg: FloatArray, match: dict[str, str], score_id: str, method: str, t_score: str,
               min_group_n: int, decimals: int) -> tuple[dict[str, Any], pd.DataFrame, NormGroup]:
    """One norm group: its summary row, its table of raw points, and its :class:`NormGroup`."""
    n = len(xg)
    mean = float(xg.mean())
    sd = float(xg.std(ddof=1)) if n > 1 else np.nan
    small = n < min_group_n
    row = {**match, "n": n, "mean": mean, "sd": sd, "min": float(xg.min()), "max": float(xg.max()), "small": small}
    if small:
        where = ", ".join(f"{k}={v}" for k, v in match.items()) or "the whole sample"
        warnings.warn(
            f"norm group {where} of {score_id} has {n} reference case(s), fewer than min_group_n={min_group_n}: "
            "its percentiles and T-scores are unstable",
            SmallNormGroupWarning,
            stacklevel=3,  # the caller of build_norms
        )
    if (method == "linear" or t_score == "linear") and not (sd > 0):
        where = ", ".join(f"{k}={v}" for k, v in match.items()) or "the whole sample"
        raise InvalidParameterError(
            f"The 'data' parameter of {func} must be a sample in which every norm group has some "
            f"spread (for linear T-scores). Got group {where} (n = {n}) with SD {sd} instead."
        )
    rows = _raw_points(xg)
    pr = percentile_rank(xg, rows)
    t_norm = 50.0 + 10.0 * stats.norm.ppf(pr / 100.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        t_lin = 50.0 + 10.0 * (rows - mean) / sd
    t = t_norm if t_score == "normalised" else t_lin
    n_at = np.searchsorted(np.sort(xg), rows, side="right") - np.searchsorted(np.sort(xg), rows, side="left")
    part = pd.DataFrame(
        {
            **dict(match.items()),
            "raw": rows,
            "n_at": n_at,
            "percentile": pr,
            "t_normalised": t_norm,
            "t_linear": t_lin,
            "t": t,
        }
    )
    if method == "linear":
        return row, part, NormGroup(match=match, n=n, mean=round(mean, decimals + 2), sd=round(sd, decimals + 2))
    table_rows = tuple(
        (float(r), round(float(tv), decimals), round(float(p), decimals))
        for r, tv, p in zip(rows, t, pr, strict=True)
    )
    return row, part, NormGroup(match=match, n=n, rows=table_rows)


def _raw_points(x: FloatArray) -> FloatArray:
    """Table rows: every whole number from min to max for whole-number scores, else the observed values."""
    lo, hi = float(x.min()), float(x.max())
    if np.all(x == np.floor(x)):
        return np.arange(lo, hi + 1.0)
    return np.unique(x)
