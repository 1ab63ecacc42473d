"""Turning a screening result (or its ``to_frame()`` form) into archive rows, vectorised."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._params import InvalidParameterError
from ..errors import Issue
from .errors import ArchiveError

#: Columns of ``result.table`` kept as their own database columns.
TABLE_COLS = ("tier", "urgent", "rescreen", "follow_up_days", "rules_fired")
#: Text derived from ``rules_fired`` and the rule set in the chosen language: not stored.
DERIVED_TEXT = ("reasons", "actions", "reasons_zh", "reasons_en", "actions_zh", "actions_en")
#: Group columns kept as their own database columns (for ``by=`` queries).
GROUP_COLS = ("school", "grade", "class", "sex")


@dataclass
class Prepared:
    frame: pd.DataFrame          # one row per student: pseudonym, hash, the record columns and data (JSON text)
    columns: dict[str, str]      # column → kind (group / flag / score)
    provenance: Mapping[str, Any]


def _as_frame(result: Any) -> tuple[pd.DataFrame, Mapping[str, Any], set[str]]:
    from ..screener.result import ScreeningResult

    if isinstance(result, ScreeningResult):
        return result.to_frame(), dict(result.provenance), set(result.flags.columns)
    if isinstance(result, pd.DataFrame):
        prov = result.attrs.get("provenance", {})
        return result, prov if isinstance(prov, Mapping) else {}, set()
    raise InvalidParameterError("The 'result' parameter of Archive.add must be a ScreeningResult or a DataFrame in "
                                f"result.to_frame() form. Got {type(result).__name__} instead.")


def _kinds(frame: pd.DataFrame, flags: set[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in frame.columns:
        name = str(c)
        if name in TABLE_COLS or name in DERIVED_TEXT or name in GROUP_COLS:
            continue
        if name in flags:
            out[name] = "flag"
        elif "." in name:
            out[name] = "score"
        elif pd.api.types.is_bool_dtype(frame[c].dtype):
            out[name] = "flag"
        else:
            out[name] = "group"
    return out


def _text(s: pd.Series) -> pd.Series:
    """Text as an object column with None for missing (categoricals through their categories: fast)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = np.asarray([str(c) for c in s.cat.categories] + [None], dtype=object)
        codes = s.cat.codes.to_numpy()
        return pd.Series(cats[np.where(codes < 0, len(cats) - 1, codes)], index=s.index, dtype=object)
    v = s.astype(object)
    mask = s.isna().to_numpy()
    if pd.api.types.is_string_dtype(s.dtype) or s.dtype == object:
        out = v.where(~mask, None)
        return out if all(isinstance(x, str) or x is None for x in out.to_numpy()[:1000]) else out.map(
            lambda x: None if x is None else str(x))
    # (numpy stubs: None is a valid object scalar for np.where)
    values: npt.NDArray[np.object_] = np.where(mask, None, s.astype(str).to_numpy(dtype=object))  # type: ignore[call-overload]
    return pd.Series(values, index=s.index, dtype=object)


RECORD_COLS = ("tier", "urgent", "rescreen", "follow_up_days", "rules_fired", *GROUP_COLS)


def content_hash(rows: pd.DataFrame) -> list[str]:
    """SHA-256 of one stored row's content (record columns and JSON data): equal rows, equal hashes.

    The record columns are rendered by pandas' JSON writer (C code) after normalising their types, so a row
    read back from a transfer bundle hashes exactly as it did when it was added.
    """
    rec = pd.DataFrame({
        "tier": rows["tier"].astype(object).where(rows["tier"].notna(), None),
        "urgent": rows["urgent"].astype("boolean"),
        "rescreen": rows["rescreen"].astype("boolean"),
        "follow_up_days": pd.to_numeric(rows["follow_up_days"]).astype("float64"),
        **{c: rows[c].astype(object).where(rows[c].notna(), None) for c in ("rules_fired", *GROUP_COLS)},
    })
    # one JSON line per row (newlines inside values are escaped, so splitting on them is safe)
    keys = rec.to_json(orient="records", lines=True, double_precision=15, force_ascii=False).splitlines() if len(rec) else []
    return [hashlib.sha256((k + "\x1e" + d).encode("utf-8")).hexdigest() for k, d in zip(keys, rows["data"])]


def prepare(result: Any, ids: Any, pseudonyms_of: Any, *, where: str = "Archive.add") -> Prepared:
    """Rows to store: pseudonyms (the raw ids are dropped here), content hashes, record columns, JSON data."""
    frame, provenance, flags = _as_frame(result)
    if "tier" not in frame.columns:
        raise ArchiveError([Issue("missing_column", "the result has no 'tier' column", column="tier",
                                  hint="pass a ScreeningResult or result.to_frame()")], title="cannot add to the archive")
    id_name = None
    if isinstance(ids, str):
        if ids not in frame.columns:
            raise ArchiveError([Issue("missing_column", "the id column is not in the result", column=ids)],
                               title="cannot add to the archive")
        id_name = ids
        id_values = frame[ids]
    else:
        id_values = ids if isinstance(ids, pd.Series) else pd.Series(list(ids))
        if len(id_values) != len(frame):
            raise InvalidParameterError(f"The 'ids' parameter of {where} must have one id per row of the result "
                                        f"({len(frame)}). Got {len(id_values)} instead.")
        if isinstance(ids, pd.Series) and not id_values.index.equals(frame.index):
            raise InvalidParameterError(f"The 'ids' parameter of {where} must be aligned with the result "
                                        "(same index). Got a Series with a different index instead.")
        id_name = str(id_values.name) if id_values.name is not None else None
    pseudo = pseudonyms_of(pd.Series(id_values.to_numpy(), index=frame.index))
    missing = np.flatnonzero(pseudo.isna().to_numpy())
    if missing.size:
        raise ArchiveError([Issue("missing_id", "rows without a student id cannot be archived", column=id_name or "ids",
                                  rows=tuple(int(i) for i in missing[:10]), count=int(missing.size))],
                           title="cannot add to the archive")
    dup = np.flatnonzero(pseudo.duplicated(keep=False).to_numpy())
    if dup.size:
        raise ArchiveError([Issue("duplicate_id", "the same student appears on several rows", column=id_name or "ids",
                                  rows=tuple(int(i) for i in dup[:10]), count=int(dup.size),
                                  hint="deduplicate first (sc.deduplicate)")], title="cannot add to the archive")
    kinds = _kinds(frame, flags)
    # never let the raw id reach the database: drop the id column and any text column holding an id
    raw = pd.Series(id_values.astype("string").to_numpy(), index=frame.index)
    for c in list(kinds):
        if c == id_name or (kinds[c] == "group" and bool((frame[c].astype("string") == raw).fillna(False).mean() > 0.5)):
            del kinds[c]  # the id column itself, perhaps under another name
    data_cols = sorted(kinds)
    data = frame[data_cols].copy()
    for c in data_cols:
        if isinstance(data[c].dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(data[c].dtype):
            data[c] = _text(data[c])
    lines = data.to_json(orient="records", lines=True, force_ascii=False, double_precision=15).splitlines() \
        if data_cols else ["{}"] * len(frame)
    if len(lines) != len(frame):  # pragma: no cover - to_json writes one line per row
        raise ArchiveError([Issue("internal", "could not serialise the result rows")], title="cannot add to the archive")
    out = pd.DataFrame(index=frame.index)
    out["pseudonym"] = pseudo.astype(object)
    out["tier"] = _text(frame["tier"])
    for c in ("urgent", "rescreen"):
        out[c] = frame[c].astype(object).where(frame[c].notna(), None) if c in frame.columns else None
    out["follow_up_days"] = (pd.to_numeric(frame["follow_up_days"]).astype(object).where(frame["follow_up_days"].notna(), None)
                             if "follow_up_days" in frame.columns else None)
    out["rules_fired"] = _text(frame["rules_fired"]) if "rules_fired" in frame.columns else None
    for c in GROUP_COLS:
        out[c] = _text(frame[c]) if c in frame.columns else None
    out["data"] = lines
    out["content_sha256"] = content_hash(out)
    for c in GROUP_COLS:
        if c in frame.columns:
            kinds[c] = "group"
    return Prepared(out.reset_index(drop=True), kinds, provenance)
