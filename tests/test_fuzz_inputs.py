"""Fuzz suite: whatever a file or a caller hands the library, only library errors come back.

Targets (issue 12): conditions (token soup and random trees), scale and rule
documents (the shipped YAML with keys deleted, duplicated, renamed or retyped),
YAML text, response frames (random dtypes, objects, NaN/inf/complex/strings/huge
ints) and CSV bytes (random bytes, encodings, quotes, bare CR, NUL). Each target
asserts that nothing but a :class:`screening.ScreeningError` escapes — or, for
the condition compiler below the rule loader, its two documented errors, which
:func:`screening.load_rules` turns into ``RuleError`` issues. Any other
exception fails the test and hypothesis shrinks it to a small reproducer.

``FUZZ_EXAMPLES`` examples per target (2,000); each example takes milliseconds.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import screening as sc
from screening.errors import ScreeningError
from screening.loading import read_yaml
from screening.tiering.condition import ConditionError, Resolver, compile_condition
from screening.tiering.expr import ExprSyntaxError, parse
from tests.strategies import (
    condition_asts,
    condition_texts,
    csv_bytes,
    hostile_frames,
    mutated_documents,
)

ROOT = Path(__file__).resolve().parent.parent
FUZZ_EXAMPLES = 2000
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])

RULES = sc.load_rules("default")
RESOLVER = Resolver(RULES.scales, RULES.flags, hint_scales=sc.list_scales())


def _doc(path: Path) -> dict:
    data, issues = read_yaml(path)
    assert not issues
    return data


SCALE_DOCS = {sid: _doc(ROOT / "scales" / f"{sid}.yaml") for sid in ("phq9", "gad7", "k6", "who5")}
# the default rule set with its PHQ-9/GAD-7 and risk-group rules only: every block of the format, fewer conditions
RULE_DOC = _doc(ROOT / "tiering_rules" / "default.yaml")
RULE_DOC["rules"] = RULE_DOC["rules"][:4] + RULE_DOC["rules"][-2:]
PHQ9 = sc.load_scale("phq9")
K6 = sc.load_scale("k6")


def _outcome(call: Callable[[], Any], errors: tuple[type[Exception], ...] = (ScreeningError,)) -> tuple[Any, Any]:
    """(value, None), or (None, the error) for the documented errors; any other exception propagates."""
    try:
        return call(), None
    except errors as exc:
        return None, exc


def _compile(text: str) -> None:
    tree, err = _outcome(lambda: parse(text), (ExprSyntaxError,))
    if err is not None:
        assert 0 <= err.pos <= len(text)
        return
    assert tree is not None
    cond, err = _outcome(lambda: compile_condition(text, RESOLVER), (ExprSyntaxError, ConditionError))
    if err is None:
        cond.reachable()


@FUZZ
@given(condition_texts())
def test_fuzz_condition_tokens(text: str) -> None:
    _compile(text)


@FUZZ
@given(condition_asts())
def test_fuzz_condition_trees(text: str) -> None:
    _compile(text)


@FUZZ
@given(st.sampled_from(sorted(SCALE_DOCS)).flatmap(lambda sid: mutated_documents(SCALE_DOCS[sid])))
def test_fuzz_scale_documents(doc: dict) -> None:
    scale, err = _outcome(lambda: sc.load_scale(doc))
    if err is not None:
        assert err.issues and all(i.code for i in err.issues)
    else:
        assert scale.id == doc["id"]


@FUZZ
@given(mutated_documents(RULE_DOC))
def test_fuzz_rule_documents(doc: dict) -> None:
    rules, err = _outcome(lambda: sc.load_rules(doc))
    if err is not None:
        assert err.issues and all(i.code for i in err.issues)
    else:
        assert rules.tiers


@FUZZ
@given(st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(["a:", " ", "- ", "[", "]", "{", "}", "? ", ": ", "&x ", "*x", "!!python/object ", "\n",
                              "'", '"', "|", ">", "#", "%YAML 1.1\n", "---\n", "!!binary ", "<<: *x", ",", "1"]),
             max_size=40).map("".join),
))
def test_fuzz_yaml_text(text: str) -> None:
    data, issues = read_yaml("fuzz.yaml", text=text)
    assert (data is None) == bool(issues)
    assert all(i.file == "fuzz.yaml" for i in issues)


@FUZZ
@given(hostile_frames(PHQ9.input_columns()), st.sampled_from(("value", "index", "label")),
       st.sampled_from(("raise", "missing")))
def test_fuzz_response_frames(frame: pd.DataFrame, response_format: str, on_invalid: str) -> None:
    out, err = _outcome(lambda: sc.score(frame, PHQ9, response_format=response_format, on_invalid=on_invalid))
    if err is not None:
        assert err.issues
        return
    assert out.index.equals(frame.index)
    answered = out["phq9.n_missing"] < 9
    assert (out.loc[~answered, "phq9.total"].isna()).all()


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "answers.csv"


@FUZZ
@given(data=csv_bytes(["student_id", *K6.input_columns()]), scales=st.sampled_from(((), "k6")))
def test_fuzz_csv_bytes(csv_path: Path, data: bytes, scales: object) -> None:
    csv_path.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table, err = _outcome(lambda: sc.read_responses(csv_path, scales=scales))
    if err is not None:
        assert err.issues and all(i.file in ("", str(csv_path)) for i in err.issues)
    else:
        assert table.index.equals(pd.RangeIndex(len(table)))


def test_shipped_documents_load_unmutated() -> None:
    for sid, doc in SCALE_DOCS.items():
        assert sc.load_scale(copy.deepcopy(doc)).id == sid
    assert sc.load_rules(copy.deepcopy(RULE_DOC)).id == "default"
