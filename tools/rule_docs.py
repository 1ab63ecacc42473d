"""Render each built-in rule set as a documentation page: every rule, why it exists and its source.

    python -m tools.rule_docs docs/rules

A test regenerates the pages and fails when ``docs/rules/`` is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from screening.specs.common import Text
from screening.specs.rules import RuleSetSpec
from screening.tiering.ruleset import RuleSet, list_rules, load_rules

__all__ = ["render_rule_set", "render", "main"]


def _t(text: Text | None) -> str:
    if text is None:
        return ""
    return " / ".join(x for x in (text.zh, text.en) if x)


def _cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ").strip()


def render_rule_set(rs: RuleSet) -> str:
    s = rs.spec
    out = [f"# {_t(s.title)}", "", f"Rule set `{s.id}` version {s.version}. Content hash `{rs.content_hash}`.", ""]
    out += ["*Screening, not diagnosis.* Generated from `tiering_rules/" + s.id + ".yaml` by "
            "`python -m tools.rule_docs docs/rules`; do not edit by hand.", ""]
    if s.description:
        out += [s.description.zh or "", "", s.description.en or "", ""]
    out += ["## Tiers (lowest first)", "", "| tier | label | colour | meaning |", "|---|---|---|---|"]
    for t in s.tiers:
        out.append(f"| `{t.id}` | {_cell(_t(t.label))} | `{t.colour}` | {_cell(_t(t.description))} |")
    out += ["", "## How a tier is decided", "",
            "1. Every rule whose condition is *definitely* true fires. A blank answer is unknown, never \"no\": "
            "comparisons use the score's bounds over the possible answers to its blank items (see docs/tiering.md).",
            "2. The base tier is the highest tier set by a firing rule or the critical-item policy "
            "(data quality sets a tier only where the table below names one).",
            "3. Escalations apply after that (the largest one that fired), capped at the top tier.",
            "4. Urgent conditions put the student in the top tier; nothing lowers them.",
            "5. A rule, crisis item or critical item that is only *possibly* true (the blanks could make it true) "
            "sets no tier: it puts the student on the re-screen / ask-in-person list (`rescreen`) with its reason "
            "(an unanswered crisis item: `ask_today`), wherever it could raise the student's outcome.", ""]
    ci = s.critical_items
    out += ["## Critical items (two-step crisis rule)", "",
            f"**Step 1 — crisis items** (marked `origin: manual` in the scale file: the manual or guideline names "
            f"them, e.g. PHQ-9 item 9 ≥ 1, PHQ-A items 9/12/13){' and the promoted items below' if ci.promote else ''}: "
            f"fired → at least `{ci.tier}`" + (", **urgent**" if ci.urgent else "") + f". Reason shown: {_t(ci.reason)}.", ""]
    if ci.source:
        out += [f"Source: {ci.source.ref}", ""]
    if ci.project is not None:
        pj = ci.project
        out += [f"**Step 2 — project-choice items** (`origin: project`: chosen by this project, not by a manual): "
                f"fired → at least `{pj.tier}`, not urgent, and on the re-screen / ask list for an interview within "
                f"{pj.interview_days} days (`follow_up_days` ≤ {pj.interview_days}). Reason shown: {_t(pj.reason)}. "
                "The interview decides whether the crisis response follows. A district promotes an item to step 1 "
                "by listing it under `critical_items.promote` (e.g. `dsrsc.item10`).", ""]
        if pj.source:
            out += [f"Source: {pj.source.ref}", ""]
    else:
        out += ["Project-choice items (`origin: project`) are treated as crisis items here (no `project:` step).", ""]
    if ci.promote:
        out += ["Promoted to crisis items: " + ", ".join(f"`{x}`" for x in ci.promote), ""]
    out += [f"Unanswered critical item → re-screen / ask list: {_t(ci.unanswered_reason)} (never a silent lowest tier).", ""]
    out += _critical_table(s)
    out += ["## Insufficient or invalid data", "", "| status | tier | re-screen | applies to | reason |", "|---|---|---|---|---|"]
    for which in ("insufficient", "invalid"):
        p = getattr(s.data_quality, which)
        tier = f"`{p.tier}`" if p.tier else "none (keeps the colour the answers give)"
        scope = "scales a rule or the critical policy reads" if p.scales == "read" else "every scale screened"
        out.append(f"| {which} | {tier} | {'yes' if p.rescreen else 'no'} | {scope} | {_cell(_t(p.reason))} |")
    src_dq = s.data_quality.insufficient.source
    if src_dq:
        out += ["", f"Source: {src_dq.ref}"]
    out += ["", "## Rules", "", "| rule | when | effect | reason | source (why this rule exists) |", "|---|---|---|---|---|"]
    for r in s.rules:
        effect = f"at least `{r.tier}`" if r.tier else (f"escalate +{r.escalate}" if r.escalate else "")
        if r.urgent:
            effect = (effect + ", " if effect else "") + "**urgent**"
        src = r.source.ref if r.source else ""
        out.append(f"| `{r.id}` | `{_cell(r.when)}` | {effect} | {_cell(_t(r.reason))} | {_cell(src)} |")
    if s.notes:
        out += ["", "## Notes", ""]
        out += [f"- {_cell(_t(note))}" for note in s.notes]
    if s.flags:
        out += ["", "## Risk-group flags", "", "| flag | label |", "|---|---|"]
        out += [f"| `{f.id}` | {_cell(_t(f.label))} |" for f in s.flags]
    roles = {r.id: r.label for r in s.roles}
    out += ["", "## Actions", "", "| for | action | responsible | hours/month per role | follow-up (days) | parents | referral |",
            "|---|---|---|---|---|---|---|"]
    for key, acts in s.actions.items():
        for a in acts:
            who = ", ".join(_t(roles[x]) for x in a.roles)
            follow = "" if a.follow_up_days is None else str(a.follow_up_days)
            out.append(f"| `{key}` | {_cell(_t(a.text))} | {_cell(who)} | {a.hours_per_month:g} | {follow} | "
                       f"{'yes' if a.contact_parents else ''} | {'yes' if a.referral else ''} |")
    out += ["", "## References", ""]
    out += [f"- {ref.ref}" + (f" ({ref.note})" if ref.note else "") for ref in s.references]
    return "\n".join(out) + "\n"


def _critical_table(s: RuleSetSpec) -> list[str]:
    """The critical items of the built-in scales and what this rule set does with each."""
    from screening.scoring import list_scales, load_scale

    ci = s.critical_items
    rows = ["| scale | item | condition | origin | under this rule set |", "|---|---|---|---|---|"]
    for sid in list_scales():
        for c in load_scale(sid).spec.critical:
            step1 = c.origin == "manual" or f"{sid}.{c.id}" in ci.promote or ci.project is None
            effect = (f"`{ci.tier}`" + (", urgent" if ci.urgent else "")) if step1 else (
                f"`{ci.project.tier}`, interview within {ci.project.interview_days} days")  # type: ignore[union-attr]
            rows.append(f"| `{sid}` | `{c.id}` | item {c.item} {c.op} {c.value:g} | {c.origin} | {effect} |")
    return rows + [""]


def render() -> dict[str, str]:
    """File name → page text for every built-in rule set, plus an index."""
    pages = {}
    index = ["# Built-in rule sets", "", "| id | title | tiers | rules |", "|---|---|---|---|"]
    for rid in list_rules():
        rs = load_rules(rid)
        pages[f"{rid}.md"] = render_rule_set(rs)
        index.append(f"| [`{rid}`]({rid}.md) | {_cell(_t(rs.spec.title))} | {' < '.join(rs.tiers)} | {len(rs.spec.rules)} |")
    pages["index.md"] = "\n".join(index) + "\n"
    return pages


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else Path("docs/rules")
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in render().items():
        (folder / name).write_text(text, encoding="utf-8")
        print(f"wrote {folder / name}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
