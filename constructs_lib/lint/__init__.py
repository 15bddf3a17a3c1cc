"""``netfence lint``: checks on NetworkPolicies as written, before anyone applies them.

Reads every format the loaders read; see ``finding.RULES`` for the checks
and their stable ids, ``reports/lint_*`` for the output formats.
"""

from __future__ import annotations

from constructs_lib.lint.finding import RULES, Finding, Rule, Severity
from constructs_lib.lint.lint import LintResult, lint_paths

__all__ = ["RULES", "Finding", "LintResult", "Rule", "Severity", "lint_paths"]
