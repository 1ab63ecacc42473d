"""Reading FHIR ``QuestionnaireResponse`` resources into the canonical response table.

A file (``.json`` with one resource or a ``Bundle``; ``.ndjson`` bulk export
with one resource per line), a parsed resource or a list of them. Items are
matched to a scale by code first — the LOINC code of the Questionnaire item
(``dictionary=``) or a code carried in the ``linkId`` (``/44250-9``, as in
the US Core example) — then by ``linkId`` (``link_ids=`` or ``phq9_1``).
Answers are read from ``valueCoding`` through the scale's ``codes.answers``
(LOINC answer lists carry no weights) or from ``valueInteger``/``valueDecimal``
as option values. Submitted totals are never trusted: the library re-scores.

Problems (unknown answer codes, values that are not options, items no
response carries, two responses for one subject and scale) are reported
together in one :class:`~screening.intake.ReadError`, naming the file, the
item column and the 0-based row positions — never an id or an answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import columns as C
from .._params import InvalidParameterError, check_choice
from ..errors import Issue
from ..scoring import Scale
from . import meta as M
from .errors import ReadError
from .fields import rows_issue

__all__ = ["read_fhir", "response_ref_col", "iter_resources"]

_LOINC_IN_LINKID = re.compile(r"(?:^|[/#:.])(\d{1,7}-\d)$")


def response_ref_col(scale: str) -> str:
    """``phq9.fhir_response``: the ``QuestionnaireResponse/<id>`` each row's answers came from (for ``derivedFrom``)."""
    return f"{scale}.fhir_response"


def _fail(issues: list[Issue], file: str) -> ReadError:
    return ReadError(issues, title=f"cannot read {file}")


def iter_resources(obj: Any) -> Iterable[dict[str, Any]]:
    """Every resource in ``obj``: a resource, a Bundle (entries, nested Bundles) or a list of them."""
    if isinstance(obj, list):
        for x in obj:
            yield from iter_resources(x)
        return
    if not isinstance(obj, dict):
        return
    if obj.get("resourceType") == "Bundle":
        for entry in obj.get("entry") or ():
            if isinstance(entry, dict):
                yield from iter_resources(entry.get("resource"))
        return
    yield obj


def _load(source: Any) -> tuple[list[dict[str, Any]], str, list[Issue]]:
    """Resources from a path or parsed JSON, the name used in messages, and any parse problems."""
    if isinstance(source, (dict, list)):
        return list(iter_resources(source)), "<FHIR resources>", []
    if not isinstance(source, (str, Path)):
        raise InvalidParameterError("The 'path' parameter of read_responses(source='fhir') must be a path, a FHIR "
                                    f"resource (dict) or a list of resources. Got {type(source).__name__} instead.")
    p = Path(source)
    file = str(p)
    if not p.is_file():
        raise _fail([Issue("file_not_found", "no such file", file=file)], file)
    text = p.read_text(encoding="utf-8-sig")
    issues: list[Issue] = []
    if p.suffix.lower() in (".ndjson", ".jsonl"):
        out: list[dict[str, Any]] = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                out += iter_resources(json.loads(line))
            except json.JSONDecodeError as exc:
                issues.append(Issue("bad_json", f"line {n} is not JSON ({exc.msg})", file=file, path=f"line {n}"))
        return out, file, issues
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail([Issue("bad_json", f"not JSON ({exc.msg}, line {exc.lineno})", file=file,
                           hint="NDJSON bulk exports need the .ndjson suffix")], file) from None
    return list(iter_resources(data)), file, issues


def _flat_items(items: Any) -> Iterable[dict[str, Any]]:
    """QuestionnaireResponse items, groups and items nested under answers flattened (depth first)."""
    for it in items or ():
        if not isinstance(it, dict):
            continue
        yield it
        yield from _flat_items(it.get("item"))
        for ans in it.get("answer") or ():
            if isinstance(ans, dict):
                yield from _flat_items(ans.get("item"))


def _questionnaire_codes(questionnaire: Any) -> dict[str, list[tuple[str | None, str]]]:
    """linkId → item codes ``(system, code)`` of one or more Questionnaire resources."""
    out: dict[str, list[tuple[str | None, str]]] = {}
    resources = questionnaire if isinstance(questionnaire, list) else [questionnaire]

    def walk(items: Any) -> None:
        for it in items or ():
            if not isinstance(it, dict):
                continue
            codes = [(c.get("system"), str(c["code"])) for c in it.get("code") or () if isinstance(c, dict) and c.get("code")]
            if codes and it.get("linkId") is not None:
                out[str(it["linkId"])] = codes
            walk(it.get("item"))

    for q in resources:
        if isinstance(q, (str, Path)):
            q = json.loads(Path(q).read_text(encoding="utf-8-sig"))
        if not isinstance(q, dict) or q.get("resourceType") != "Questionnaire":
            raise InvalidParameterError("The 'dictionary' parameter of read_responses(source='fhir') must be a Questionnaire "
                                        "resource (dict or JSON file) or a list of them. Got something else instead.")
        walk(q.get("item"))
    return out


class _ScaleMatcher:
    """How the items and answers of one scale are recognised."""

    def __init__(self, scale: Scale, link_ids: Mapping[str, Any] | None):
        spec = scale.spec
        self.scale = scale
        self.codes = spec.codes
        self.by_code: dict[tuple[str | None, str], str] = {}
        self.other_codes: set[str] = set()
        system = self.codes.system if self.codes is not None else None
        if self.codes is not None:
            for item, c in self.codes.items.items():
                self.by_code[(c.system or system, c.code)] = item
                self.by_code[(None, c.code)] = item
            self.other_codes = {c.code for c in self.codes.scores.values()}
            if self.codes.panel is not None:
                self.other_codes.add(self.codes.panel.code)
        self.by_link = {f"{scale.id}_{i}": i for i in scale.items}
        self.by_link.update(link_ids or {})
        opts = {it.id: it.options for it in spec.items}
        self.values = {it: np.array(sorted(o.value for o in spec.option_sets[opts[it]])) for it in scale.items}
        self.answer_codes: dict[str, dict[tuple[str | None, str], float]] = {}
        for it in scale.items:
            table: dict[tuple[str | None, str], float] = {}
            alist = self.codes.answers.get(opts[it]) if self.codes is not None else None
            if alist is not None:
                for code, val in alist.codes.items():
                    table[(alist.system or system, code)] = val
                    table[(None, code)] = val
            self.answer_codes[it] = table

    def item_of(self, link: str, codes: Sequence[tuple[str | None, str]]) -> str | None:
        for system, code in codes:
            hit = self.by_code.get((system, code)) if system else self.by_code.get((None, code))
            if hit is not None:
                return hit
        return self.by_link.get(link)


def _answer(ans: list[Any], m: _ScaleMatcher, item: str) -> tuple[float, str | None]:
    """The option value of one item's answers, or NaN and a problem code."""
    if not ans:
        return np.nan, None
    if len(ans) > 1:
        return np.nan, "multiple_answers"
    a = ans[0] if isinstance(ans[0], dict) else {}
    if "valueCoding" in a:
        c = a["valueCoding"] if isinstance(a["valueCoding"], dict) else {}
        key = (c.get("system"), str(c.get("code")))
        val = m.answer_codes[item].get(key if key[0] else (None, key[1]))
        return (np.nan, "unknown_answer_code") if val is None else (float(val), None)
    for k in ("valueInteger", "valueDecimal"):
        if k in a:
            v = a[k]
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                return np.nan, "invalid_value"
            return (float(v), None) if float(v) in m.values[item] else (np.nan, "invalid_value")
    return np.nan, "unsupported_answer"


_PROBLEM = {
    "unknown_answer_code": ("answer code(s) not in the scale's `codes.answers`",
                            "declare the code in the scale YAML (codes.answers) or check the Questionnaire's answer list"),
    "invalid_value": ("valueInteger/valueDecimal answer(s) that are not option values",
                      "integer answers must be the scale's option values (e.g. 0-3 for PHQ-9)"),
    "multiple_answers": ("items with more than one answer", "a scale item takes exactly one answer"),
    "unsupported_answer": ("answers that are neither valueCoding nor valueInteger/valueDecimal",
                           "send valueCoding (LOINC answer codes) or the option value as valueInteger"),
}


def _link_ids(columns: Any, sc_list: list[Scale]) -> dict[str, dict[str, str]]:
    """``columns=`` ({scale: [linkId, …] or {item: linkId}}) as {scale: {linkId: item}}."""
    if columns is None:
        return {}
    ids = [s.id for s in sc_list]
    if not (isinstance(columns, Mapping) and set(map(str, columns)) <= set(ids)):
        if len(ids) != 1:
            raise InvalidParameterError(f"The 'columns' parameter of read_responses must be keyed by the scales read "
                                        f"({ids}) when several scales are read. Got {type(columns).__name__} instead.")
        columns = {ids[0]: columns}
    out: dict[str, dict[str, str]] = {}
    for s in sc_list:
        spec = columns.get(s.id)
        if spec is None:
            continue
        if isinstance(spec, Mapping):
            pairs = [(str(k), str(v)) for k, v in spec.items()]
        elif isinstance(spec, (list, tuple)) and len(spec) == len(s.items):
            pairs = list(zip(s.items, map(str, spec), strict=True))
        else:
            raise InvalidParameterError(f"The 'columns' parameter of read_responses must give {s.id} as {{item: linkId}} "
                                        f"or a list of {len(s.items)} linkIds in item order. Got {spec!r} instead.")
        bad = [k for k, _ in pairs if k not in s.items]
        if bad:
            raise InvalidParameterError(f"The 'columns' parameter of read_responses names {s.id} item(s) {bad}, which "
                                        f"the scale does not have ({', '.join(s.items)}). Got unknown items instead.")
        out[s.id] = {link: item for item, link in pairs}
    return out


def _subject_key(qr: dict[str, Any], q: int) -> str:
    subj = qr.get("subject")
    if isinstance(subj, dict):
        if subj.get("reference"):
            return str(subj["reference"])
        ident = subj.get("identifier")
        if isinstance(ident, dict) and ident.get("value"):
            return str(ident["value"])
    return f"QuestionnaireResponse/{qr['id']}" if qr.get("id") else f"#response-{q}"


def _complete(status: Any) -> Any:
    if status in ("completed", "amended"):
        return True
    if status in ("in-progress", "stopped"):
        return False
    return pd.NA


def read_fhir(
    source: Any,
    scales: Any,
    *,
    questionnaire: Any = None,
    columns: Any = None,
    on_invalid: str = "raise",
) -> pd.DataFrame:
    """QuestionnaireResponses → the canonical table (one row per subject), as :func:`screening.read_responses`.

    Parameters
    ----------
    source : path, dict or list
        ``.json`` (a QuestionnaireResponse or a Bundle), ``.ndjson`` (bulk
        export, one resource per line), or parsed resources.
    scales : scale id, Scale or list of them
        The scales to read; each needs a ``codes`` block unless ``columns``
        or ``phq9_1``-style linkIds locate its items.
    questionnaire : Questionnaire (dict or JSON path) or list, optional
        Supplies the item codes of linkIds that carry none (e.g. MII PRO
        ``phq-gad7-q01`` → LOINC 69725-0).
    columns : mapping or list, optional
        The linkIds of forms without codes, as in ``read_responses``:
        ``{"phq9": {"1": "phq-phq2a", …}}`` or a list in item order
        (the bare list/mapping is allowed for one scale).
    on_invalid : {"raise", "missing"}
        An answer that cannot be read: ``raise`` reports every one;
        ``missing`` leaves it unanswered and counts it in ``{scale}.n_unreadable``.

    Returns
    -------
    DataFrame
        Metadata (``respondent_id`` = the subject's reference or identifier
        value, ``submitted_at`` = ``authored`` in UTC, ``source`` = ``fhir``,
        ``complete`` = status completed/amended), each item as its option
        value (NaN unanswered), and ``{scale}.fhir_response`` (the response's
        ``QuestionnaireResponse/<id>``). One row per subject (per response when
        it names no subject), in order of first appearance.
    """
    fname = "read_responses"
    check_choice(fname, "on_invalid", on_invalid, ("raise", "missing"))
    from .read import _scales  # the same scale-argument checks as every reader

    sc_list = _scales(scales)
    links = _link_ids(columns, sc_list)
    matchers = [_ScaleMatcher(s, links.get(s.id)) for s in sc_list]
    qcodes = _questionnaire_codes(questionnaire) if questionnaire is not None else {}
    resources, file, issues = _load(source)
    qrs = [r for r in resources if r.get("resourceType") == "QuestionnaireResponse"]
    if not qrs:
        issues.append(Issue("no_responses", "no QuestionnaireResponse resources found", file=file,
                            hint="give a QuestionnaireResponse, a Bundle of them or an NDJSON export"))
        raise _fail(issues, file)

    rows: dict[str, int] = {}
    authored: list[Any] = []
    complete: list[Any] = []
    cells: dict[tuple[str, str], dict[int, float]] = {}
    problems: dict[tuple[str, str, str], set[int]] = {}
    refs: dict[str, dict[int, str]] = {m.scale.id: {} for m in matchers}
    seen_items: dict[str, set[str]] = {m.scale.id: set() for m in matchers}
    dup_rows: dict[str, set[int]] = {}
    skipped = 0
    for q, qr in enumerate(qrs):
        flat = [(str(it.get("linkId", "")), it) for it in _flat_items(qr.get("item"))]
        matched: list[tuple[_ScaleMatcher, str, dict[str, Any]]] = []
        for link, it in flat:
            codes = list(qcodes.get(link, ()))
            found = _LOINC_IN_LINKID.search(link)
            if found:
                codes.append((None, found.group(1)))
            for m in matchers:
                item = m.item_of(link, codes)
                if item is not None:
                    matched.append((m, item, it))
        if not matched:
            skipped += 1
            continue
        key = _subject_key(qr, q)
        if key not in rows:
            rows[key] = len(rows)
            authored.append(qr.get("authored"))
            complete.append(_complete(qr.get("status")))
        else:
            r0 = rows[key]
            if qr.get("authored") and (authored[r0] is None or str(qr["authored"]) > str(authored[r0])):
                authored[r0] = qr.get("authored")
            if complete[r0] is not pd.NA and _complete(qr.get("status")) is not True:
                complete[r0] = _complete(qr.get("status"))
        r = rows[key]
        ref = f"QuestionnaireResponse/{qr['id']}" if qr.get("id") else None
        for m in {id(m): m for m, _, _ in matched}.values():
            sid = m.scale.id
            if r in refs[sid] or any(r in cells.get((sid, i), {}) for i in m.scale.items):
                dup_rows.setdefault(sid, set()).add(r)
            if ref is not None:
                refs[sid][r] = ref
        for m, item, it in matched:
            sid = m.scale.id
            seen_items[sid].add(item)
            value, problem = _answer(it.get("answer") or [], m, item)
            if problem is not None:
                problems.setdefault((sid, item, problem), set()).add(r)
            cell = cells.setdefault((sid, item), {})
            if r in cell and not (np.isnan(cell[r]) and np.isnan(value)):
                dup_rows.setdefault(sid, set()).add(r)
            cell[r] = value

    n = len(rows)
    for m in matchers:
        sid = m.scale.id
        absent = [i for i in m.scale.items if i not in seen_items[sid]]
        if absent:
            how = ("add a codes block to the scale YAML or pass columns={item: linkId}" if m.codes is None else
                   "pass dictionary= (the Questionnaire with item codes) or columns={'" + sid + "': {item: linkId}}")
            issues.append(Issue("missing_item", f"no response carries {sid} item(s) {absent}", file=file,
                                column=", ".join(C.item_input_col(sid, i) for i in absent[:9]), hint=how))
    for sid, rset in dup_rows.items():
        mask = np.zeros(n, dtype=bool)
        mask[sorted(rset)] = True
        issues.append(rows_issue("duplicate_response", f"subjects with more than one {sid} response",
                                 mask, file=file, column=sid,
                                 hint="send one response per subject and scale (e.g. one file per wave)"))
    unreadable: dict[str, np.ndarray] = {}
    for (sid, item, problem), rset in sorted(problems.items()):
        mask = np.zeros(n, dtype=bool)
        mask[sorted(rset)] = True
        if on_invalid == "missing" and problem != "multiple_answers":
            unreadable[sid] = unreadable.get(sid, np.zeros(n, dtype=np.int64)) + mask
            continue
        what, hint = _PROBLEM[problem]
        issues.append(rows_issue(problem, f"{int(mask.sum())} {what}", mask, file=file,
                                 column=C.item_input_col(sid, item), hint=hint))
    if issues:
        raise _fail(issues, file)

    when = pd.to_datetime(pd.Series(authored, dtype=object), utc=True, errors="coerce", format="ISO8601")
    bad_time = when.isna().to_numpy() & pd.Series(authored, dtype=object).notna().to_numpy()
    if bad_time.any():
        raise _fail([rows_issue("invalid_datetime", "authored is not a FHIR dateTime", bad_time, file=file,
                                column="authored")], file)
    out: dict[str, Any] = {
        M.RESPONDENT_ID: pd.array(list(rows), dtype=object).astype(str),
        M.STARTED_AT: np.full(n, np.datetime64("NaT", "us")),
        M.SUBMITTED_AT: when.dt.tz_localize(None).to_numpy(),
        M.DURATION_S: np.full(n, np.nan),
        M.SOURCE: np.full(n, "fhir", dtype=object),
        M.COMPLETE: pd.array(complete, dtype="boolean"),
    }
    for m in matchers:
        sid = m.scale.id
        for item in m.scale.items:
            col = np.full(n, np.nan)
            got = cells.get((sid, item), {})
            if got:
                idx = np.fromiter(got.keys(), dtype=np.int64, count=len(got))
                col[idx] = np.fromiter(got.values(), dtype=float, count=len(got))
            out[C.item_input_col(sid, item)] = col
        if on_invalid == "missing":
            out[M.unreadable_col(sid)] = unreadable.get(sid, np.zeros(n, dtype=np.int64))
    for m in matchers:
        sid = m.scale.id
        ref_col = np.full(n, None, dtype=object)
        for r, ref in refs[sid].items():
            ref_col[r] = ref
        out[response_ref_col(sid)] = ref_col
    table = pd.DataFrame(out, index=pd.RangeIndex(n))
    table[M.RESPONDENT_ID] = table[M.RESPONDENT_ID].astype(str)
    table[M.SOURCE] = table[M.SOURCE].astype(str)
    table.attrs["fhir"] = {"file": file, "responses": len(qrs), "skipped_responses": skipped}
    return table
