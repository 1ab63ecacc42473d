"""Writing a screening result as FHIR R4 resources (plain dicts): Observations, a RiskAssessment, responses.

Per student and scale: one Observation per score (value, band as
``interpretation``, the scale status in a note), one per critical item, and a
panel Observation whose ``hasMember`` lists them; all ``derivedFrom`` the
QuestionnaireResponse the answers came from. Per student one
``RiskAssessment`` carries the tier, urgency, re-screen and the reasons.
The pattern follows the US Core screening-assessment examples (panel
44249-1 with ``hasMember`` → item and total Observations, each with category
``survey`` and ``derivedFrom`` the response); codes come from the scale's
``codes`` block, or this project's code systems where LOINC has none.

The subject is a logical reference by identifier — the keyed pseudonym
(``k1-…``, :func:`screening.pseudonymise`) — or a reference the caller
supplies. Raw student ids are written only with ``identifiable=True``.
Every resource carries the confidentiality label R (restricted).

Building resources is a loop over the students written (an export step, not
the scoring path); pass ``rows=`` to write a few.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .. import columns as C
from .._params import InvalidParameterError, check_choice
from ..intake import meta as M
from ..intake.fhir import response_ref_col

if TYPE_CHECKING:
    from ..reports.privacy import Key
    from ..scoring import Scale
    from ..screener.result import ScreeningResult

__all__ = ["CS_BAND", "CS_SCORE", "CS_TIER", "PSEUDONYM_SYSTEM", "STUDENT_ID_SYSTEM", "to_fhir"]

_BASE = "https://screening.invalid/fhir"
#: Project code systems (LOINC has no codes for bands, tiers or most school scales).
CS_SCORE = f"{_BASE}/CodeSystem/score"
CS_BAND = f"{_BASE}/CodeSystem/band"
CS_TIER = f"{_BASE}/CodeSystem/tier"
#: Identifier systems of the subject: keyed pseudonyms, or (only when asked) raw student ids.
PSEUDONYM_SYSTEM = "urn:screening:pseudonym"
STUDENT_ID_SYSTEM = "urn:screening:student-id"

_SURVEY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey",
                       "display": "Survey"}]}
_SECURITY = [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R", "display": "restricted"}]
_ABSENT = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "asked-unknown",
                       "display": "Asked But Unknown"}], "text": "too many items unanswered to score / 未答题目过多，无法计分"}
_UNIT = {"unit": "{score}", "system": "http://unitsofmeasure.org", "code": "{score}"}


class _Cols:
    """Columns of a frame as Python lists, converted once on first use (fast per-student access)."""

    def __init__(self, frame: pd.DataFrame | None):
        self.frame = frame
        self.cache: dict[str, list[Any]] = {}

    def __contains__(self, col: str) -> bool:
        return self.frame is not None and col in self.frame.columns

    def __getitem__(self, col: str) -> list[Any]:
        if col not in self.cache:
            if self.frame is None:  # __contains__ is False then: callers check membership first
                raise KeyError(col)
            self.cache[col] = self.frame[col].astype(object).tolist()
        return self.cache[col]


def _new_id() -> str:
    return str(uuid.uuid4())


def _subjects(result: ScreeningResult, ids: Any, key: Key | None, subjects: Any, identifiable: bool,
              system: str | None) -> list[dict[str, Any]]:
    """One FHIR Reference per student."""
    n = len(result)
    func = "to_fhir"
    if subjects is not None:
        arr = np.asarray(subjects.reindex(result.table.index) if isinstance(subjects, pd.Series) else subjects,
                         dtype=object)
        if arr.ndim != 1 or len(arr) != n:
            raise InvalidParameterError(f"The 'subjects' parameter of {func} must hold one FHIR reference per screened "
                                        f"student ({n}). Got {arr.shape} instead.")
        return [{"reference": str(r)} if isinstance(r, str) else dict(r) for r in arr]
    if ids is None:
        raise InvalidParameterError(
            f"The 'ids' parameter of {func} must be given with a pseudonymisation 'key' (or pass 'subjects', FHIR "
            "references you made yourself). Got None instead.")
    from ..reports._common import identify

    ident = identify(result, ids, identifiable, key, func)
    if key is not None and not identifiable:
        values = ident["pseudonym"].astype(object).to_numpy()
        sys_ = system or PSEUDONYM_SYSTEM
    else:
        values = ident["student_id"].astype(object).to_numpy()
        sys_ = system or STUDENT_ID_SYSTEM
    return [{"identifier": {"system": sys_, "value": str(v)}} if isinstance(v, str) and v else
            {"display": "unidentified / 未标识"} for v in values]


def _band_label(scale: Scale, score_id: str, band: str, lang: str) -> str:
    sc = scale.spec.score(score_id)
    if sc.bands is None:
        return band
    sets = [sc.bands.sets[sc.bands.default], *sc.bands.sets.values()]
    for bset in sets:
        for b in bset.bands:
            if b.id == band:
                return b.label.get(lang)
    return band


def _coding(scale: Scale, score_id: str | None) -> dict[str, Any]:
    """Code of a score (LOINC when the scale declares one, always with the project code) or of the panel."""
    spec = scale.spec
    codes = spec.codes
    out: list[dict[str, Any]] = []
    if score_id is None:
        if codes is not None and codes.panel is not None:
            out.append(_loinc(codes.panel, codes.system))
        out.append({"system": CS_SCORE, "code": scale.id, "display": spec.title.get("en")})
        return {"coding": out, "text": spec.title.get("zh")}
    if codes is not None and score_id in codes.scores:
        out.append(_loinc(codes.scores[score_id], codes.system))
    label = spec.score(score_id).label
    out.append({"system": CS_SCORE, "code": C.score_col(scale.id, score_id),
                "display": f"{spec.abbreviation or scale.id} {label.get('en')}"})
    return {"coding": out, "text": f"{spec.abbreviation or scale.id} {label.get('zh')}"}


def _loinc(c: Any, system: str) -> dict[str, Any]:
    d = {"system": c.system or system, "code": c.code}
    if c.display:
        d["display"] = c.display
    return d


def _number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else round(float(x), 6)


def _when(responses: pd.DataFrame | None, effective: Any, n: int) -> list[str | None]:
    if effective is not None:
        ts = pd.Timestamp(effective)
        return [(ts.tz_localize("UTC") if ts.tzinfo is None else ts).isoformat()] * n
    if responses is not None and M.SUBMITTED_AT in responses.columns:
        s = pd.to_datetime(responses[M.SUBMITTED_AT], errors="coerce")
        return [None if pd.isna(t) else pd.Timestamp(t).tz_localize("UTC").isoformat()
                if pd.Timestamp(t).tzinfo is None else pd.Timestamp(t).isoformat() for t in s]
    return [None] * n


def _entry(resource: dict[str, Any], bundle_type: str) -> dict[str, Any]:
    e: dict[str, Any] = {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}
    if bundle_type == "transaction":
        e["request"] = {"method": "POST", "url": resource["resourceType"]}
    return e


def _response(scale: Scale, responses: _Cols, r: int, subject: dict[str, Any], when: str | None
              ) -> dict[str, Any] | None:
    """A QuestionnaireResponse of one student's answers (linkId ``/<LOINC>`` as in US Core, else ``phq9_1``)."""
    spec = scale.spec
    codes = spec.codes
    cols = [C.item_input_col(scale.id, i) for i in scale.items]
    if not all(c in responses for c in cols):
        return None
    opts = {it.id: it.options for it in spec.items}
    items = []
    for item, col in zip(scale.items, cols, strict=True):
        v = responses[col][r]
        link = f"/{codes.items[item].code}" if codes is not None and item in codes.items else col
        entry: dict[str, Any] = {"linkId": link}
        if pd.notna(v):
            alist = codes.answers.get(opts[item]) if codes is not None else None
            code = None
            if alist is not None:
                code = next((k for k, val in alist.codes.items() if val == float(v)), None)
            if code is not None and alist is not None and codes is not None:
                label = next(o.label for o in spec.option_sets[opts[item]] if o.value == float(v))
                entry["answer"] = [{"valueCoding": {"system": alist.system or codes.system, "code": code,
                                                    "display": label.get("en")}}]
            elif float(v).is_integer():
                entry["answer"] = [{"valueInteger": int(v)}]
            else:
                entry["answer"] = [{"valueDecimal": float(v)}]
        items.append(entry)
    qr: dict[str, Any] = {"resourceType": "QuestionnaireResponse", "id": _new_id(), "meta": {"security": _SECURITY},
                          "status": "completed", "subject": subject, "item": items}
    if when:
        qr["authored"] = when
    return qr


def to_fhir(
    result: ScreeningResult,
    *,
    ids: pd.Series | str | Sequence[Any] | None = None,
    key: Key | None = None,
    subjects: pd.Series | Sequence[Any] | None = None,
    identifiable: bool = False,
    responses: pd.DataFrame | None = None,
    rows: Sequence[int] | None = None,
    effective: Any = None,
    identifier_system: str | None = None,
    bundle_type: Literal["collection", "transaction"] = "collection",
    lang: Literal["zh", "en"] = "zh",
) -> dict[str, Any]:
    """A screening result as a FHIR R4 Bundle (a plain dict, ready for ``json.dump``).

    Parameters
    ----------
    result : ScreeningResult
        From :func:`screening.screen`.
    ids, key : optional
        Student ids (Series with the result's index, a column of
        ``result.groups`` or one per student) and the pseudonymisation key
        (:func:`screening.load_key`): the subject is
        ``{"identifier": {"system": "urn:screening:pseudonym", "value": "k1-…"}}``.
    subjects : Series or sequence, optional
        Instead: one FHIR reference per student (``"Patient/123"`` or a
        Reference dict), e.g. the hospital's own patient ids.
    identifiable : bool
        Write raw ids (``urn:screening:student-id``) instead of pseudonyms.
    responses : DataFrame, optional
        The answers screened (same index). With item columns, a
        QuestionnaireResponse is written per student and scale and every
        Observation is ``derivedFrom`` it; with ``{scale}.fhir_response``
        (from ``read_responses(source="fhir")``) the original response is referenced.
        ``submitted_at`` becomes ``effectiveDateTime``.
    rows : sequence of int, optional
        0-based positions of the students to write (default: all).
    effective : date or datetime, optional
        When the screening took place (overrides ``submitted_at``).
    identifier_system : str, optional
        The identifier system of subjects, e.g. the region's pseudonym namespace.
    bundle_type : {"collection", "transaction"}
        ``transaction`` adds ``request: POST`` to each entry.
    lang : {"zh", "en"}
        Language of band labels and reasons in ``text`` fields (codes are language-free).

    Returns
    -------
    dict
        A ``Bundle`` whose entries are the resources, in order per student:
        QuestionnaireResponse(s), score and critical-item Observations, the
        panel Observation per scale, then the RiskAssessment.
    """
    func = "to_fhir"
    check_choice(func, "bundle_type", bundle_type, ("collection", "transaction"))
    check_choice(func, "lang", lang, ("zh", "en"))
    n = len(result)
    if responses is not None and (not isinstance(responses, pd.DataFrame) or not responses.index.equals(result.table.index)):
        raise InvalidParameterError(f"The 'responses' parameter of {func} must be the DataFrame screened (same index, "
                                    "same order). Got something else instead.")
    positions = np.arange(n) if rows is None else np.asarray(list(rows), dtype=np.int64)
    if positions.size and (positions.min() < 0 or positions.max() >= n):
        raise InvalidParameterError(f"The 'rows' parameter of {func} must hold row positions from 0 to {n - 1}. "
                                    "Got a position outside that range instead.")
    subj = _subjects(result, ids, key, subjects, identifiable, identifier_system)
    when = _when(responses, effective, n)
    scores = _Cols(result.scores)
    table = _Cols(result.table)
    answers = _Cols(responses)
    tiers = {x.id: x for x in result.rules.spec.tiers}
    fired_sources = _rule_sources(result)
    entries: list[dict[str, Any]] = []
    for r in positions.tolist():
        basis: list[dict[str, str]] = []
        for scale in result.scales:
            spec = scale.spec
            derived: list[dict[str, str]] = []
            if response_ref_col(scale.id) in answers:
                ref = answers[response_ref_col(scale.id)][r]
                if isinstance(ref, str) and ref:
                    derived.append({"reference": ref})
            elif responses is not None:
                qr = _response(scale, answers, r, subj[r], when[r])
                if qr is not None:
                    entries.append(_entry(qr, bundle_type))
                    derived.append({"reference": f"urn:uuid:{qr['id']}"})
            status = str(scores[C.status_col(scale.id)][r]) if C.status_col(scale.id) in scores else ""
            members: list[dict[str, str]] = []

            for sc in spec.scores:
                col = C.score_col(scale.id, sc.id)
                if col not in scores:
                    continue
                x = scores[col][r]
                extra: dict[str, Any] = {}
                if pd.isna(x):
                    extra["dataAbsentReason"] = _ABSENT
                else:
                    extra["valueQuantity"] = {"value": _number(float(x)), **_UNIT}
                    bcol = C.band_col(scale.id, sc.id)
                    if bcol in scores and pd.notna(scores[bcol][r]):
                        band = str(scores[bcol][r])
                        label = _band_label(scale, sc.id, band, lang)
                        extra["interpretation"] = [{"coding": [{"system": f"{CS_BAND}/{scale.id}.{sc.id}", "code": band,
                                                                "display": _band_label(scale, sc.id, band, "en")}],
                                                    "text": label}]
                if status:
                    extra["note"] = [{"text": f"status: {status}"}]
                obs = _observation(_coding(scale, sc.id), subj[r], when[r], derived, extra)
                entries.append(_entry(obs, bundle_type))
                members.append({"reference": f"urn:uuid:{obs['id']}"})
            for crit in spec.critical:
                col = C.critical_col(scale.id, crit.id)
                if col not in scores:
                    continue
                v = scores[col][r]
                code = {"coding": [{"system": CS_SCORE, "code": col, "display": crit.label.get("en")}],
                        "text": crit.label.get(lang)}
                extra = {"dataAbsentReason": {**_ABSENT, "text": "item unanswered / 该题未作答"}} if pd.isna(v) else {
                    "valueBoolean": bool(v)}
                if not pd.isna(v) and bool(v):
                    extra["interpretation"] = [{"coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "AA",
                        "display": "Critical abnormal"}], "text": crit.label.get(lang)}]
                obs = _observation(code, subj[r], when[r], derived, extra)
                entries.append(_entry(obs, bundle_type))
                members.append({"reference": f"urn:uuid:{obs['id']}"})
            panel = _observation(_coding(scale, None), subj[r], when[r], derived, {"hasMember": members})
            entries.append(_entry(panel, bundle_type))
            basis.append({"reference": f"urn:uuid:{panel['id']}"})
        entries.append(_entry(_risk(result, table, r, subj[r], when[r], basis, tiers, fired_sources, lang), bundle_type))
    bundle: dict[str, Any] = {"resourceType": "Bundle", "id": _new_id(), "meta": {"security": _SECURITY},
                              "type": bundle_type, "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                              "entry": entries}
    return bundle


def _observation(code: dict[str, Any], subject: dict[str, Any], when: str | None, derived: list[dict[str, str]],
                 value: dict[str, Any]) -> dict[str, Any]:
    obs: dict[str, Any] = {"resourceType": "Observation", "id": _new_id(), "meta": {"security": _SECURITY},
                           "status": "final", "category": [_SURVEY], "code": code, "subject": subject}
    if when:
        obs["effectiveDateTime"] = when
    obs.update(value)
    if derived:
        obs["derivedFrom"] = list(derived)
    return obs


def _rule_sources(result: ScreeningResult) -> dict[str, str]:
    """Rule id (as in ``rules_fired``) → its source citation, where the rule set gives one."""
    spec = result.rules.spec
    out = {}
    for rule in spec.rules:
        if rule.source is not None:
            out[rule.id] = rule.source.ref
    if spec.critical_items.source is not None:
        for scale in result.scales:
            out[f"{scale.id}.critical"] = spec.critical_items.source.ref
    return out


def _risk(result: ScreeningResult, t: _Cols, r: int, subject: dict[str, Any], when: str | None, basis: list[dict[str, str]],
          tiers: dict[str, Any], sources: dict[str, str], lang: str) -> dict[str, Any]:
    tier = str(t["tier"][r])
    tdef = tiers[tier]
    preds = [{"outcome": {"text": "screening tier / 筛查分级"},
              "qualitativeRisk": {"coding": [{"system": CS_TIER, "code": tier, "display": tdef.label.get("en")}],
                                  "text": tdef.label.get(lang)}}]
    if bool(t["urgent"][r]):
        preds.append({"outcome": {"text": "crisis: evaluate at once / 危机：须立即评估"},
                      "qualitativeRisk": {"coding": [{"system": CS_TIER, "code": "urgent", "display": "urgent"}]}})
    if "rescreen" in t and bool(t["rescreen"][r]):
        preds.append({"outcome": {"text": "re-screen or ask in person / 须重测或当面了解"},
                      "qualitativeRisk": {"coding": [{"system": CS_TIER, "code": "rescreen", "display": "re-screen"}]}})
    notes = []
    for col in ("reasons_zh", "reasons_en"):
        if col in t and pd.notna(t[col][r]) and str(t[col][r]):
            notes.append({"text": str(t[col][r])})
    fired = [x for x in str(t["rules_fired"][r]).split(";") if x and x != "nan"] if "rules_fired" in t else []
    for rule in fired:
        notes.append({"text": f"rule {rule}" + (f" — source: {sources[rule]}" if rule in sources else "")})
    ra: dict[str, Any] = {"resourceType": "RiskAssessment", "id": _new_id(), "meta": {"security": _SECURITY},
                          "status": "final", "subject": subject,
                          "code": {"coding": [{"system": CS_TIER, "code": "screening-tier",
                                               "display": f"School mental-health screening tier ({result.rules.id})"}],
                                   "text": "心理健康筛查分级（筛查结果，不是诊断）"},
                          "method": {"coding": [{"system": f"{_BASE}/CodeSystem/ruleset", "code": result.rules.id,
                                                 "display": result.rules.spec.title.get("en")}],
                                     "text": f"rule set {result.rules.id} v{result.rules.spec.version}"},
                          "basis": basis, "prediction": preds}
    if when:
        ra["occurrenceDateTime"] = when
    if notes:
        ra["note"] = notes
    acts = f"actions_{lang}"
    if acts in t and pd.notna(t[acts][r]) and str(t[acts][r]):
        ra["mitigation"] = str(t[acts][r])
    return ra
