"""Preflight: everything raks can check before it writes anything (issue 8).

Rows of (region, check, ok/warn/fail, figure, what to do). `up` runs it first and writes nothing
when a row fails; `raks preflight` prints it.
"""

from raks.engine.preflight.rows import FAIL, OK, WARN, Row
from raks.engine.preflight.run import Report, run

__all__ = ["FAIL", "OK", "WARN", "Report", "Row", "run"]
