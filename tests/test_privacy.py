"""Keyed pseudonyms and the absence of identifying data in reprs, warnings and errors."""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle

import pandas as pd
import pytest

import screening as sc
from screening.reports import warning_list
from screening.reports.privacy import Key, generate_key, load_key, pseudonymise

SECRET = b"0123456789abcdef0123456789abcdef"


def test_hmac_sha256_truncated_with_version_prefix():
    ids = pd.Series(["G440101200001011234", "Ｇ４４０１０１２０００01011234 ", None, "  "], index=[10, 11, 12, 13])
    out = pseudonymise(ids, Key(SECRET, "v2"))
    want = "v2-" + hmac.new(SECRET, b"G440101200001011234", hashlib.sha256).digest()[:8].hex()
    assert out.loc[10] == want and out.loc[11] == want  # NFKC folds full-width digits, strip removes spaces
    assert pd.isna(out.loc[12]) and pd.isna(out.loc[13])
    assert out.index.tolist() == [10, 11, 12, 13]
    long = pseudonymise(["x"], SECRET, bits=128)
    assert len(long.iloc[0]) == len("k1-") + 32


def test_different_keys_give_different_pseudonyms_and_ints_equal_text():
    a = pseudonymise(["123", 123], SECRET)
    assert a.iloc[0] == a.iloc[1]
    b = pseudonymise(["123"], b"another key of enough length!!!!")
    assert a.iloc[0] != b.iloc[0]


def test_float_ids_refused():
    with pytest.raises(ValueError, match="read ID columns as text"):
        pseudonymise(pd.Series([4.401e18, 1.0]), SECRET)


def test_key_sources_and_secrecy(tmp_path, monkeypatch):
    path = tmp_path / "k.key"
    text = generate_key(path)
    assert len(text) == 64 and oct(path.stat().st_mode)[-3:] == "600"
    with pytest.raises(sc.ScreeningError):
        generate_key(path)  # never overwritten
    k1 = load_key(file=path)
    monkeypatch.setenv("MY_SCREENING_KEY", text)
    k2 = load_key(env="MY_SCREENING_KEY")
    assert k1 == k2
    assert text not in repr(k1) and text not in str(k1)
    with pytest.raises(TypeError):
        pickle.dumps(k1)
    with pytest.raises(sc.ScreeningError, match="not set"):
        load_key(env="NO_SUCH_VARIABLE_FOR_SCREENING")
    short = tmp_path / "short.key"
    short.write_text("abc")
    with pytest.raises(sc.ScreeningError, match="shorter than 16 bytes"):
        load_key(file=short)
    with pytest.raises(ValueError, match="exactly one"):
        load_key(SECRET, env="X")
    with pytest.raises(ValueError, match="must be bytes"):
        load_key("a string key")  # type: ignore[arg-type]
    assert os.environ["MY_SCREENING_KEY"] == text


def test_nothing_identifying_in_reprs_or_summaries(recwarn):
    ids = [f"G4401012000010199{i:02d}" for i in range(12)]
    df = pd.DataFrame({"student_id": ids, "school": ["第一中学"] * 12,
                       **{f"phq9_{k}": [3] * 12 for k in range(1, 10)}, **{f"gad7_{k}": [0] * 12 for k in range(1, 8)}})
    df = df.set_index("student_id", drop=False)
    res = sc.screen(df, scales=["phq9", "gad7"], rules="default", flags={})
    texts = [repr(res), res._repr_html_(), res.summary(by="school").to_string(), str(res.provenance)]
    texts += [str(w.message) for w in recwarn]
    for t in texts:
        assert not any(i in t for i in ids)
    wl = warning_list(res, res.table.index.to_series(), identifiable=True)
    assert wl["student_id"].tolist()[:2] == ids[:2]  # only on explicit request
