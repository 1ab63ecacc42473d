"""Staff time a screening implies, set against the staff a school has (see docs/reports.md).

Each action of the rule set names the responsible roles and the hours per
month each of them spends per student (``hours_per_month``). A yellow student
under the default rules needs two named adults ("二包一": class teacher and
psychology teacher, 2 h/month each), an orange one three ("三包一": a school
leader, the class teacher and the psychology teacher, 4 h/month each), and an
urgent one the crisis actions on top. Roles that are not school staff
(parents) are left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._params import InvalidParameterError
from ..columns import DISCLAIMER
from ._common import action_combo, combo_actions
from .summary import resolve_by

if TYPE_CHECKING:
    from ..screener.result import ScreeningResult

__all__ = ["STAFFING_NORMS", "StaffingNorm", "workload"]


@dataclass(frozen=True)
class StaffingNorm:
    """A staffing rule from a policy: at least ``minimum`` of ``role``, and one per ``per_students`` students,
    for schools with at least ``min_enrolment`` students."""

    id: str
    role: str
    minimum: int
    per_students: int | None
    min_enrolment: int
    label_zh: str
    label_en: str
    source: str

    def required(self, enrolment: np.ndarray) -> np.ndarray:
        per = np.zeros(len(enrolment)) if self.per_students is None else np.ceil(enrolment / self.per_students)
        need = np.maximum(self.minimum, per)
        return np.where(enrolment >= self.min_enrolment, need, 0).astype(np.int64)


#: Staffing norms named by the policies in ``shared/policy`` (psychology teachers per school).
STAFFING_NORMS: dict[str, StaffingNorm] = {
    n.id: n
    for n in (
        StaffingNorm("one_per_school", "psychology_teacher", 1, None, 0,
                     "每校至少1名专职心理健康教师", "At least one full-time psychology teacher per school",
                     "许昌市教育局 2023 实施方案 §(六): 每所中小学校按学段至少配备1名专职心理健康教师"),
        StaffingNorm("ganzhou_1_800", "psychology_teacher", 1, 800, 0,
                     "师生比1:800，至少1名专职心理健康教师", "1 psychology teacher per 800 students, at least one",
                     "赣市府办字〔2023〕40号 §(七)1: 原则上按照师生比1:800配备专职教师，至少配有1名专职教师"),
        StaffingNorm("jinan_500", "psychology_teacher", 1, None, 500,
                     "500人以上学校至少1名专职心理健康教师", "Schools of 500+ students: at least one full-time psychology teacher",
                     "济教发〔2021〕20号 §4: 办学规模500人以上的中小学校至少配备1名专职心理健康教师"),
    )
}


def _role_matrices(result: ScreeningResult) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Staff roles, and per combo code × role: whether the role is named (0/1) and its hours per month."""
    roles = [r.id for r in result.rules.spec.roles if r.staff]
    combos = combo_actions(result)
    named = np.zeros((len(combos), len(roles)))
    hours = np.zeros((len(combos), len(roles)))
    for i, acts in enumerate(combos):
        for a in acts:
            for r in a.roles:
                if r in roles:
                    named[i, roles.index(r)] = 1
                    hours[i, roles.index(r)] += a.hours_per_month
    return roles, named, hours


def workload(
    result: ScreeningResult,
    by: Sequence[str] | str | None = None,
    *,
    staff: pd.DataFrame | None = None,
    capacity_hours: Mapping[str, float] | None = None,
    norms: Sequence[str | StaffingNorm] = (),
) -> pd.DataFrame:
    """Students each role must follow and the hours per month that takes, per group (default per school).

    Parameters
    ----------
    result : ScreeningResult
    by : str or list, optional
        Group columns (default ``school`` if kept, else the whole population).
    staff : DataFrame, optional
        One row per group with the ``by`` columns and, per role id (e.g.
        ``psychology_teacher``, ``class_teacher``, ``school_leader``), the
        number of people; optionally ``enrolment`` (students in the school,
        for the norms; default the number screened). When ``class_teacher``
        is not given and ``class`` is a group column, one class teacher per
        class is assumed.
    capacity_hours : mapping, optional
        Role id → hours per month one person can give to this work (your
        school's own figure). With it the table says where time falls short.
    norms : list, optional
        Staffing norms to check: ids of :data:`STAFFING_NORMS`
        (``"one_per_school"``, ``"ganzhou_1_800"``, ``"jinan_500"``) or
        :class:`StaffingNorm` objects. Needs the role's staff count.

    Returns
    -------
    DataFrame
        The ``by`` columns, ``students``, then per staff role ``{role}.students``
        (students the role follows), ``{role}.hours`` (per month) and, with
        staff counts, ``{role}.staff``, ``{role}.students_per_staff``,
        ``{role}.hours_per_staff``; with capacities ``{role}.available`` and
        ``{role}.shortfall`` (hours missing per month, 0 when enough);
        per norm ``norm.{id}.required`` and ``norm.{id}.met``.
        Not suppressed: a planning table for the people who already hold
        the lists, not for publication.
    """
    func = "workload"
    if by is None:
        cols = ["school"] if "school" in result.groups.columns else []
    else:
        cols = resolve_by(result, by, func)
    norm_objs = []
    for nm in norms:
        if isinstance(nm, StaffingNorm):
            norm_objs.append(nm)
        elif nm in STAFFING_NORMS:
            norm_objs.append(STAFFING_NORMS[nm])
        else:
            raise InvalidParameterError(
                f"The 'norms' parameter of {func} must list ids of {sorted(STAFFING_NORMS)} or StaffingNorm objects. "
                f"Got {nm!r} instead."
            )
    roles, named, hours = _role_matrices(result)
    combo = action_combo(result)
    n_combo = named.shape[0]
    if cols:
        gcodes, guniq = pd.factorize(pd.MultiIndex.from_frame(result.groups[cols]), sort=True)
        keys = pd.DataFrame(list(guniq), columns=cols)
    else:
        gcodes, keys = np.zeros(len(result), dtype=np.intp), pd.DataFrame(index=[0])
    n_groups = len(keys)
    per_combo = np.bincount(gcodes * n_combo + combo, minlength=n_groups * n_combo).reshape(n_groups, n_combo)
    out = keys.copy()
    out["students"] = per_combo.sum(axis=1)
    for j, r in enumerate(roles):
        out[f"{r}.students"] = per_combo @ named[:, j]
        out[f"{r}.hours"] = per_combo @ hours[:, j]
    out = out.astype({f"{r}.students": "int64" for r in roles})

    staff_counts: dict[str, np.ndarray] = {}
    enrolment = out["students"].to_numpy(dtype=float)
    notes = []
    if staff is not None:
        if not isinstance(staff, pd.DataFrame) or any(c not in staff.columns for c in cols):
            raise InvalidParameterError(
                f"The 'staff' parameter of {func} must be a DataFrame with the group columns {cols} and one column per role. "
                f"Got {type(staff).__name__} instead."
            )
        unknown = [c for c in staff.columns if c not in cols and c not in roles and c != "enrolment"]
        if unknown:
            raise InvalidParameterError(
                f"The 'staff' parameter of {func} must have columns {cols}, role ids {roles} and optionally 'enrolment'. "
                f"Got unknown columns {unknown} instead."
            )
        if staff.duplicated(cols).any():
            raise InvalidParameterError(f"The 'staff' parameter of {func} must have one row per group. Got repeated groups instead.")
        merged = out[cols].merge(staff, on=cols, how="left") if cols else staff.iloc[[0]].reset_index(drop=True)
        for r in roles:
            if r in merged.columns:
                staff_counts[r] = merged[r].to_numpy(dtype=float, na_value=np.nan)
        if "enrolment" in merged.columns:
            e = merged["enrolment"].to_numpy(dtype=float, na_value=np.nan)
            enrolment = np.where(np.isnan(e), enrolment, e)
    if "class_teacher" in roles and "class_teacher" not in staff_counts and "class" in result.groups.columns:
        class_cols = [c for c in ("district", "school", "grade", "class") if c in result.groups.columns]
        classes = result.groups[class_cols].drop_duplicates()
        if cols:
            n_cls = classes.groupby(cols, dropna=False).size()
            staff_counts["class_teacher"] = n_cls.reindex(pd.MultiIndex.from_frame(out[cols])).to_numpy(dtype=float)
        else:
            staff_counts["class_teacher"] = np.array([float(len(classes))])
        notes.append("class_teacher.staff: one class teacher per class assumed")
    for r in roles:
        if r not in staff_counts:
            continue
        s = staff_counts[r]
        out[f"{r}.staff"] = pd.array(s, dtype="Float64")
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"{r}.students_per_staff"] = pd.array(np.where(s > 0, out[f"{r}.students"] / s, np.nan), dtype="Float64")
            out[f"{r}.hours_per_staff"] = pd.array(np.where(s > 0, out[f"{r}.hours"] / s, np.nan), dtype="Float64")
        if capacity_hours and r in capacity_hours:
            avail = s * float(capacity_hours[r])
            out[f"{r}.available"] = pd.array(avail, dtype="Float64")
            out[f"{r}.shortfall"] = pd.array(np.maximum(out[f"{r}.hours"].to_numpy() - avail, 0.0), dtype="Float64")
    for nm in norm_objs:
        req = nm.required(enrolment)
        out[f"norm.{nm.id}.required"] = req
        have = staff_counts.get(nm.role)
        met = pd.array(np.zeros(len(out), dtype=bool), dtype="boolean")
        if have is None:
            met[:] = pd.NA
        else:
            met[:] = have >= req
            met[np.isnan(have)] = pd.NA
        out[f"norm.{nm.id}.met"] = met
    out.attrs["screening"] = {
        "kind": "workload",
        "by": cols,
        "hours": "per month, from the rule set's hours_per_month per responsible role and student",
        "notes": notes,
        "norms": {nm.id: nm.source for nm in norm_objs},
        "disclaimer": dict(DISCLAIMER),
        "provenance": dict(result.provenance),
    }
    return out
