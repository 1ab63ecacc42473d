"""Declared parameter validation: one message shape, a library error, and never a value that could be data.

The fake ids below are recognisable strings; a careless call that passes a column
of ids where another argument belongs must not carry any of them into the
exception text, its repr, or any exception chained to it.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import screening as sc
from screening._params import Check, Interval, ListOf, Options, check, describe, validate_params
from screening.errors import InvalidParameterError, ScreeningError

FAKE_IDS = [f"FAKEID{k:04d}ZZ" for k in range(5)]
SHAPE = re.compile(r"^The '\w+' parameter of \w+ must be .+\. Got .+ instead\.$", re.S)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    df = pd.DataFrame({f"phq9_{k}": [1, 2, 0, 3, 1] for k in range(1, 10)})
    df.insert(0, "student_id", FAKE_IDS)
    return df


@pytest.fixture(scope="module")
def result(frame: pd.DataFrame) -> sc.ScreeningResult:
    with pytest.warns(UserWarning, match="not supplied"):
        return sc.screen(frame, scales=["phq9"], groups=[])


def _texts(exc: BaseException) -> str:
    """str and repr of the exception and of every exception chained to it."""
    out = []
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        out += [str(e), repr(e), *map(str, e.args)]
        e = e.__cause__ or e.__context__
    return "\n".join(out)


def _calls(frame: pd.DataFrame, result: sc.ScreeningResult, tmp_path: Path) -> list:
    ids = frame["student_id"]
    return [
        lambda: sc.screen(frame, scales=ids),
        lambda: sc.screen(frame, scales=list(ids)),
        lambda: sc.screen(frame, scales=["phq9"], rules=ids),
        lambda: sc.screen(frame, scales=["phq9"], groups=ids),
        lambda: sc.screen(frame, scales=["phq9"], lang=ids.iloc[0]),
        lambda: sc.screen(ids, scales=["phq9"]),
        lambda: sc.score(frame, ids),
        lambda: sc.score(frame, ids.iloc[0]),
        lambda: sc.score(frame, "phq9", columns=dict.fromkeys(ids, "phq9_1")),
        lambda: sc.score(frame, "phq9", bands=ids.iloc[0]),
        lambda: sc.score(frame, "phq9", norms=ids.iloc[0]),
        lambda: sc.score(frame, "phq9", response_format=ids.iloc[0]),
        lambda: sc.score(frame, "phq9", chunk_size=ids),
        lambda: sc.load_scale(ids),
        lambda: sc.load_scale(ids.iloc[0]),
        lambda: sc.load_rules(ids.iloc[0]),
        lambda: sc.load_rules(ids),
        lambda: sc.read_responses(ids),
        lambda: sc.read_responses(tmp_path / "x.csv", scales=ids),
        lambda: sc.read_responses(tmp_path / "x.csv", source=ids.iloc[0]),
        lambda: sc.read_responses(tmp_path / "x.csv", meta={ids.iloc[0]: "a"}),
        lambda: result.summary(by=ids),
        lambda: result.summary(by=list(ids)),
        lambda: result.summary(concern=list(ids)),
        lambda: result.summary(min_cell=ids),
    ]


def test_ids_passed_as_parameters_never_reach_the_exception(frame, result, tmp_path) -> None:
    calls = _calls(frame, result, tmp_path)
    for k, call in enumerate(calls):
        with pytest.raises(ScreeningError) as info:
            call()
        text = _texts(info.value)
        for fake in FAKE_IDS:
            assert fake not in text, (k, text)
            assert fake not in pickle.dumps(info.value).decode("latin-1"), k


@pytest.mark.parametrize(("func", "kwargs", "name"), [
    (sc.score, {"scale": "phq9", "on_invalid": "skip"}, "on_invalid"),
    (sc.score, {"scale": "phq9", "n_jobs": 0}, "n_jobs"),
    (sc.score, {"scale": "phq9", "chunk_size": True}, "chunk_size"),
    (sc.score, {"scale": "phq9", "keep_items": "yes"}, "keep_items"),
    (sc.score, {"scale": {"phq9"}}, "scale"),
    (sc.screen, {"scales": "phq9"}, "scales"),
    (sc.screen, {"scales": []}, "scales"),
    (sc.screen, {"scales": ["phq9"], "lang": "fr"}, "lang"),
    (sc.screen, {"scales": ["phq9"], "flags": 3}, "flags"),
])
def test_one_message_shape(frame, func, kwargs, name) -> None:
    with pytest.raises(InvalidParameterError) as info:
        func(frame, **kwargs)
    msg = str(info.value)
    assert SHAPE.match(msg), msg
    assert msg.startswith(f"The '{name}' parameter of {func.__name__} must be ")
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)
    assert info.value.codes == ["invalid_parameter"]


def test_summary_and_read_responses_shapes(frame, result, tmp_path) -> None:
    for call, name, func in [
        (lambda: result.summary(min_cell=0), "min_cell", "summarise"),
        (lambda: result.summary(confidence=1.0), "confidence", "summarise"),
        (lambda: result.summary(include=["tiers", "nope"]), "include", "summarise"),
        (lambda: sc.read_responses(tmp_path / "a.csv", header_row=-1), "header_row", "read_responses"),
        (lambda: sc.read_responses(3), "path", "read_responses"),
    ]:
        with pytest.raises(InvalidParameterError, match=f"^The '{name}' parameter of {func} must be ") as info:
            call()
        assert SHAPE.match(str(info.value))


def test_describe_gives_type_and_size_only() -> None:
    assert describe(None) == "None"
    assert describe(3) == "an int"
    assert describe("secret") == "a str of length 6"
    assert describe(pd.Series(["secret"] * 4)) == "a Series of length 4"
    assert describe(pd.DataFrame({"a": [1, 2]})) == "a DataFrame of shape (2, 1)"
    assert describe(np.zeros((2, 3))) == "a ndarray of shape (2, 3)"

    class Odd:
        def __len__(self) -> int:
            raise RuntimeError("no")

    assert describe(Odd()) == "an Odd"


def test_constraints() -> None:
    assert Interval(int, 1, None).accepts(3) and not Interval(int, 1, None).accepts(True)
    assert not Interval(int, 1, None).accepts(1.5) and Interval(float, 0, 1, "neither").accepts(0.5)
    assert not Interval(float, 0, 1, "neither").accepts(float("nan"))
    assert not Interval(float, 0, 1, "neither").accepts(1)
    assert Options("a", None).accepts(None) and not Options("a").accepts(pd.Series(["a"]))
    assert ListOf(str, "names", min_len=1).accepts(("a",)) and not ListOf(str, "names").accepts("ab")
    assert not ListOf(str, "names").accepts(pd.Series(["a"]))
    assert Check(lambda v: v > 0, "positive").accepts(2) and not Check(lambda v: v > 0, "positive").accepts("x")
    with pytest.raises(InvalidParameterError, match=r"must be an int in the range \[1, inf\) or None\. Got a str"):
        check("f", "x", "s", Interval(int, 1, None), None)


def test_validate_params_rejects_a_declaration_for_an_unknown_parameter() -> None:
    with pytest.raises(RuntimeError, match="no parameters"):
        @validate_params({"nope": [int]})
        def f(x: int) -> int:
            return x


def test_invalid_parameter_error_pickles_and_is_a_library_error() -> None:
    exc = InvalidParameterError("The 'x' parameter of f must be an int. Got a str of length 1 instead.")
    back = pickle.loads(pickle.dumps(exc))
    assert str(back) == str(exc) and isinstance(back, ScreeningError)
