"""The action table: what happens for every outcome (tier, urgent, re-screen), built once per rule set.

A student's *outcome code* is ``tier * 4 + urgent * 2 + rescreen`` (tier = position in the rule set's
tiers, lowest 0). Tiering computes the code once per student and stores it in the result
(:attr:`screening.ScreeningResult.action_codes`); the action texts, follow-up days, responsible
people, parent contact and referral of each code are in the rule set's :class:`ActionTable`
(:attr:`screening.tiering.ruleset.RuleSet.action_table`), built once and cached on the rule set.
Reports look per-student values up through the codes (no loop over students, no rebuilding).

>>> import screening as sc
>>> table = sc.load_rules("default").action_table
>>> code = table.code_of("orange", urgent=True, rescreen=False)
>>> code, table.outcome(code)
(10, ('orange', True, False))
>>> [a.id for a in table.actions[code]]
['crisis', 'three_adults']
>>> float(table.follow_up_days[code])
0.0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..engine.cats import from_codes

if TYPE_CHECKING:
    from ..specs.common import Text
    from ..specs.rules import Action, RuleSetSpec

__all__ = ["ActionTable", "build_action_table", "encode_outcomes", "LANGS"]

#: Languages every text of the table is built in.
LANGS = ("zh", "en")


def encode_outcomes(tier: npt.NDArray[np.integer[Any]], urgent: npt.NDArray[np.bool_],
                    rescreen: npt.NDArray[np.bool_]) -> npt.NDArray[np.int16]:
    """Outcome code per student: ``tier * 4 + urgent * 2 + rescreen`` (int16: small and fast to take with)."""
    code = np.asarray(tier).astype(np.int16) * np.int16(4)
    code += np.asarray(urgent, dtype=bool).view(np.int8) * np.int16(2)
    code += np.asarray(rescreen, dtype=bool).view(np.int8)
    return code


def _actions_text(acts: Sequence[Action], roles: Mapping[str, Text], lang: str) -> str:
    sep = "、" if lang == "zh" else ", "
    parts = []
    for a in acts:
        who = sep.join(roles[r].get(lang) for r in a.roles)
        parts.append(f"{a.text.get(lang)}" + (f" [{who}]" if who else ""))
    return "; ".join(parts)


@dataclass(frozen=True, eq=False)
class _Column:
    """One text per outcome code as a categorical: codes remapped once to the category positions."""

    remap: npt.NDArray[np.int16] | None  # None: one distinct text per code, the codes are the positions
    categories: tuple[str, ...]

    @classmethod
    def of(cls, texts: Sequence[str], *, sort: bool = False) -> _Column:
        """Categories in code order when the texts are distinct (unless ``sort``), else sorted."""
        if not sort and len(set(texts)) == len(texts):
            return cls(None, tuple(texts))
        cats, inverse = np.unique(np.array(texts, dtype=object), return_inverse=True)
        return cls(inverse.ravel().astype(np.int16), tuple(str(c) for c in cats))

    def column(self, codes: npt.NDArray[np.integer[Any]]) -> pd.Categorical:
        return from_codes(codes if self.remap is None else self.remap[codes], self.categories)


@dataclass(frozen=True, eq=False)
class ActionTable:
    """Per outcome code (``tier * 4 + urgent * 2 + rescreen``): the actions and what follows from them.

    Attributes
    ----------
    tiers : tuple of str
        The rule set's tier ids, lowest first.
    actions : tuple
        Per code, the :class:`~screening.specs.rules.Action` objects in order: the urgent actions
        (when urgent), the tier's, then the re-screen actions (when re-screened).
    text : mapping
        Language → per code, the actions as one line (``text [roles]; …``).
    responsible : mapping
        Language → per code, the people the actions name, in order, without repeats.
    follow_up_days : ndarray
        Per code, the soonest follow-up an action sets (NaN: none).
    contact_parents, referral : ndarray of bool
        Per code, whether an action contacts the parents / refers to a professional.
    """

    tiers: tuple[str, ...]
    actions: tuple[tuple[Action, ...], ...]
    text: Mapping[str, tuple[str, ...]]
    responsible: Mapping[str, tuple[str, ...]]
    follow_up_days: npt.NDArray[np.float64]
    contact_parents: npt.NDArray[np.bool_]
    referral: npt.NDArray[np.bool_]
    _text_columns: Mapping[str, _Column]
    _responsible_columns: Mapping[str, _Column]

    def __len__(self) -> int:
        return len(self.actions)

    def code_of(self, tier: str, urgent: bool = False, rescreen: bool = False) -> int:
        """The outcome code of one (tier, urgent, rescreen)."""
        return self.tiers.index(tier) * 4 + int(urgent) * 2 + int(rescreen)

    def outcome(self, code: int) -> tuple[str, bool, bool]:
        """(tier, urgent, rescreen) of an outcome code."""
        return self.tiers[code // 4], bool(code & 2), bool(code & 1)

    def text_column(self, codes: npt.NDArray[np.integer[Any]], lang: str) -> pd.Categorical:
        """The actions of each student (a categorical: one text per outcome, never one per student)."""
        return self._text_columns[lang].column(codes)

    def responsible_column(self, codes: npt.NDArray[np.integer[Any]], lang: str) -> pd.Categorical:
        """The people responsible for each student (a categorical, one text per outcome)."""
        return self._responsible_columns[lang].column(codes)


def build_action_table(spec: RuleSetSpec) -> ActionTable:
    """The action table of a rule set (see :attr:`screening.tiering.ruleset.RuleSet.action_table`, which caches it)."""
    tiers = tuple(spec.tier_ids())
    roles = {r.id: r.label for r in spec.roles}
    actions: list[tuple[Action, ...]] = []
    for t in tiers:
        for urgent in (0, 1):
            for rescreen in (0, 1):
                acts = list(spec.actions.get(t, ()))
                if urgent:
                    acts = list(spec.actions.get("urgent", ())) + acts
                if rescreen:
                    acts += list(spec.actions.get("rescreen", ()))
                actions.append(tuple(acts))
    text = {lang: tuple(_actions_text(per_code, roles, lang) for per_code in actions) for lang in LANGS}
    responsible: dict[str, tuple[str, ...]] = {}
    for lang in LANGS:
        sep = "、" if lang == "zh" else ", "
        names = []
        for per_code in actions:
            seen: list[str] = []
            for a in per_code:
                seen += [r for r in a.roles if r not in seen]
            names.append(sep.join(roles[r].get(lang) for r in seen))
        responsible[lang] = tuple(names)
    follow = []
    for per_code in actions:
        days = [a.follow_up_days for a in per_code if a.follow_up_days is not None]
        follow.append(float(min(days)) if days else np.nan)
    return ActionTable(
        tiers=tiers,
        actions=tuple(actions),
        text=text,
        responsible=responsible,
        follow_up_days=np.asarray(follow, dtype=np.float64),
        contact_parents=np.array([any(a.contact_parents for a in per_code) for per_code in actions], dtype=bool),
        referral=np.array([any(a.referral for a in per_code) for per_code in actions], dtype=bool),
        _text_columns={lang: _Column.of(text[lang]) for lang in LANGS},
        _responsible_columns={lang: _Column.of(responsible[lang], sort=True) for lang in LANGS},
    )
