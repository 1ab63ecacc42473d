"""The rule-set format (``kind: rules``): tiers, risk-group flags, rules and actions.

Pure pydantic, no numpy. Conditions are kept as text here; they are parsed
and type-checked against the scales by :mod:`screening.tiering`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .common import SnakeId, Source, StrictModel, Text

__all__ = [
    "Tier",
    "Role",
    "Flag",
    "Action",
    "Rule",
    "CriticalPolicy",
    "ProjectCriticalPolicy",
    "DataPolicy",
    "DataQuality",
    "RuleSetSpec",
    "STANDARD_FLAGS",
]

#: Risk groups named by the policies (see shared/policy/README.md). A rule set
#: may declare any of these and its own.
STANDARD_FLAGS = (
    "left_behind",
    "single_parent",
    "bullied",
    "poverty",
    "migrant",
    "disability",
    "bereaved",
    "known_disorder",
)


class Tier(StrictModel):
    """One level of the archive, listed from lowest to highest concern."""

    id: SnakeId
    label: Text
    colour: str = Field(pattern=r"^#[0-9a-fA-F]{6}$", description="Display colour, e.g. #f9a825.")
    description: Text | None = None


class Role(StrictModel):
    """A responsible person named in actions (班主任, 心理健康教师, 校级领导, 家长 …)."""

    id: SnakeId
    label: Text
    staff: bool = Field(default=True, description="False for people outside the school staff (parents).")


class Flag(StrictModel):
    """A risk-group flag the rule set understands (a boolean column per student)."""

    id: SnakeId
    label: Text
    source: Source | None = None


class Action(StrictModel):
    """Something people do for a student in a tier (or urgently, or to re-screen)."""

    id: SnakeId
    text: Text
    roles: tuple[SnakeId, ...] = ()
    hours_per_month: float = Field(
        default=0.0, ge=0, description="Assumed time per responsible staff role per student per month (for workload)."
    )
    follow_up_days: int | None = Field(default=None, ge=0, description="Days until the next follow-up or re-screen.")
    contact_parents: bool = False
    referral: bool = Field(default=False, description="Refer to a professional institution (转介).")
    source: Source | None = None


class Rule(StrictModel):
    """``when`` a condition holds, set at least ``tier``, or ``escalate`` by N levels; ``urgent`` for crises."""

    id: SnakeId
    when: str = Field(min_length=1)
    tier: SnakeId | None = None
    escalate: int | None = Field(default=None, ge=1)
    urgent: bool = False
    reason: Text
    source: Source | None = None

    @model_validator(mode="after")
    def _effect(self) -> Rule:
        if self.tier is not None and self.escalate is not None:
            raise ValueError("a rule sets a minimum `tier` or `escalate`s, not both")
        if self.tier is None and self.escalate is None and not self.urgent:
            raise ValueError("a rule needs an effect: `tier`, `escalate` or `urgent: true`")
        if self.urgent and self.escalate is not None:
            raise ValueError("an urgent rule puts the student in the top tier; `escalate` has no meaning there")
        return self


class ProjectCriticalPolicy(StrictModel):
    """Step two of the two-step crisis rule: what a fired *project-choice* critical item does.

    Scale files mark each critical item ``origin: manual`` (the manual says it is a crisis item, e.g.
    PHQ-9 item 9) or ``origin: project`` (chosen by this project, e.g. DSRSC item 10 "sometimes").
    A fired project-choice item sets at least ``tier`` and puts the student on the re-screen / ask list
    for an interview within ``interview_days`` — not the immediate crisis response — unless the rule
    set lists it under ``critical_items.promote``.
    """

    tier: SnakeId
    interview_days: int = Field(default=7, ge=0, description="Interview the student within this many days.")
    reason: Text
    source: Source | None = None


_UNANSWERED = Text(
    zh="危机条目未作答，今天当面询问",
    en="Crisis item left unanswered: ask the student in person today",
)


class CriticalPolicy(StrictModel):
    """What a fired critical item (e.g. PHQ-9 item 9 ≥ 1) does, for every scale screened."""

    tier: SnakeId
    urgent: bool = True
    reason: Text
    source: Source | None = None
    unanswered_reason: Text = Field(
        default=_UNANSWERED,
        description="Reason on the re-screen / ask list when a critical item is unanswered (never a silent green).",
    )
    project: ProjectCriticalPolicy | None = Field(
        default=None, description="What fired project-choice critical items do (default: the same as manual ones)."
    )
    promote: tuple[str, ...] = Field(
        default=(), description="Project-choice items (`scale.critical_id`, e.g. `dsrsc.item10`) treated as crisis items."
    )


class DataPolicy(StrictModel):
    """What insufficient or invalid data lead to: never a silent lowest tier.

    By default a student goes on the re-screen list (``rescreen: true``) and keeps the colour the
    answered items give: a blank is not a mental-health finding. A district that wants data quality
    to set a colour writes ``tier:``. ``scales: read`` (default) applies the policy only to scales
    a rule or the critical-item policy reads; ``all`` to every scale screened. ``rescreen_if:
    could_change`` lists only the students whose outcome the blanks could change (for scales whose
    manual gives no missing-data rule, this keeps "every item required" without a re-screen list of
    most of the school).
    """

    tier: SnakeId | None = None
    rescreen: bool = True
    rescreen_if: Literal["always", "could_change"] = Field(
        default="always",
        description="always: every such student goes on the re-screen list; could_change: only where the blank "
        "answers could change the outcome (a rule or critical item is possibly true).",
    )
    reason: Text
    scales: Literal["read", "all"] = "read"
    source: Source | None = None


class DataQuality(StrictModel):
    insufficient: DataPolicy
    invalid: DataPolicy


class RuleSetSpec(StrictModel):
    """A whole rule-set file (``kind: rules``)."""

    kind: Literal["rules"]
    spec_version: Literal[1]
    id: SnakeId
    version: str = Field(min_length=1)
    title: Text
    description: Text | None = None
    references: tuple[Source, ...] = Field(min_length=1)
    tiers: tuple[Tier, ...] = Field(min_length=2)
    roles: tuple[Role, ...] = ()
    flags: tuple[Flag, ...] = ()
    critical_items: CriticalPolicy
    data_quality: DataQuality
    rules: tuple[Rule, ...] = ()
    actions: dict[SnakeId, tuple[Action, ...]] = Field(
        description="Per tier id, plus `urgent` and `rescreen`: what is done for the student."
    )
    notes: tuple[Text, ...] = Field(
        default=(), description="Statements shown on the rule-set page (e.g. scales whose sources give no orange route)."
    )
    extra_scales: dict[SnakeId, str] = Field(
        default_factory=dict, description="Scale id → YAML path (relative to this file) for non-built-in scales."
    )

    def tier_ids(self) -> list[str]:
        return [t.id for t in self.tiers]
