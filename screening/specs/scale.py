"""The scale definition format: strict, frozen pydantic models and no numpy.

Each model is one YAML block; ``docs/scale-format.md`` describes them and
``docs/scale.schema.json`` is generated from :class:`ScaleSpec`. Cross-field
consistency (item ids exist, bands tile the score range, examples score as
stated) is checked in :mod:`screening.loading`, which can report every problem
at once.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from .common import ItemId, Op, SnakeId, Source, StrictModel, Text

__all__ = [
    "SPEC_VERSION",
    "Option",
    "Item",
    "License",
    "Missing",
    "Rounding",
    "Transform",
    "Condition",
    "Band",
    "BandSet",
    "Bands",
    "Score",
    "CriticalItem",
    "ValidityCheck",
    "NormGroup",
    "NormSet",
    "Norms",
    "ItemPair",
    "Example",
    "Coding",
    "AnswerList",
    "Codes",
    "ChangeReliability",
    "ChangeSD",
    "ChangeExample",
    "ChangeSpec",
    "ScaleSpec",
]

SPEC_VERSION = 1


class Option(StrictModel):
    """One response option: the numeric value it scores and its label on the form."""

    value: float = Field(description="Score value of this option (before reverse keying).")
    label: Text
    aliases: tuple[str, ...] = Field(
        default=(), description="Other spellings a survey export may use for this option."
    )


class Item(StrictModel):
    """One questionnaire item. ``text`` may only be given when the licence allows it."""

    id: ItemId
    text: Text | None = None
    options: SnakeId = Field(default="default", description="Name of the option set in `option_sets`.")


class License(StrictModel):
    """What the rights holder allows; see the verdicts in scales-reference.md."""

    verdict: Literal["ship_text", "key_only", "do_not_ship"]
    text_redistributable: bool
    attribution: str = Field(min_length=3)
    electronic_admin_restricted: bool = False
    notes: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> License:
        if self.text_redistributable != (self.verdict == "ship_text"):
            raise ValueError("text_redistributable must be true exactly when verdict is ship_text")
        return self


class Missing(StrictModel):
    """Missing-data rule for one score.

    ``min_answered`` items must be answered, otherwise the score is NaN and the
    scale status ``insufficient``. With fewer than all items answered,
    ``impute`` says how the score is completed:

    - ``none``: not allowed (min_answered must then equal the number of items);
    - ``prorate``: mean of the answered (keyed) items times the number of items
      (for ``sum``), i.e. person-mean imputation; ``mean`` scores use the mean
      of answered items;
    - ``zero``: a blank counts as 0 — only where a manual says so (PSC-17).
    """

    min_answered: int | None = Field(default=None, ge=0, description="Default: all items.")
    impute: Literal["none", "prorate", "zero"] = "none"
    source: Source | None = None


class Rounding(StrictModel):
    """Rounding applied to the score after aggregation and transform."""

    method: Literal["none", "half_up", "half_even", "floor", "ceil"] = "none"
    digits: int = Field(default=0, ge=0, le=6)


class Transform(StrictModel):
    """A linear transform ``score * multiply + add`` (e.g. WHO-5 percentage = raw × 4)."""

    multiply: float = 1.0
    add: float = 0.0


class Condition(StrictModel):
    """A comparison against a fixed value, e.g. ``{op: ">=", value: 2}``."""

    op: Op
    value: float


class Band(StrictModel):
    """One band of a score, with explicit comparators on both ends.

    A band holds values ``x`` with ``x >= ge`` (or ``x > gt``) and ``x <= le``
    (or ``x < lt``). The lowest band may omit its lower bound and the highest
    its upper bound. Bands must tile the score's whole possible range on the
    real line, so prorated (non-integer) scores also land in exactly one band.
    """

    id: SnakeId
    label: Text
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Band:
        if self.ge is not None and self.gt is not None:
            raise ValueError("give at most one lower bound (ge or gt)")
        if self.le is not None and self.lt is not None:
            raise ValueError("give at most one upper bound (le or lt)")
        lo = self.lower
        hi = self.upper
        if lo is not None and hi is not None and (lo[0] > hi[0] or (lo[0] == hi[0] and not (lo[1] and hi[1]))):
            raise ValueError(f"band {self.id!r} is empty: lower bound above upper bound")
        return self

    @property
    def lower(self) -> tuple[float, bool] | None:
        """(value, inclusive) of the lower bound, or None when open."""
        if self.ge is not None:
            return (self.ge, True)
        if self.gt is not None:
            return (self.gt, False)
        return None

    @property
    def upper(self) -> tuple[float, bool] | None:
        """(value, inclusive) of the upper bound, or None when open."""
        if self.le is not None:
            return (self.le, True)
        if self.lt is not None:
            return (self.lt, False)
        return None


class BandSet(StrictModel):
    """A named set of bands from one source (e.g. the original cut-offs or a Chinese validation)."""

    source: Source
    population: str | None = Field(default=None, description="Who these cut-offs were validated in.")
    note: str | None = None
    bands: tuple[Band, ...] = Field(min_length=1)


class Bands(StrictModel):
    """Named band sets of a score and the one used by default (``why_default`` says why)."""

    default: SnakeId
    why_default: str | None = None
    sets: dict[SnakeId, BandSet] = Field(min_length=1)


class Score(StrictModel):
    """A subscale or total.

    Either ``items`` (keyed item values are aggregated) or ``scores`` (earlier
    scores of this scale are aggregated, e.g. SDQ total difficulties).
    ``method``: ``sum``, ``mean``, ``weighted_sum`` (with ``weights``),
    ``count`` (number of items meeting ``count_if`` on their *raw* value, e.g.
    SCL-90 positive items), ``sum_if`` (sum of the raw values of the items
    meeting ``count_if``), or ``ratio`` of two earlier scores (``scores: [a, b]``
    → a / b, NaN when b is 0; e.g. SCL-90 PSDI).
    """

    id: SnakeId
    label: Text
    items: tuple[ItemId, ...] | None = None
    scores: tuple[SnakeId, ...] | None = None
    method: Literal["sum", "mean", "weighted_sum", "count", "sum_if", "ratio"] = "sum"
    weights: dict[ItemId, float] | None = None
    count_if: Condition | None = None
    missing: Missing = Missing()
    transform: Transform | None = None
    rounding: Rounding = Rounding()
    direction: Literal["higher_worse", "higher_better"] = Field(
        default="higher_worse", description="Which end of the score means more difficulty."
    )
    bands: Bands | None = None
    source: Source | None = None

    @model_validator(mode="after")
    def _shape(self) -> Score:
        if (self.items is None) == (self.scores is None):
            raise ValueError("give exactly one of `items` or `scores`")
        if self.method == "weighted_sum" and not self.weights:
            raise ValueError("method weighted_sum needs `weights`")
        if self.method != "weighted_sum" and self.weights:
            raise ValueError("`weights` is only used with method weighted_sum")
        if self.method in ("count", "sum_if") and self.count_if is None:
            raise ValueError(f"method {self.method} needs `count_if`")
        if self.method not in ("count", "sum_if") and self.count_if is not None:
            raise ValueError("`count_if` is only used with methods count and sum_if")
        if self.scores is not None and self.method not in ("sum", "mean", "ratio"):
            raise ValueError("a score built from other scores can only use sum, mean or ratio")
        if self.method == "ratio" and (self.scores is None or len(self.scores) != 2):
            raise ValueError("method ratio needs `scores: [numerator, denominator]`")
        if self.missing.impute == "none" and self.missing.min_answered is not None:
            n = len(self.items or self.scores or ())
            if self.missing.min_answered != n:
                raise ValueError(
                    f"min_answered={self.missing.min_answered} allows missing items, "
                    "so say how they are handled (impute: prorate or zero)"
                )
        return self


class CriticalItem(StrictModel):
    """An item whose answer must be surfaced whatever the total (e.g. PHQ-9 item 9 ≥ 1)."""

    id: SnakeId
    item: ItemId
    op: Op
    value: float
    label: Text
    source: Source
    origin: Literal["manual", "project"] = Field(
        default="manual",
        description="manual: the scale's manual or guideline names it a crisis item (urgent); project: a design "
        "choice of this project (two-step rule: interview within days unless a rule set promotes it).",
    )


class ValidityCheck(StrictModel):
    """A check that makes the whole scale ``invalid`` when it fires (e.g. a lie score ≥ 7).

    With ``void_scores: true`` every other score of the scale is also left
    unscored (NaN) where the check fires — for manuals that say the whole
    questionnaire is then not to be scored (PSC-17: four or more blanks).
    """

    id: SnakeId
    score: SnakeId
    op: Op
    value: float
    label: Text
    source: Source
    void_scores: bool = False


class NormGroup(StrictModel):
    """Norms for one group of the reference sample.

    ``match`` gives the group's value for each ``by`` variable (as text).
    ``method: linear`` needs ``mean`` and ``sd`` (T = 50 + 10·(x − mean)/sd).
    ``method: table`` needs ``rows``: ``[raw, t, percentile]`` sorted by raw;
    a score takes the row with the largest raw ≤ the score.
    """

    match: dict[str, str]
    n: int = Field(ge=1)
    mean: float | None = None
    sd: float | None = Field(default=None, gt=0)
    rows: tuple[tuple[float, float, float], ...] | None = None


class NormSet(StrictModel):
    """A norm table for one score, by groups of the reference sample."""

    score: SnakeId
    by: tuple[str, ...] = Field(default=(), description="Group variables (column names by default).")
    method: Literal["linear", "table"]
    source: Source
    population: str | None = None
    groups: tuple[NormGroup, ...] = Field(min_length=1)


class Norms(StrictModel):
    default: SnakeId | None = None
    sets: dict[SnakeId, NormSet] = Field(min_length=1)


class ItemPair(StrictModel):
    """Two items that should be answered consistently (used by response-quality checks).

    ``relation: same`` — similar items; ``opposite`` — one is the reverse of the other
    (compared after reverse keying). ``max_diff`` is the largest keyed difference
    that still counts as consistent.
    """

    items: tuple[ItemId, ItemId]
    relation: Literal["same", "opposite"] = "same"
    max_diff: float = Field(ge=0)
    source: Source | None = None


class Example(StrictModel):
    """A worked example: item responses (values) and the results they must give.

    ``expected`` keys are output names without the scale prefix: ``total``,
    ``total.band``, ``status``, ``critical``, ``critical.item9``,
    ``validity.lie``; ``total.band@set_name`` checks a named band set other
    than the default. ``null`` in ``responses`` is an unanswered item.
    """

    id: SnakeId
    source: str = Field(min_length=3, description="Where the expected values come from.")
    responses: dict[ItemId, float | None]
    expected: dict[str, float | str | bool | None] = Field(min_length=1)


class Coding(StrictModel):
    """A code in a terminology (LOINC by default), e.g. ``{code: 44261-6, display: PHQ-9 total score}``."""

    code: str = Field(min_length=1, pattern=r"^\S+$")
    system: str | None = Field(default=None, description="Code system URI; default: the block's `system`.")
    display: str | None = None


class AnswerList(StrictModel):
    """Answer codes of one option set (e.g. LOINC LL358-3) and the option value each one scores.

    LOINC answer lists carry no weights, so the values come from the scale's
    own option set; every value must be one of its option values.
    """

    list: str | None = Field(default=None, description="Identifier of the answer list, e.g. LL358-3.")
    system: str | None = Field(default=None, description="Code system URI; default: the block's `system`.")
    codes: dict[str, float] = Field(min_length=1, description="Answer code → option value.")


class Codes(StrictModel):
    """Terminology codes of the scale, for exchange with FHIR systems (see docs/fhir.md).

    ``panel`` codes the whole questionnaire (LOINC panel, also the
    Questionnaire/Observation panel code), ``items`` each item, ``scores``
    each score, ``answers`` the answer codes of each option set.
    """

    system: str = Field(default="http://loinc.org", description="Default code system URI.")
    source: Source
    panel: Coding | None = None
    items: dict[ItemId, Coding] = Field(default_factory=dict)
    scores: dict[SnakeId, Coding] = Field(default_factory=dict)
    answers: dict[SnakeId, AnswerList] = Field(default_factory=dict)
class ChangeReliability(StrictModel):
    """Reliability of a score for the reliable change index (Jacobson & Truax 1991)."""

    value: float = Field(gt=0, lt=1, description="Coefficient r (alpha, omega or test-retest).")
    kind: Literal["alpha", "omega", "retest"]
    interval_days: int | None = Field(default=None, ge=1, description="Retest interval, for kind: retest.")
    population: str | None = None
    source: Source


class ChangeSD(StrictModel):
    """Reference standard deviation of the score (a published norm sample)."""

    value: float = Field(gt=0)
    population: str | None = None
    source: Source


class ChangeExample(StrictModel):
    """A worked reliable-change example checked when the file loads.

    ``expected`` keys: ``s_diff``, ``rc`` (minimum reliable change in score points),
    ``rci``, ``reliable`` (improved / no_change / deteriorated) and ``clinical``
    (recovered / improved / unchanged / deteriorated / harmed).
    """

    id: SnakeId
    source: str = Field(min_length=3)
    before: float
    after: float
    expected: dict[str, float | str] = Field(min_length=1)


class ChangeSpec(StrictModel):
    """Parameters of the Jacobson–Truax reliable change index for one score.

    ``S_diff = sqrt(2) · sd · sqrt(1 − r)``; ``RCI = (after − before) / S_diff``;
    change is reliable when ``|RCI| > criterion`` (1.96: 95 %). ``cutoff`` is the
    first score of the clinical range (for ``higher_worse`` scores: ``score ≥ cutoff``);
    moving out of it with a reliable improvement is "recovered" (Jacobson & Truax
    1991, J Consult Clin Psychol 59(1):12-19; Christensen & Mendoza 1986 for the √2).
    """

    score: SnakeId
    reliability: ChangeReliability
    sd: ChangeSD
    criterion: float = Field(default=1.96, gt=0)
    cutoff: float | None = None
    cutoff_source: Source | None = None
    examples: tuple[ChangeExample, ...] = ()

    @property
    def s_diff(self) -> float:
        return math.sqrt(2.0) * self.sd.value * math.sqrt(1.0 - self.reliability.value)

    def classify(self, before: float, after: float, *, higher_worse: bool = True) -> dict[str, float | str]:
        """The worked-example form of the index for one pair of scores (the archive uses a vectorised twin)."""
        s_diff = self.s_diff
        rci = (after - before) / s_diff
        better = -rci if higher_worse else rci
        reliable = "improved" if better > self.criterion else "deteriorated" if better < -self.criterion else "no_change"
        clinical = {"improved": "improved", "deteriorated": "deteriorated", "no_change": "unchanged"}[reliable]
        cutoff = self.cutoff
        if cutoff is not None:
            def case(x: float) -> bool:
                return x >= cutoff if higher_worse else x <= cutoff

            if reliable == "improved" and case(before) and not case(after):
                clinical = "recovered"
            elif reliable == "deteriorated" and not case(before) and case(after):
                clinical = "harmed"
        return {"s_diff": s_diff, "rc": self.criterion * s_diff, "rci": rci, "reliable": reliable, "clinical": clinical}


class ScaleSpec(StrictModel):
    """A whole scale definition file (``kind: scale``)."""

    kind: Literal["scale"]
    spec_version: Literal[1]
    id: SnakeId
    version: str = Field(min_length=1, description="Version of this definition file.")
    form: str = Field(min_length=3, description="The exact form and item order this file encodes.")
    title: Text
    abbreviation: str | None = None
    description: Text | None = None
    ages: str | None = None
    references: tuple[Source, ...] = Field(min_length=1)
    license: License
    option_sets: dict[SnakeId, tuple[Option, ...]] = Field(min_length=1)
    items: tuple[Item, ...] = Field(min_length=1)
    reverse: tuple[ItemId, ...] = ()
    scores: tuple[Score, ...] = Field(min_length=1)
    critical: tuple[CriticalItem, ...] = ()
    validity: tuple[ValidityCheck, ...] = ()
    norms: Norms | None = None
    pairs: tuple[ItemPair, ...] = ()
    examples: tuple[Example, ...] = Field(min_length=1)
    codes: Codes | None = None
    change: tuple[ChangeSpec, ...] = ()

    def item_ids(self) -> list[str]:
        return [i.id for i in self.items]

    def score(self, score_id: str) -> Score:
        for s in self.scores:
            if s.id == score_id:
                return s
        raise KeyError(score_id)
