"""Warnings point at the caller's line, not at the library's parameter-checking wrapper."""

from __future__ import annotations

import warnings

import pandas as pd

import screening as sc


def _one_student() -> pd.DataFrame:
    return pd.DataFrame({**{f"phq9_{k}": [1.0] for k in range(1, 10)}, **{f"gad7_{k}": [2.0] for k in range(1, 8)}})


def test_screen_warning_names_the_callers_file():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sc.screen(_one_student(), ["phq9", "gad7"], rules="default")  # no flags given: a warning
    flags = [w for w in caught if "risk-group flags not supplied" in str(w.message)]
    assert len(flags) == 1 and flags[0].filename == __file__, [(w.filename, str(w.message)[:40]) for w in caught]
