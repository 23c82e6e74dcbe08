"""How the bench reads and shows a measurement."""

from __future__ import annotations

import math
from typing import Any


def num(value: Any) -> float:
    """A measurement as a float; missing (None, as JSON stores NaN) is NaN."""
    return math.nan if value is None else float(value)


def fmt(value: Any, unit: str = "") -> str:
    """A measurement for a table: three decimals below 10, one above, n/a if missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}{unit}" if abs(value) < 10 else f"{value:.1f}{unit}"
    return f"{value}{unit}"
