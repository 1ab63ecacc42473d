"""Audit a rule set before a screening: simulate answers, screen them, and report the expected workload.

``rules.py`` holds :func:`audit_rules` and :func:`simulate_answers`; the ``screening audit`` sub-command is ``cli/audit.py``.
"""

from .rules import DEFAULT_CRITICAL_RATES, DEFAULT_FLAG_RATES, AuditReport, audit_rules, simulate_answers

__all__ = ["simulate_answers", "audit_rules", "AuditReport", "DEFAULT_FLAG_RATES", "DEFAULT_CRITICAL_RATES"]
