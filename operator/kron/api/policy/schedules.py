"""The schedule judgement of ``kron.api.policy.cadence``, step by step in CEL, with the
same patterns: which expressions a task has, how close together each can fire and
whether it fires on the hour. The steps are separate variables, so each has its own
cost budget (see ``kron.api.policy.admission``)."""

from typing import Final

from kron.api.constants import MAX_SCHEDULES
from kron.api.policy.cadence import (
    AT_ON_THE_HOUR_PATTERN,
    DURATION_PATTERN,
    FIELD_PATTERN,
    MAX_FIELD_ITEMS,
    ONE_DAY,
    ONE_HOUR,
    ZERO_PATTERN,
)
from kron.api.policy.text import literal, numbers, quoted, smaller


def expressions(obj: str) -> str:
    """CEL: the schedule expressions of ``obj`` (spec.schedules, or spec.schedule)."""
    return (
        f"has({obj}.spec.schedules) ? {obj}.spec.schedules : "
        f"(has({obj}.spec.schedule) ? [{obj}.spec.schedule] : [])"
    )


def path(index: str) -> str:
    """CEL: the field path of expression ``index`` of ``object``, for messages."""
    return (
        f"(has(object.spec.schedules) ? 'spec.schedules[' + string({index}) + ']' : "
        "'spec.schedule')"
    )


def _parse_items(field: str, top: int) -> str:
    """[start, end, step] of each item of a readable field (see cadence._items)."""
    base = "it.split('/')[0]"
    start = f"it.startsWith('*') ? 0 : int({base}.split('-')[0])"
    end = (
        f"it.startsWith('*') ? {top} : ({base}.contains('-') ? int({base}.split('-')[1]) : "
        f"(it.contains('/') ? {top} : int({base})))"
    )
    step = "it.contains('/') ? int(it.split('/')[1]) : 1"
    return f"{field}.split(',').map(it, [{start}, {end}, {step}])"


def _values(size: int) -> str:
    matches = "items.exists(t, x >= t[0] && x <= t[1] && (x - t[0]) % t[2] == 0)"
    return f"{numbers(size)}.filter(x, {matches})"


def _spacing(size: int) -> str:
    """[count, least inner gap, wrap gap] of a sorted value list ``v``."""
    inner = f"{numbers(size - 1)}.filter(j, j < size(v) - 1).map(j, v[j + 1] - v[j]).min()"
    return (
        f"[size(v), size(v) > 1 ? {inner} : {size}, "
        f"size(v) > 0 ? {size} - v[size(v) - 1] + v[0] : {size}]"
    )


def _interval() -> str:
    second, minute, hour = (f"variables.{f}Spacing[i]" for f in ("second", "minute", "hour"))
    word = "variables.words[i]"
    return " : ".join(
        [
            f"{word}.startsWith('@every') ? variables.everySeconds[i]",
            f"{word}.startsWith('@at') ? -1",
            f"{word} == '@hourly' ? {ONE_HOUR}",
            f"{word}.startsWith('@') ? {ONE_DAY}",
            "!variables.readable[i] ? -2",
            f"{second}[0] > 1 ? (variables.minuteAdjacent[i] ? "
            f"{smaller(f'{second}[1]', f'{second}[2]')} : {second}[1])",
            f"{minute}[0] > 1 ? 60 * (variables.hourAdjacent[i] ? "
            f"{smaller(f'{minute}[1]', f'{minute}[2]')} : {minute}[1])",
            f"{hour}[0] > 1 ? {ONE_HOUR} * {smaller(f'{hour}[1]', f'{hour}[2]')}",
            str(ONE_DAY),
        ]
    )


def _on_the_hour() -> str:
    word = "variables.words[i]"
    every = "variables.everySeconds[i]"
    fields = "variables.fields[i]"
    return " : ".join(
        [
            f"{word}.startsWith('@every') ? "
            f"({every} < 1 || {every} % {ONE_HOUR} == 0 || "
            f"{numbers(25)}.exists(h, h > 0 && ({ONE_HOUR} * h) % {every} == 0))",
            f"{word}.startsWith('@at') ? {word}.matches({literal(AT_ON_THE_HOUR_PATTERN)})",
            f"{word}.startsWith('@') ? true",
            f"size({fields}) == 6 && {fields}[0].matches({literal(ZERO_PATTERN)}) && "
            f"{fields}[1].matches({literal(ZERO_PATTERN)})",
        ]
    )


def _interval_explained() -> str:
    """CEL: what ``spec.schedules[i]`` is said to do, for the interval limit."""
    unknown = (
        "variables.words[i].startsWith('@every') ? "
        "'the policy reads @every durations of at most 4 parts of at most 5 digits each "
        "(e.g. @every 1h30m)' : "
        f"'the policy reads second, minute and hour fields of at most {MAX_FIELD_ITEMS} items "
        "*, n or a-b, each with an optional /step'"
    )
    return (
        f"{path('i')} + ' ' + {quoted('variables.expressions[i]')} + "
        "(variables.intervals[i] == -2 ? ': cannot be checked against the minimum interval ('"
        f" + ({unknown}) + ')' : "
        "' can fire ' + string(variables.intervals[i]) + 's apart')"
    )


SCHEDULE_VARIABLES: Final[tuple[tuple[str, str], ...]] = (
    ("expressions", expressions("object")),
    ("indexes", f"{numbers(MAX_SCHEDULES)}.filter(i, i < size(variables.expressions))"),
    (
        "schedulesUnchanged",
        f"oldObject != null && ({expressions('oldObject')}) == variables.expressions",
    ),
    ("words", "variables.expressions.map(e, e.trim().lowerAscii())"),
    (
        "fields",
        "variables.words.map(w, w.startsWith('@') ? [] : "
        "w.replace('\\t', ' ').split(' ').filter(f, f != ''))"
        ".map(fs, size(fs) == 5 ? ['0'] + fs : fs)",
    ),
    (
        "readable",
        "variables.fields.map(fs, size(fs) == 6 && "
        + " && ".join(f"fs[{k}].matches({literal(FIELD_PATTERN)})" for k in range(3))
        + ")",
    ),
    *(
        (
            f"{name}Items",
            f"variables.indexes.map(i, variables.readable[i] ? "
            f"{_parse_items(f'variables.fields[i][{k}]', size - 1)} : [])",
        )
        for k, (name, size) in enumerate((("second", 60), ("minute", 60), ("hour", 24)))
    ),
    *(
        (f"{name}Values", f"variables.{name}Items.map(items, {_values(size)})")
        for name, size in (("second", 60), ("minute", 60), ("hour", 24))
    ),
    *(
        (f"{name}Spacing", f"variables.{name}Values.map(v, {_spacing(size)})")
        for name, size in (("second", 60), ("minute", 60), ("hour", 24))
    ),
    ("hourAdjacent", "variables.hourSpacing.map(g, g[0] > 1 && (g[1] == 1 || g[2] == 1))"),
    (
        "minuteAdjacent",
        "variables.indexes.map(i, variables.minuteSpacing[i][0] > 1 && "
        "(variables.minuteSpacing[i][1] == 1 || "
        "(variables.minuteSpacing[i][2] == 1 && variables.hourAdjacent[i])))",
    ),
    (
        "everySeconds",
        "variables.words.map(w, !w.startsWith('@every') ? 0 : "
        f"(w.substring(6).trim().matches({literal(DURATION_PATTERN)}) ? "
        "duration(w.substring(6).trim()).getSeconds() : -2))",
    ),
    ("intervals", f"variables.indexes.map(i, {_interval()})"),
    ("onTheHour", f"variables.indexes.map(i, {_on_the_hour()})"),
    (
        "tooFrequent",
        "!has(params.spec.minIntervalSeconds) ? [] : variables.indexes.filter(i, "
        "variables.intervals[i] != -1 && variables.intervals[i] < params.spec.minIntervalSeconds)",
    ),
    ("frequencyProblems", f"variables.tooFrequent.map(i, {_interval_explained()})"),
)
"""(name, CEL) of the schedule variables, in order (each may use those before it):
intervals[i] is the least seconds between fires of expression i (-1: fires once, -2:
cannot be read), onTheHour[i] whether it fires at minute 0 and second 0."""
