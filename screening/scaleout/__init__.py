"""Scale-out: the same screening on Dask, Spark or Ray, with the same answers as one machine.

See docs/scale-out.md. Nothing here imports Dask or PySpark until it is given one of their DataFrames.
"""

from .engines import DistributedScreening, engine_of, input_meta, score_distributed, screen_distributed
from .plan import DATA_TEXT_COLUMNS, ScreeningPlan, spark_name

__all__ = [
    "ScreeningPlan",
    "DistributedScreening",
    "screen_distributed",
    "score_distributed",
    "engine_of",
    "input_meta",
    "spark_name",
    "DATA_TEXT_COLUMNS",
]
