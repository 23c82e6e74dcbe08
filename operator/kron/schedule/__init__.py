"""kron.schedule: the pure schedule engine.

Parses and validates schedule expressions, computes fire times in a time zone under
kron's daylight-saving rule, unions several schedules, applies a task's window,
exclusions and deterministic jitter, and names runs deterministically.

Pure: no I/O beyond loading tz data, never reads the clock (every query takes the
instant it is relative to), and imports nothing from Kubernetes, kopf, Prometheus,
pydantic or ``kron.api``. Times are ``int`` Unix seconds throughout.
"""

from kron.schedule.days import DayRule, DaySet
from kron.schedule.errors import ScheduleError, TimeZoneError
from kron.schedule.expression import (
    AtExpression,
    CronExpression,
    EveryExpression,
    Expression,
    parse_expression,
)
from kron.schedule.jitter import jitter_offset
from kron.schedule.limits import MAX_INSTANT, MIN_INSTANT
from kron.schedule.names import (
    MAX_RUN_NAME_LENGTH,
    is_manual_run_name,
    manual_retry_name,
    manual_run_name,
    run_name,
)
from kron.schedule.timeline import (
    UPCOMING_EXCLUDED_SPAN,
    UPCOMING_SCAN_LIMIT,
    LookAhead,
    Tick,
    Timeline,
    compile_timeline,
)
from kron.schedule.zones import load_zone

__all__ = [
    "MAX_INSTANT",
    "MAX_RUN_NAME_LENGTH",
    "MIN_INSTANT",
    "UPCOMING_EXCLUDED_SPAN",
    "UPCOMING_SCAN_LIMIT",
    "AtExpression",
    "CronExpression",
    "DayRule",
    "DaySet",
    "EveryExpression",
    "Expression",
    "LookAhead",
    "ScheduleError",
    "Tick",
    "TimeZoneError",
    "Timeline",
    "compile_timeline",
    "is_manual_run_name",
    "jitter_offset",
    "load_zone",
    "manual_retry_name",
    "manual_run_name",
    "parse_expression",
    "run_name",
]
