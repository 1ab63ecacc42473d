"""Audit a rule set before a screening: simulate answers, screen them, and report the expected workload.

``rules.py`` holds :func:`audit_rules`, :func:`simulate_answers` and the ``screening audit`` sub-command.
"""

from .rules import DEFAULT_CRITICAL_RATES, DEFAULT_FLAG_RATES, AuditReport, add_parser, audit_rules, simulate_answers

__all__ = ["simulate_answers", "audit_rules", "AuditReport", "DEFAULT_FLAG_RATES", "DEFAULT_CRITICAL_RATES", "add_parser"]
