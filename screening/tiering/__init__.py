"""Tiering: rule sets (YAML) compiled to vectorised predicates that place students in tiers."""

from .ruleset import RuleSet, list_rules, load_rules

__all__ = ["RuleSet", "list_rules", "load_rules"]
