"""REDCap exports, read with the project's data dictionary.

A data export holds raw codes or labels (and raw field names or field labels
as headers). The data dictionary lists each field's choices pipe-encoded:
``0, Not at all | 1, Several days | …``
(https://linkml.io/linkml-redcap/reference/data_dictionary/Choice/). Raw codes
are mapped code → choice label → the YAML option value, so a project that
coded PHQ-9 as 1–4 still scores 0–3; a choice label that is no option of the
scale is an error naming the field. ``<form>_complete`` (2 = Complete) gives
``complete``; ``<form>_timestamp`` gives ``submitted_at``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import Issue
from . import meta as M
from .errors import ReadError
from .fields import parse_datetime
from .grid import Grid, read_csv_grid
from .options import option_key
from .source import Extract, from_grid

__all__ = ["extract", "looks_like_redcap", "parse_choices", "read_dictionary"]

_DICT_COLS = {
    "variable / field name": "field_name",
    "field_name": "field_name",
    "form name": "form_name",
    "form_name": "form_name",
    "field type": "field_type",
    "field_type": "field_type",
    "field label": "field_label",
    "field_label": "field_label",
    "choices, calculations, or slider labels": "choices",
    "select_choices_or_calculations": "choices",
}
_IMPLIED = {"yesno": {1.0: "Yes", 0.0: "No"}, "truefalse": {1.0: "True", 0.0: "False"}}


def parse_choices(text: str) -> dict[float, str]:
    """``"0, Not at all | 1, Several days"`` → ``{0.0: "Not at all", 1.0: "Several days"}``.

    Raises ValueError on a choice without a numeric code.
    """
    out: dict[float, str] = {}
    for part in str(text).split("|"):
        part = part.strip()
        if not part:
            continue
        code, _, label = part.partition(",")
        out[float(code.strip())] = label.strip()
    return out


def read_dictionary(dictionary: str | Path | pd.DataFrame, encoding: str | None = None) -> pd.DataFrame:
    """The data dictionary as a frame with columns field_name, form_name, field_type, field_label, choices."""
    if isinstance(dictionary, pd.DataFrame):
        frame = dictionary.copy()
        file = "<dictionary>"
    else:
        grid, _ = read_csv_grid(dictionary, encoding=encoding, header_row=0)
        frame = grid.frame
        file = str(dictionary)
    frame.columns = [_DICT_COLS.get(str(c).strip().casefold(), str(c)) for c in frame.columns]
    missing = [c for c in ("field_name", "field_type") if c not in frame.columns]
    if missing:
        raise ReadError([Issue("bad_dictionary", f"the data dictionary has no {missing} column(s)", file=file,
                               hint="export the dictionary from REDCap: Project Home → Data Dictionary → Download")],
                        title="cannot read the REDCap data dictionary")
    for c in ("form_name", "field_label", "choices"):
        if c not in frame.columns:
            frame[c] = ""
    return frame.fillna("").astype(str)


def looks_like_redcap(columns: list[str]) -> bool:
    """True when the header has REDCap's own columns."""
    return any(c.startswith("redcap_") or c.endswith("_complete") for c in columns)


def extract(grid: Grid, dictionary: str | Path | pd.DataFrame | None, encoding: str | None = None) -> Extract:
    """An :class:`Extract` of a REDCap export (raw or label), mapped through its data dictionary."""
    ex = from_grid(grid, "redcap")
    cols = list(ex.frame.columns)
    issues: list[Issue] = []
    if dictionary is not None:
        dd = read_dictionary(dictionary, encoding)
        labels_norm = {option_key(c): c for c in cols}
        names = dd["field_name"].tolist()
        types = dd["field_type"].str.strip().str.casefold().tolist()
        flabels = dd["field_label"].tolist()
        choices = dd["choices"].tolist()
        for name, ftype, flabel, ch in zip(names, types, flabels, choices, strict=True):  # one pass over fields, not rows
            col = name if name in cols else labels_norm.get(option_key(flabel)) if flabel else None
            if col is None:
                continue
            if col != name:
                ex.aliases[name] = col
            if ftype in ("radio", "dropdown"):
                try:
                    ex.value_labels[col] = parse_choices(ch)
                except ValueError:
                    issues.append(Issue("bad_dictionary", f"field {name!r}: choices are not 'code, label | …'",
                                        file=str(dictionary), column=name))
            elif ftype in _IMPLIED:
                ex.value_labels[col] = dict(_IMPLIED[ftype])
        if names:
            rid = names[0] if names[0] in cols else ex.aliases.get(names[0])
            if rid is not None:
                ex.meta_cols[M.RESPONDENT_ID] = rid
    if M.RESPONDENT_ID not in ex.meta_cols and "record_id" in cols:
        ex.meta_cols[M.RESPONDENT_ID] = "record_id"
    stamps = [c for c in cols if c.endswith("_timestamp")]
    completes = [c for c in cols if c.endswith("_complete")]
    ex.consumed |= set(stamps) | set(completes)
    if stamps:
        parsed = []
        for c in stamps:
            s = ex.frame[c].mask(ex.frame[c].str.strip().str.casefold().eq("[not completed]"), "")
            values, found = parse_datetime(s, file=ex.file, column=c)
            issues += found
            parsed.append(values)
        ex.meta_values[M.SUBMITTED_AT] = pd.concat(parsed, axis=1).max(axis=1)  # latest form submitted
    if completes:
        flags = pd.DataFrame({c: ex.frame[c].str.strip().str.casefold() for c in completes})
        done = flags.isin(["2", "complete"]).all(axis=1).to_numpy()
        unknown = flags.eq("").all(axis=1).to_numpy()  # type: ignore[arg-type]  # pandas-stubs: eq() takes a scalar
        out = pd.array(done, dtype="boolean")
        out[unknown] = pd.NA
        ex.meta_values[M.COMPLETE] = pd.Series(out)
    ex.numeric_means = "codes" if ex.value_labels else "value"
    ex.issues += issues
    if issues:
        raise ReadError(issues, title=f"cannot read {ex.file}")
    return ex
