"""The condition language: parsing, typing, three-valued logic. Never eval."""

from __future__ import annotations

import numpy as np
import pytest

import screening as sc
from screening.tiering.condition import Codes, ConditionError, Env, Numbers, Resolver, Truths, compile_condition
from screening.tiering.expr import And, Compare, ExprSyntaxError, InList, Not, Or, parse


@pytest.fixture(scope="module")
def resolver():
    return Resolver({"phq9": sc.load_scale("phq9"), "gad7": sc.load_scale("gad7"), "mht": sc.load_scale("mht")},
                    ["bullied", "left_behind"])


def test_parse_shapes():
    ast = parse('phq9.total >= 10 and (bullied or not left_behind) and gad7.total.band in ["moderate", "severe"]')
    assert isinstance(ast, And) and len(ast.items) == 3
    assert isinstance(ast.items[0], Compare) and ast.items[0].op == ">="
    assert isinstance(ast.items[1], Or) and isinstance(ast.items[1].items[1], Not)
    assert isinstance(ast.items[2], InList) and [v.value for v in ast.items[2].values] == ["moderate", "severe"]
    assert isinstance(parse("x not in [1, 2]"), InList) and parse("x not in [1]").negated
    assert parse("phq9.item9").parts == ("phq9", "item9")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "pos"),
    [
        ("__import__('os')", 0),
        ("phq9.total >= 10; import os", 16),
        ("phq9.total >= ", 14),
        ("open('x').read()", 9),
        ("(phq9.total >= 10", 17),
        ("phq9.total => 10", 11),
        ("", 0),
        ("lambda: 1", 6),
    ],
)
def test_syntax_errors_have_positions(text, pos):
    with pytest.raises(ExprSyntaxError) as info:
        parse(text)
    assert info.value.pos == pos


def test_dunder_names_rejected():
    with pytest.raises(ExprSyntaxError):
        parse("phq9.__class__ == 1")


def test_unknown_names_suggest(resolver):
    with pytest.raises(ConditionError) as info:
        compile_condition("phq9.totl >= 10", resolver)
    assert info.value.code == "unknown_name" and "phq9.total" in info.value.hint
    with pytest.raises(ConditionError) as info:
        compile_condition("phq.total >= 10", resolver)
    assert info.value.code == "unknown_scale" and "phq9" in info.value.hint
    with pytest.raises(ConditionError) as info:
        compile_condition("buled", resolver)
    assert "bullied" in info.value.hint


@pytest.mark.parametrize(
    "text",
    [
        "phq9.total.band >= 10",          # band vs number
        'phq9.total >= "moderate"',       # number vs band name
        "phq9.total",                     # a number is not a condition
        'phq9.status > "complete"',       # statuses have no order
        "phq9.total.band == gad7.total",  # band vs number
        "bullied >= 1",
    ],
)
def test_type_mismatches(resolver, text):
    with pytest.raises(ConditionError) as info:
        compile_condition(text, resolver)
    assert info.value.code == "type_mismatch"


def test_unknown_band_and_status(resolver):
    with pytest.raises(ConditionError) as info:
        compile_condition('phq9.total.band == "moderat"', resolver)
    assert info.value.code == "unknown_band" and "moderate" in info.value.hint
    with pytest.raises(ConditionError) as info:
        compile_condition('mht.status == "invlid"', resolver)
    assert info.value.code == "unknown_status" and "invalid" in info.value.hint


def _env(**values):
    """An Env from plain arrays (numbers), (values, known) pairs (true/false) or (codes, categories) pairs."""
    typed = {}
    for k, v in values.items():
        if isinstance(v, tuple) and isinstance(v[1], tuple):
            typed[k] = Codes(v[0], v[1])
        elif isinstance(v, tuple):
            typed[k] = Truths(*v)
        else:
            typed[k] = Numbers(v)
    first = next(iter(typed.values()))
    return Env(typed, len(first.codes if isinstance(first, Codes) else first.values))


def test_kleene_logic_missing_never_fires(resolver):
    c = compile_condition("not (phq9.total < 10)", resolver)
    x = np.array([5.0, 12.0, np.nan])
    assert c.evaluate(_env(**{"phq9.total": x})).tolist() == [False, True, False]
    c = compile_condition("phq9.total >= 10 or bullied", resolver)
    env = _env(**{"phq9.total": x, "bullied": (np.array([False, False, True]), np.array([True, True, True]))})
    assert c.evaluate(env).tolist() == [False, True, True]  # true or unknown = true
    c = compile_condition("phq9.total >= 10 and not bullied", resolver)
    env = _env(**{"phq9.total": np.array([12.0, 12.0]), "bullied": (np.array([False, False]), np.array([True, False]))})
    assert c.evaluate(env).tolist() == [True, False]  # not unknown = unknown


def test_band_comparisons_use_band_order(resolver):
    c = compile_condition('phq9.total.band >= "moderate"', resolver)
    cats = ("minimal", "mild", "moderate", "moderately_severe", "severe")
    codes = np.array([0, 1, 2, 3, 4, -1])
    assert c.evaluate(_env(**{"phq9.total.band": (codes, cats)})).tolist() == [False, False, True, True, True, False]
    c = compile_condition('phq9.total.band not in ["minimal"]', resolver)
    assert c.evaluate(_env(**{"phq9.total.band": (codes, cats)})).tolist() == [False, True, True, True, True, False]


def test_reachability(resolver):
    assert compile_condition("phq9.total >= 27", resolver).reachable() is True
    assert compile_condition("phq9.total > 27", resolver).reachable() is False
    assert compile_condition("phq9.total >= 10 and phq9.total < 5", resolver).reachable() is False
    assert compile_condition("phq9.item9 >= 1", resolver).reachable() is True
    assert compile_condition("phq9.item9 > 3", resolver).reachable() is False
    assert compile_condition('phq9.total.band in []', resolver).reachable() is False
    assert compile_condition("bullied and not bullied", resolver).reachable() is False


def test_names_are_data_not_code(resolver):
    # a name is looked up in a table of known symbols; nothing in the text is ever executed
    c = compile_condition('mht.status == "invalid" and mht.validity.lie', resolver)
    assert {s.name for s in c.symbols} == {"mht.status", "mht.validity.lie"}
