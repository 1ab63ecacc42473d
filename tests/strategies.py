"""Hypothesis strategies shared by every property test."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

import screening as sc


@st.composite
def response_frames(draw: st.DrawFn, scale: sc.Scale, *, min_rows: int = 1, max_rows: int = 40,
                    missing: float = 0.15) -> pd.DataFrame:
    """A frame of valid responses (option values, some unanswered) with a shuffled, non-default index."""
    n = draw(st.integers(min_rows, max_rows))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    cs = scale.compiled
    data = {}
    for k, col in enumerate(scale.input_columns()):
        opts = cs.allowed[k]
        vals = rng.choice(opts, size=n).astype(float)
        vals[rng.random(n) < missing] = np.nan
        data[col] = vals
    index = pd.Index(rng.permutation(np.arange(1000, 1000 + n)), name="row")
    return pd.DataFrame(data, index=index)
