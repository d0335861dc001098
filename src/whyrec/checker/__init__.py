"""The deterministic consistency checker: one verdict per claim, with the rule that decided it, a score and the
evidence spans behind it."""

from whyrec.checker.audit import check, parse_reason
from whyrec.checker.claims import split_claims
from whyrec.checker.engine import RuleChecker

__all__ = ["RuleChecker", "check", "parse_reason", "split_claims"]
