"""The compiled, picklable plan of a screening: one pure partition function with a declared output.

A :class:`ScreeningPlan` holds what a screening needs (scale and rule-set specs, band choices, flag and
group columns, language) and nothing else: no data, never a key. It pickles as spec text plus content
hashes and re-compiles once per worker process. Called on a pandas partition it returns that partition's
rows, in order, with a declared set of columns and dtypes (:meth:`ScreeningPlan.meta`,
:meth:`~ScreeningPlan.arrow_schema`, :meth:`~ScreeningPlan.spark_ddl`). :meth:`~ScreeningPlan.restore`
puts back the exact dtypes a single-machine :func:`screening.screen` gives after any engine round trip.

What travels differs from the single-machine result in two ways only (see docs/scale-out.md):

* categoricals whose categories come from the specs (tier, bands, status, actions) keep those fixed
  categories; the text whose categories depend on the data (``reasons``, ``reasons_zh/_en``, ``rescreen_reasons*``,
  ``rules_fired``) travels as plain strings, so every partition has the same dtype;
* pass-through text columns (group columns, the row key) travel as pandas' default ``str`` dtype,
  whatever an engine's string conversion did to them.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .._params import InvalidParameterError, check_choice
from ..errors import Issue, ResponseError, ScreeningError
from ..scoring import Scale, load_scale
from ..screener.result import ScreeningResult
from ..tiering.ruleset import RuleSet, load_rules

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["ScreeningPlan", "DATA_TEXT_COLUMNS", "spark_name"]

#: Tier-table columns whose categories depend on the data: they travel as strings.
DATA_TEXT_COLUMNS = ("reasons", "reasons_zh", "reasons_en", "rules_fired", "rescreen_reasons", "rescreen_reasons_zh",
                     "rescreen_reasons_en")

#: The dtype pass-through text columns travel and come back as (pandas' default string dtype).
TEXT = pd.StringDtype(na_value=np.nan)

_SEGMENTS = ("keep", "groups", "flags", "scores", "table")

# worker-side cache: content hash → compiled Scale / RuleSet (compiled once per process)
_COMPILED: dict[str, Any] = {}


def spark_name(name: str) -> str:
    """The Spark-safe name of a column: dots become double underscores (``phq9.total.band`` → ``phq9__total__band``)."""
    return str(name).replace(".", "__")


def _ref(obj: Scale | RuleSet) -> tuple[str, Any, str]:
    """What a plan pickles for a scale or rule set: its spec as JSON data (no compiled arrays) and its hash."""
    if isinstance(obj, RuleSet) and obj.spec.extra_scales:
        return ("object", obj, obj.content_hash)  # extra scales are files relative to the rule set: ship them compiled
    return ("spec", obj.spec.model_dump(mode="json"), obj.content_hash)


def _deref(ref: tuple[str, Any, str], kind: str) -> Any:
    how, value, digest = ref
    if how == "object":
        return value
    hit = _COMPILED.get(digest)
    if hit is None:
        hit = load_scale(value) if kind == "scale" else load_rules(value)
        if hit.content_hash != digest:  # the spec did not survive the trip unchanged: never score with it
            raise ScreeningError([Issue("plan_mismatch", f"{kind} {hit.id!r} re-compiled to a different definition on a worker")],
                                 title="cannot run the screening plan")
        _COMPILED[digest] = hit
    return hit


def _text_like(dtype: Any) -> bool:
    return isinstance(dtype, pd.StringDtype)


def _empty_like(dtypes: Mapping[str, Any]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in dtypes.items()})


class ScreeningPlan:
    """A screening compiled for partition-wise runs on Dask, Spark, Ray or any engine that hands out pandas frames.

    Parameters
    ----------
    scales, rules
        As for :func:`screening.screen` (``mode="screen"``) or :func:`screening.score` (``mode="score"``;
        ``rules`` is then ignored).
    input_meta : DataFrame
        A zero-row frame with the columns and dtypes of the input partitions (Dask: ``ddf._meta`` or
        built from ``ddf.dtypes``; Spark: built from the schema). Only names and dtypes are kept.
    key : str, optional
        A caller-supplied row key (pseudonym or ingestion row number) copied to the output and used to
        name rows in errors raised on an engine, where row positions are partition-relative.
    keep : list of str
        Further input columns copied to the output unchanged.
    names : {"pandas", "spark"}
        Column names of what an engine returns: the library's names (``phq9.total``), or Spark-safe
        ones (dots → ``__``, see :func:`spark_name`). :meth:`restore` accepts either.
    flags, groups, lang, response_format, on_invalid, bands
        As for :func:`screening.screen`.
    norms, keep_items
        As for :func:`screening.score` (``mode="score"`` only).
    """

    def __init__(
        self,
        scales: Sequence[str | Path | Scale],
        rules: str | Path | RuleSet = "default",
        *,
        input_meta: pd.DataFrame,
        mode: Literal["screen", "score"] = "screen",
        key: str | None = None,
        keep: Sequence[str] = (),
        names: Literal["pandas", "spark"] = "pandas",
        flags: Sequence[str] | Mapping[str, str] | pd.DataFrame | None = None,  # a DataFrame is refused
        groups: Sequence[str] | None = None,
        lang: Literal["zh", "en"] = "zh",
        response_format: Literal["value", "index", "label"] = "value",
        on_invalid: Literal["raise", "missing"] = "raise",
        bands: Mapping[str, Any] | str | None = None,
        norms: str | None = "default",
        keep_items: bool = False,
    ) -> None:
        func = "ScreeningPlan"
        check_choice(func, "mode", mode, ("screen", "score"))
        check_choice(func, "names", names, ("pandas", "spark"))
        if not isinstance(input_meta, pd.DataFrame):
            raise InvalidParameterError(
                f"The 'input_meta' parameter of {func} must be a pandas DataFrame. Got {type(input_meta).__name__} instead.")
        if isinstance(scales, (str, Path, Scale)) or not isinstance(scales, Sequence) or not scales:
            raise InvalidParameterError(f"The 'scales' parameter of {func} must be a non-empty list of scales. Got {scales!r} instead.")
        if isinstance(flags, pd.DataFrame):
            raise InvalidParameterError(
                f"The 'flags' parameter of {func} must be None, a list of columns or a mapping flag → column "
                "(a separate flags DataFrame cannot be split into partitions). Got DataFrame instead.")
        loaded = [load_scale(s) for s in scales]
        rs = load_rules(rules) if mode == "screen" else None
        self.mode = mode
        self.names = names
        self.key = key
        keep_cols = ([key] if key is not None else []) + [c for c in keep if c != key]
        absent = [c for c in keep_cols if c not in input_meta.columns]
        if absent:
            raise ResponseError([Issue("missing_column", "key or kept column not found", column=c) for c in absent],
                                title="cannot build the screening plan")
        self._keep = keep_cols
        self._scale_refs = [_ref(s) for s in loaded]
        self._rules_ref = _ref(rs) if rs is not None else None
        self._options: dict[str, Any] = (
            {"flags": flags, "groups": groups, "lang": lang, "response_format": response_format,
             "on_invalid": on_invalid, "bands": bands}
            if mode == "screen" else
            {"response_format": response_format, "on_invalid": on_invalid, "bands": bands, "norms": norms,
             "keep_items": keep_items}
        )
        # only names and dtypes of the input: text columns normalised to pandas' default string dtype
        # (a categorical input column, whose categories an engine may not know, travels as text too)
        self._input_dtypes = {str(c): (TEXT if _text_like(t) or isinstance(t, pd.CategoricalDtype) else t)
                              for c, t in input_meta.dtypes.items()}
        self._template_cache: Any = None
        # build the template now, on the driver: a bad argument or a missing column fails here, once,
        # and warnings (flags not supplied …) are given once rather than once per partition
        self._template()

    # ------------------------------------------------------------------ pickling: specs and options only
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_template_cache"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        ids = ", ".join(str(r[1]["id"]) if r[0] == "spec" else r[1].id for r in self._scale_refs)
        rules = "" if self._rules_ref is None else f"; rules {self._rules()[0].id}"
        return f"<ScreeningPlan {self.mode}: scales {ids}{rules}; {len(self.columns)} output columns; names {self.names}>"

    # ------------------------------------------------------------------ compiled pieces (lazily, per process)
    def _scales(self) -> list[Scale]:
        return [_deref(r, "scale") for r in self._scale_refs]

    def _rules(self) -> list[RuleSet]:
        return [] if self._rules_ref is None else [_deref(self._rules_ref, "rules")]

    def _run(self, frame: pd.DataFrame) -> tuple[dict[str, pd.DataFrame], ScreeningResult | None]:
        """The library's own function on one pandas frame; returns the output segments."""
        from ..scoring import score
        from ..screener import screen

        opts = self._options
        keep = frame[self._keep] if self._keep else pd.DataFrame(index=frame.index)
        if self.mode == "score":
            scored = score(frame, self._scales(), response_format=opts["response_format"], on_invalid=opts["on_invalid"],
                           bands=opts["bands"], norms=opts["norms"], keep_items=opts["keep_items"])
            return {"keep": keep, "groups": pd.DataFrame(index=frame.index), "flags": pd.DataFrame(index=frame.index),
                    "scores": scored, "table": pd.DataFrame(index=frame.index)}, None
        res = screen(frame, self._scales(), self._rules()[0], **opts)
        groups = res.groups[[c for c in res.groups.columns if c not in self._keep]]
        return {"keep": keep, "groups": groups, "flags": res.flags, "scores": res.scores, "table": res.table}, res

    def _template(self) -> tuple[dict[str, pd.DataFrame], ScreeningResult | None]:
        if self._template_cache is None:
            empty = _empty_like(self._input_dtypes)
            segs, res = self._run(empty)
            seen: dict[str, str] = {}
            for seg in _SEGMENTS:
                for c in segs[seg].columns:
                    if str(c) in seen:
                        raise InvalidParameterError(
                            f"The output of the plan would have column {c!r} twice ({seen[str(c)]} and {seg}); "
                            "rename the input column or leave it out of keep/groups.")
                    seen[str(c)] = seg
            if self.names == "spark":
                safe = [spark_name(c) for c in seen]
                if len(set(safe)) != len(safe):
                    raise InvalidParameterError("The 'names' parameter 'spark' would give two columns the same Spark-safe name.")
            self._template_cache = (segs, res)
        return self._template_cache  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ declared output
    @property
    def columns(self) -> list[str]:
        """Output columns (library names), in order: key and kept columns, groups, flags, scores, tier table."""
        segs, _ = self._template()
        return [str(c) for seg in _SEGMENTS for c in segs[seg].columns]

    def segments(self) -> dict[str, list[str]]:
        """Output columns by part of the result (``keep``, ``groups``, ``flags``, ``scores``, ``table``)."""
        segs, _ = self._template()
        return {seg: [str(c) for c in segs[seg].columns] for seg in _SEGMENTS}

    def spark_names(self) -> dict[str, str]:
        """Library name → Spark-safe name, for every output column (the documented mapping)."""
        return {c: spark_name(c) for c in self.columns}

    def dtypes(self) -> dict[str, Any]:
        """Exact single-machine dtypes of every output column (what :meth:`restore` gives back)."""
        segs, _ = self._template()
        return {str(c): t for seg in _SEGMENTS for c, t in segs[seg].dtypes.items()}

    def meta(self) -> pd.DataFrame:
        """The zero-row frame a partition returns (Dask ``meta``): library names, transport dtypes."""
        segs, _ = self._template()
        return self._transport(pd.concat([segs[s] for s in _SEGMENTS], axis=1))

    def arrow_schema(self, *, names: Literal["pandas", "spark"] | None = None) -> pa.Schema:
        """The output as a pyarrow schema (fixed categoricals as dictionaries of strings)."""
        import pyarrow as pa

        schema = pa.Schema.from_pandas(self.meta(), preserve_index=False)
        if (names or self.names) == "spark":
            schema = pa.schema([f.with_name(spark_name(f.name)) for f in schema])
        return schema.remove_metadata()

    def _spark_fields(self) -> list[tuple[str, str]]:
        out = []
        for c, t in self.meta().dtypes.items():
            out.append((spark_name(str(c)) if self.names == "spark" else str(c), _spark_type(t)))
        return out

    def spark_ddl(self) -> str:
        """The output as a Spark DDL string (names back-quoted, so dotted names are declared correctly)."""
        return ", ".join(f"`{n}` {t}" for n, t in self._spark_fields())

    def spark_schema(self) -> Any:
        """The output as a Spark ``StructType`` (imports pyspark)."""
        from pyspark.sql import types as T

        kinds = {"double": T.DoubleType(), "float": T.FloatType(), "bigint": T.LongType(), "int": T.IntegerType(),
                 "smallint": T.ShortType(), "tinyint": T.ByteType(), "boolean": T.BooleanType(), "string": T.StringType()}
        return T.StructType([T.StructField(n, kinds[t], True) for n, t in self._spark_fields()])

    # ------------------------------------------------------------------ running on a partition
    def __call__(self, partition: pd.DataFrame) -> pd.DataFrame:
        """Screen (or score) one pandas partition; rows, order and index kept; declared columns and dtypes."""
        segs, _ = self._run_partition(partition)
        return self._transport(pd.concat([segs[s] for s in _SEGMENTS], axis=1))

    def _run_partition(self, partition: pd.DataFrame) -> tuple[dict[str, pd.DataFrame], ScreeningResult | None]:
        """:meth:`_run` on one partition, quietly, with errors naming the caller's row key."""
        frame = self._input(partition)
        try:
            with warnings.catch_warnings():
                # the driver gave these once when the plan was built; per partition they would repeat
                warnings.simplefilter("ignore", UserWarning)
                return self._run(frame)
        except ScreeningError as exc:
            raise self._keyed_error(exc, frame) from None

    def _input(self, partition: pd.DataFrame) -> pd.DataFrame:
        if not isinstance(partition, pd.DataFrame):
            raise InvalidParameterError(
                f"The partition given to ScreeningPlan must be a pandas DataFrame. Got {type(partition).__name__} instead.")
        return partition

    def _keyed_error(self, exc: ScreeningError, frame: pd.DataFrame) -> ScreeningError:
        """The same issues, with rows named by the caller's row key (positions are partition-relative on an engine)."""
        issues = []
        for issue in exc.issues:
            if not issue.rows:
                issues.append(issue)
                continue
            if self.key is not None:
                ids = [str(v) for v in frame[self.key].iloc[list(issue.rows)].tolist()]
                where = f"rows with {self.key} {ids}" + (f" (first {len(ids)} of {issue.count})" if issue.count > len(ids) else "")
            else:
                where = "rows at partition-relative positions (pass key= to name them by a row key)"
            issues.append(Issue(issue.code, f"{issue.message}; {where}", issue.path, issue.file, issue.column, (),
                                issue.count, issue.hint))
        return type(exc)(issues, title=f"{exc.title} (in one partition)")

    def _transport(self, out: pd.DataFrame) -> pd.DataFrame:
        """Same dtype in every partition: data-dependent text as strings, fixed categories from the specs."""
        segs, _ = self._template()
        cols: dict[str, Any] = {}
        fixed = {str(c): t for seg in _SEGMENTS for c, t in segs[seg].dtypes.items()}
        passed = {str(c) for seg in ("keep", "groups") for c in segs[seg].columns}
        for c in out.columns:
            name = str(c)
            s = out[c]
            want = fixed[name]
            if name in DATA_TEXT_COLUMNS and self.mode == "screen":
                s = s.astype(TEXT)
            elif name in passed and _is_int(want) and s.dtype != want:
                # an integer column with missing values arrives as float (Spark, pandas): keep it integer, nullable
                s = _nullable_int(s, want, name)
            elif isinstance(want, pd.CategoricalDtype):
                if s.dtype != want or list(s.cat.categories) != list(want.categories):
                    s = _recode(s, want, name)
            elif _text_like(want) and s.dtype != want:
                s = s.astype(TEXT)
            cols[name] = s
        return pd.DataFrame(cols, index=out.index, copy=False)

    def iter_pandas(self, batches: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        """For Spark ``mapInPandas``: screen each batch; Spark-safe names if the plan says so."""
        for batch in batches:
            out = self(batch)
            yield out.rename(columns=spark_name) if self.names == "spark" else out

    def iter_arrow(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """For Spark ``mapInArrow`` (and any Arrow-batch engine): Arrow record batches in and out."""
        import pyarrow as pa

        schema = pa.schema([pa.field(n, _arrow_type(t)) for n, t in self._spark_fields()])
        for batch in batches:
            out = self(batch.to_pandas())
            out = out.rename(columns=spark_name) if self.names == "spark" else out
            out = out.astype({c: TEXT for c, t in out.dtypes.items() if isinstance(t, pd.CategoricalDtype)})
            yield pa.RecordBatch.from_pandas(out, schema=schema, preserve_index=False)

    # ------------------------------------------------------------------ back to exact single-machine dtypes
    def restore(self, frame: pd.DataFrame, *, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The exact dtypes a single-machine run gives, after any engine round trip.

        Accepts library or Spark-safe names; puts back ordered categoricals (tier, bands) with the
        spec's categories, categoricals of the reasons and fired rules, nullable booleans, integer
        widths and pandas' default string dtype. A value outside a fixed set of categories, or a missing
        value where the library never gives one, is an error (never silently dropped).
        """
        want = self.dtypes()
        safe_to_lib = {spark_name(c): c for c in want}
        frame = frame.rename(columns={c: safe_to_lib[c] for c in frame.columns if c not in want and c in safe_to_lib})
        names = list(want) if columns is None else list(columns)
        absent = [c for c in names if c not in frame.columns]
        if absent:
            raise ResponseError([Issue("missing_column", "an output column of the plan is missing", column=c) for c in absent],
                                title="cannot restore the screening output")
        passed = set(self.segments()["keep"]) | set(self.segments()["groups"])
        cols = {c: _nullable_int(frame[c], want[c], c) if c in passed and _is_int(want[c]) and frame[c].isna().any()
                else _restore_column(frame[c], want[c], c, self.mode == "screen" and c in DATA_TEXT_COLUMNS) for c in names}
        return pd.DataFrame(cols, index=frame.index, copy=False)

    def to_result(self, frame: pd.DataFrame) -> ScreeningResult:
        """A :class:`~screening.ScreeningResult` from (a collected part of) the output, with exact dtypes."""
        if self.mode != "screen":
            raise InvalidParameterError("to_result needs a plan built with mode='screen'.")
        restored = self.restore(frame)
        segs = self.segments()
        res = self.layout()
        group_cols = [str(c) for c in res.groups.columns]
        return ScreeningResult(table=restored[segs["table"]], scores=restored[segs["scores"]],
                               flags=restored[segs["flags"]], groups=restored[group_cols],
                               rules=res.rules, scales=res.scales, provenance=res.provenance)

    # ------------------------------------------------------------------ summaries: counts → reduction → driver
    def layout(self) -> ScreeningResult:
        """The zero-row result of this screening (rule set, scales, groups, provenance) used to finish summaries."""
        _, res = self._template()
        if res is None:
            raise InvalidParameterError("Summaries need a plan built with mode='screen'.")
        return res

    def _by(self, by: Sequence[str] | str | None) -> list[str]:
        from ..reports.summary import resolve_by

        return resolve_by(self.layout(), by, "summary")

    def measures(self) -> list[str]:
        """The count measures, in order (``m0``, ``m1`` … of :meth:`count` are these)."""
        from ..reports.summary import count_blocks

        return [m for b in count_blocks(self.layout()) for m in b.columns]

    def count(self, partition: pd.DataFrame, by: Sequence[str] | str | None = None, *, screened: bool = False) -> pd.DataFrame:
        """Phase 1 on one partition: integer counts per finest group (see :meth:`count_meta` for the columns).

        ``partition`` is an input partition (screened here: fused, nothing else travels), or with
        ``screened=True`` a partition of this plan's output. Key ``k{i}`` holds the ``i``-th ``by``
        column with a missing value filled, and ``u{i}`` is 1 where it was missing: an explicit unknown
        level, so no engine can drop those students (Dask's groupby drops NA keys by default).
        """
        from ..reports.summary import group_counts

        cols = self._by(by)
        res: ScreeningResult | None
        if screened:
            res = self.to_result(partition)
        else:
            _, res = self._run_partition(partition)
        if res is None:
            raise InvalidParameterError("Summaries need a plan built with mode='screen'.")
        counts = group_counts(res, cols)
        return self._encode_counts(counts, cols)

    def _encode_counts(self, counts: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
        out: dict[str, Any] = {}
        want = self.dtypes()
        for i, c in enumerate(cols):
            s = counts[c]
            unknown = s.isna().to_numpy()
            out[f"k{i}"] = s.fillna(_fill_value(want[c])) if unknown.any() else s
            if _text_like(want[c]) or _is_object(want[c]):
                out[f"k{i}"] = out[f"k{i}"].astype(TEXT)
            elif _is_int(want[c]):
                out[f"k{i}"] = out[f"k{i}"].astype(want[c])
            out[f"u{i}"] = unknown.astype(np.int8)
        out["n"] = counts["n"].to_numpy(dtype=np.int64)
        for j, m in enumerate(self.measures()):
            out[f"m{j}"] = counts[m].to_numpy(dtype=np.int64)
        return pd.DataFrame(out)

    def count_meta(self, by: Sequence[str] | str | None = None) -> pd.DataFrame:
        """The zero-row frame :meth:`count` returns: ``k0, u0, k1, u1 …, n, m0, m1 …`` (int64 counts)."""
        from ..reports.summary import group_counts

        cols = self._by(by)
        return self._encode_counts(group_counts(self.layout(), cols), cols)

    def count_keys(self, by: Sequence[str] | str | None = None) -> list[str]:
        """The columns to group the counts by in the engine reduction (``k{i}`` and ``u{i}``)."""
        n = len(self._by(by))
        return [x for i in range(n) for x in (f"k{i}", f"u{i}")]

    def count_ddl(self, by: Sequence[str] | str | None = None) -> str:
        """:meth:`count_meta` as a Spark DDL string."""
        return ", ".join(f"`{c}` {_spark_type(t)}" for c, t in self.count_meta(by).dtypes.items())

    def iter_counts(self, by: Sequence[str] | str | None = None) -> Any:
        """A function for Spark ``mapInPandas``: input batches → counts (one small frame per batch)."""
        cols = self._by(by)

        def counts(batches: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            for batch in batches:
                yield self.count(batch, cols)

        return counts

    def finish(self, counts: pd.DataFrame, by: Sequence[str] | str | None = None, **options: Any) -> pd.DataFrame:
        """Phase 3 on the driver: the summary from the reduced counts, exactly :meth:`ScreeningResult.summary`.

        ``counts`` holds the columns of :meth:`count_meta`, summed over partitions by the engine (rows
        with the same keys may still repeat: they are added here). Intervals, exact tests, Holm/BH and
        small-cell suppression are global and run here, once.
        """
        from ..reports.summary import summarise_counts

        cols = self._by(by)
        keys = self.count_keys(cols)
        measures = self.measures()
        value_cols = ["n"] + [f"m{j}" for j in range(len(measures))]
        if len(counts):
            counts = counts.groupby(keys, sort=False, dropna=False)[value_cols].sum().reset_index() if keys else \
                counts[value_cols].sum().to_frame().T
        want = self.dtypes()
        table: dict[str, Any] = {}
        for i, c in enumerate(cols):
            unknown = counts[f"u{i}"].to_numpy(dtype=np.int64) == 1
            s = _restore_column(counts[f"k{i}"], want[c], c, False, allow_na=True).reset_index(drop=True)
            if unknown.any():
                s = s.where(~unknown)
            table[c] = s
        table["n"] = counts["n"].to_numpy(dtype=np.int64)
        for j, m in enumerate(measures):
            table[m] = counts[f"m{j}"].to_numpy(dtype=np.int64)
        return summarise_counts(self.layout(), pd.DataFrame(table), cols, **options)

    # ------------------------------------------------------------------ streaming a distributed result
    def iter_partitions(self, result: Any, *, with_keys: bool = False, batch_rows: int = 100_000) -> Iterator[Any]:
        """Yield the output of a Dask or Spark run one partition at a time, as restored :class:`ScreeningResult` s.

        Dask: each partition is computed on its own (``to_delayed``); Spark: rows arrive through
        ``toLocalIterator`` and are cut into frames of ``batch_rows``. The whole table is never held on
        the driver. Empty partitions are skipped. With ``with_keys=True`` each item is
        ``(result, keys)`` where ``keys`` is the plan's row key column of those rows.
        """
        from .engines import engine_of

        frame: Any = result if engine_of(result) is not None else getattr(result, "frame", None)  # a DistributedScreening
        engine = engine_of(frame)
        if engine == "dask":
            parts: Iterator[pd.DataFrame] = (d.compute() for d in frame.to_delayed())
        elif engine == "spark":
            parts = _spark_batches(frame, batch_rows)
        else:
            raise InvalidParameterError(
                f"The 'result' parameter of iter_partitions must be a Dask or Spark result. Got {type(frame).__name__} instead.")
        for part in parts:
            if not len(part):
                continue
            res = self.to_result(part) if self.mode == "screen" else self.restore(part)
            if with_keys:
                if self.key is None:
                    raise InvalidParameterError("iter_partitions(with_keys=True) needs a plan built with key=.")
                keys = part[self.key] if self.key in part.columns else part[spark_name(self.key)]
                yield res, keys.astype(self.dtypes()[self.key])
            else:
                yield res


def _spark_batches(sdf: Any, batch_rows: int) -> Iterator[pd.DataFrame]:
    names = sdf.columns
    rows: list[Any] = []
    for row in sdf.toLocalIterator():
        rows.append(tuple(row))
        if len(rows) >= batch_rows:
            yield pd.DataFrame.from_records(rows, columns=names)
            rows = []
    if rows:
        yield pd.DataFrame.from_records(rows, columns=names)


def _is_int(dtype: Any) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind in "iu"


def _nullable_int(s: pd.Series, want: np.dtype, name: str) -> pd.Series:
    """An integer pass-through column that arrived as float or object because of missing values."""
    target = pd.api.types.pandas_dtype(f"{'U' if want.kind == 'u' else ''}Int{want.itemsize * 8}")
    try:
        out = s.astype(target)
        return out.astype(want) if not out.isna().any() else out
    except (TypeError, ValueError):
        raise ResponseError([Issue("not_integer", "an integer column holds values that are not whole numbers", column=name)],
                            title="cannot pass the column through") from None


def _is_object(dtype: Any) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind == "O"


def _fill_value(dtype: Any) -> Any:
    if pd.api.types.is_bool_dtype(dtype):
        return False
    if pd.api.types.is_numeric_dtype(dtype):
        return 0
    return ""


def _recode(s: pd.Series, want: pd.CategoricalDtype, name: str) -> pd.Series:
    """``s`` (strings, or a categorical with other categories) as a categorical with the declared categories."""
    if isinstance(s.dtype, pd.CategoricalDtype):  # map the few categories, not the many rows
        old = np.asarray(s.array.codes)
        lookup = want.categories.get_indexer_for(s.cat.categories)
        codes = np.where(old >= 0, lookup[old] if len(lookup) else -1, -1)
        lost = (old >= 0) & (codes < 0)
    else:
        codes = want.categories.get_indexer_for(pd.Index(s))
        lost = (codes < 0) & s.notna().to_numpy()
    if lost.any():
        raise ResponseError([Issue("unexpected_category", "values outside the categories declared by the specs",
                                   column=name, count=int(lost.sum()))], title="cannot restore the screening output")
    return pd.Series(pd.Categorical.from_codes(codes, dtype=want), index=s.index, name=s.name)


def _restore_column(s: pd.Series, want: Any, name: str, data_text: bool, *, allow_na: bool = False) -> pd.Series:
    if data_text:  # categories as a single-machine run has them: the texts that occur, and "" (nothing fired)
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(TEXT)
        cats = pd.Index(sorted({str(v) for v in pd.unique(s.dropna())} | {""}))
        codes = cats.get_indexer_for(pd.Index(s.astype(object)))
        return pd.Series(pd.Categorical.from_codes(codes, categories=cats), index=s.index, name=s.name)
    if isinstance(want, pd.CategoricalDtype):
        return _recode(s, want, name)
    if s.dtype == want:
        return s
    if _text_like(want) or _is_object(want):
        return s.astype(want)
    if not allow_na and not (isinstance(want, pd.api.extensions.ExtensionDtype) or np.dtype(want).kind == "f") and s.isna().any():
        raise ResponseError([Issue("unexpected_missing", "missing values where the library never gives one", column=name,
                                   count=int(s.isna().sum()))], title="cannot restore the screening output")
    if isinstance(want, pd.BooleanDtype) and s.dtype == object:
        return s.astype("boolean")
    return s.astype(want)


def _spark_type(dtype: Any) -> str:
    if isinstance(dtype, (pd.CategoricalDtype, pd.StringDtype)) or _is_object(dtype):
        return "string"
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    kind = np.dtype(getattr(dtype, "numpy_dtype", dtype))
    return {"f8": "double", "f4": "float", "i8": "bigint", "i4": "int", "i2": "smallint", "i1": "tinyint",
            "u1": "smallint", "u2": "int", "u4": "bigint"}.get(f"{kind.kind}{kind.itemsize}", "string")


def _arrow_type(spark: str) -> Any:
    import pyarrow as pa

    return {"double": pa.float64(), "float": pa.float32(), "bigint": pa.int64(), "int": pa.int32(), "smallint": pa.int16(),
            "tinyint": pa.int8(), "boolean": pa.bool_(), "string": pa.string()}[spark]
