"""Dask and Spark adapters: the same plan, run by the engine the data already live on.

Neither engine is imported unless the input is one of its DataFrames (detected by module name).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._params import InvalidParameterError
from .plan import TEXT, ScreeningPlan, spark_name

__all__ = ["engine_of", "DistributedScreening", "screen_distributed", "score_distributed", "input_meta"]

Engine = Literal["dask", "spark"]


def engine_of(frame: Any) -> Engine | None:
    """``"dask"`` or ``"spark"`` for a Dask or Spark DataFrame, else None (no engine is imported to tell)."""
    module = type(frame).__module__ or ""
    root = module.split(".", 1)[0]
    if root in ("dask", "dask_expr") and hasattr(frame, "map_partitions"):
        return "dask"
    if root == "pyspark" and hasattr(frame, "mapInPandas"):
        return "spark"
    return None


@contextmanager
def _quiet_spark() -> Any:
    # PySpark 4 warns on every pandas conversion that it does not yet fully support pandas 3; the
    # conversions used here (flat numeric, boolean and string columns) are checked by the library's tests;
    # its toPandas still passes pandas 3's deprecated copy= keyword
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
        warnings.filterwarnings("ignore", message="The copy keyword is deprecated", category=DeprecationWarning)
        yield


_SPARK_TO_PANDAS = {"string": TEXT, "bigint": np.dtype("int64"), "int": np.dtype("int32"), "smallint": np.dtype("int16"),
                    "tinyint": np.dtype("int8"), "double": np.dtype("float64"), "float": np.dtype("float32"),
                    "boolean": pd.BooleanDtype()}


def input_meta(frame: Any) -> pd.DataFrame:
    """A zero-row pandas frame with the input's column names and (pandas) dtypes."""
    engine = engine_of(frame)
    if engine == "dask":
        dtypes = dict(frame.dtypes.items())
    elif engine == "spark":
        dtypes = {f.name: _SPARK_TO_PANDAS.get(f.dataType.simpleString(), np.dtype(object)) for f in frame.schema.fields}
    else:
        raise InvalidParameterError(f"Expected a Dask or Spark DataFrame. Got {type(frame).__name__} instead.")
    return pd.DataFrame({str(c): pd.Series([], dtype=t) for c, t in dtypes.items()})


def _run(plan: ScreeningPlan, frame: Any, engine: Engine, *, arrow: bool = False) -> Any:
    if engine == "dask":
        return frame.map_partitions(plan, meta=plan.meta())
    if arrow:
        return frame.mapInArrow(plan.iter_arrow, plan.spark_schema())
    return frame.mapInPandas(plan.iter_pandas, plan.spark_schema())


class DistributedScreening:
    """A lazy screening on Dask or Spark: what :func:`screening.screen` returns for an engine DataFrame.

    Attributes
    ----------
    frame
        The engine DataFrame of the output (Dask or Spark, lazy): key and kept columns, groups, flags,
        scores and the tier table, with the plan's transport dtypes (see :class:`ScreeningPlan`).
    plan : ScreeningPlan
        The compiled plan; ``plan.restore(pdf)`` gives exact single-machine dtypes.
    engine : {"dask", "spark"}
    """

    def __init__(self, plan: ScreeningPlan, source: Any, frame: Any, engine: Engine) -> None:
        self.plan = plan
        self.source = source
        self.frame = frame
        self.engine = engine

    def __repr__(self) -> str:
        return f"<DistributedScreening on {self.engine}: {len(self.plan.columns)} columns, lazy; {self.plan!r}>"

    def _select(self, segment: str) -> Any:
        cols = self.plan.segments()[segment]
        if self.engine == "dask":
            return self.frame[cols]
        names = [spark_name(c) if self.plan.names == "spark" else c for c in cols]
        return self.frame.select([f"`{c}`" for c in names])

    @property
    def table(self) -> Any:
        """The tier table (lazy engine frame)."""
        return self._select("table")

    @property
    def scores(self) -> Any:
        """The scores (lazy engine frame)."""
        return self._select("scores")

    @property
    def flags(self) -> Any:
        """The risk-group flags used (lazy engine frame)."""
        return self._select("flags")

    @property
    def groups(self) -> Any:
        """The group columns kept for summaries (lazy engine frame)."""
        return self._select("groups")

    def counts(self, by: Sequence[str] | str | None = None) -> pd.DataFrame:
        """Phases 1 and 2: integer counts per partition (fused with the screening), summed by the engine."""
        plan = self.plan
        keys = plan.count_keys(by)
        value_cols = [c for c in plan.count_meta(by).columns if c not in keys]
        if self.engine == "dask":
            parts = self.source.map_partitions(plan.count, by, meta=plan.count_meta(by))
            if keys:
                # NA keys cannot occur (k/u encoding), dropna=False says so twice
                reduced = parts.groupby(keys, dropna=False, sort=False)[value_cols].sum(split_out=1)
                out: pd.DataFrame = reduced.compute().reset_index()
                return out
            total: pd.DataFrame = parts[value_cols].sum().compute().to_frame().T
            return total
        from pyspark.sql import functions as F

        counted = self.source.mapInPandas(plan.iter_counts(by), plan.count_ddl(by))
        grouped = counted.groupBy(*keys) if keys else counted.groupBy()
        with _quiet_spark():
            reduced_spark: pd.DataFrame = grouped.agg(*[F.sum(c).alias(c) for c in value_cols]).toPandas()
        return reduced_spark

    def summary(self, by: Sequence[str] | str | None = None, **options: Any) -> pd.DataFrame:
        """As :meth:`ScreeningResult.summary`, in three steps: counts per partition → engine sum → driver.

        Suppression, intervals, exact tests and Holm/BH are global: they run once, on the driver.
        """
        counts = self.counts(by)
        return self.plan.finish(counts, by, **options)

    def to_pandas(self) -> Any:
        """Collect the whole result on the driver as a :class:`~screening.ScreeningResult` (exact dtypes)."""
        if self.engine == "dask":
            pdf = self.frame.compute()
        else:
            with _quiet_spark():
                pdf = self.frame.toPandas()
        return self.plan.to_result(pdf)

    compute = to_pandas

    def iter_partitions(self, *, with_keys: bool = False, batch_rows: int = 100_000) -> Any:
        """Stream the result partition by partition (see :meth:`ScreeningPlan.iter_partitions`)."""
        return self.plan.iter_partitions(self.frame, with_keys=with_keys, batch_rows=batch_rows)


def screen_distributed(
    responses: Any,
    scales: Sequence[Any],
    rules: Any = "default",
    *,
    key: str | None = None,
    keep: Sequence[str] = (),
    names: Literal["pandas", "spark"] = "pandas",
    arrow: bool = False,
    flags: Sequence[str] | Mapping[str, str] | pd.DataFrame | None = None,  # a DataFrame is refused
    groups: Sequence[str] | None = None,
    quality: Any = None,
    lang: Literal["zh", "en"] = "zh",
    response_format: Literal["value", "index", "label"] = "value",
    on_invalid: Literal["raise", "missing"] = "raise",
    bands: Mapping[str, Any] | None = None,
    n_jobs: int = 1,
) -> DistributedScreening:
    """:func:`screening.screen` on a Dask or Spark DataFrame: a lazy :class:`DistributedScreening`.

    ``key`` names a row-key column (pseudonym or ingestion row number) kept in the output and used
    in errors; ``names="spark"`` gives Spark-safe column names; ``arrow=True`` runs Spark through
    ``mapInArrow`` instead of ``mapInPandas``.
    """
    engine = engine_of(responses)
    if engine is None:
        raise InvalidParameterError(
            f"The 'responses' parameter of screen_distributed must be a Dask or Spark DataFrame. Got {type(responses).__name__} instead.")
    if quality is not None:
        raise InvalidParameterError(
            "The 'quality' parameter of screen is not supported on an engine: add the quality flags as columns "
            "of the responses (quality.{check}) and screen per partition with a ScreeningPlan.")
    if n_jobs != 1:
        raise InvalidParameterError(f"The 'n_jobs' parameter of screen must be 1 on {engine} (the engine runs partitions in parallel).")
    plan = ScreeningPlan(scales, rules, input_meta=input_meta(responses), key=key, keep=keep, names=names, flags=flags,
                         groups=groups, lang=lang, response_format=response_format, on_invalid=on_invalid, bands=bands)
    return DistributedScreening(plan, responses, _run(plan, responses, engine, arrow=arrow), engine)


def score_distributed(
    responses: Any,
    scale: Any,
    *,
    key: str | None = None,
    keep: Sequence[str] = (),
    names: Literal["pandas", "spark"] = "pandas",
    response_format: Literal["value", "index", "label"] = "value",
    on_invalid: Literal["raise", "missing"] = "raise",
    bands: Any = None,
    norms: str | None = "default",
    keep_items: bool = False,
    **unsupported: Any,
) -> Any:
    """:func:`screening.score` on a Dask or Spark DataFrame: a lazy DataFrame of the same engine."""
    engine = engine_of(responses)
    if engine is None:
        raise InvalidParameterError(
            f"The 'responses' parameter of score_distributed must be a Dask or Spark DataFrame. Got {type(responses).__name__} instead.")
    bad = {k: v for k, v in unsupported.items() if v is not None and k not in ("chunk_size", "n_jobs")}
    if bad:
        raise InvalidParameterError(
            f"The parameters {sorted(bad)} of score are not supported on an engine; use a ScreeningPlan per partition.")
    scales = list(scale) if isinstance(scale, (list, tuple)) else [scale]
    plan = ScreeningPlan(scales, input_meta=input_meta(responses), mode="score", key=key, keep=keep, names=names,
                         response_format=response_format, on_invalid=on_invalid, bands=bands, norms=norms,
                         keep_items=keep_items)
    return _run(plan, responses, engine)
