"""The ValidatingAdmissionPolicy that enforces a ScheduledTaskPolicy, as CEL.

The API server evaluates it itself (admissionregistration.k8s.io/v1, no webhook): for
every ScheduledTask created or updated in a namespace a binding selects, against the
ScheduledTaskPolicy the binding names (``paramRef``). ``make manifests`` writes its spec
to ``charts/kron/files/``; the chart adds the name and labels.

Every limit is its own validation, and the message of each lists every limit the
request breaks (the API server reports only the first failed validation), each naming
the field, its value, the limit and the ScheduledTaskPolicy that sets it. A limit is
skipped on an update that leaves the fields it reads unchanged (see
``ScheduledTaskPolicySpec``). The schedule judgement follows ``kron.api.policy.cadence``
step by step, with the same patterns.

Cost: the API server stops any expression after 1,000,000 cost units and a whole
evaluation after 10,000,000. The CRD bounds what is costly to read (16 expressions of
256 characters), each variable is evaluated at most once and only when a limit needs
it, and the heavy steps are separate variables (each has its own per-expression
budget). tests/chart/test_policy_cel.py sends the costliest objects the CRD admits.
"""

from dataclasses import dataclass
from typing import Any, Final

from kron.api.constants import ANN_BACKFILL, API_VERSION, GROUP, MAX_SCHEDULES, PLURAL, VERSION
from kron.api.policy.cadence import (
    AT_ON_THE_HOUR_PATTERN,
    DURATION_PATTERN,
    FIELD_PATTERN,
    MAX_FIELD_ITEMS,
    ONE_DAY,
    ONE_HOUR,
    ZERO_PATTERN,
)
from kron.api.policy.model import POLICY_KIND

_RFC3339: Final = (
    "(1[89]|[2-8][0-9]|9[0-8])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    "T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
)
"""An RFC 3339 instant CEL's timestamp() parses without error (years 1800-9899)."""
BACKFILL_PATTERN: Final = f"^[ \\t]*{_RFC3339}[ \\t]*/[ \\t]*{_RFC3339}[ \\t]*$"
MAX_QUOTED: Final = 100
"""Longest user text quoted in a message (an annotation can be 256 KiB)."""


def _literal(text: str) -> str:
    """``text`` as a CEL single-quoted string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _quoted(expression: str) -> str:
    """CEL for ``"<text>"``, cut to MAX_QUOTED characters."""
    cut = (
        f"(size({expression}) > {MAX_QUOTED} ? {expression}.substring(0, {MAX_QUOTED}) + '...'"
        f" : {expression})"
    )
    return f"'\"' + {cut} + '\"'"


def _numbers(count: int) -> str:
    return "[" + ", ".join(str(i) for i in range(count)) + "]"


def _expressions(obj: str) -> str:
    return (
        f"has({obj}.spec.schedules) ? {obj}.spec.schedules : "
        f"(has({obj}.spec.schedule) ? [{obj}.spec.schedule] : [])"
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
    return f"{_numbers(size)}.filter(x, {matches})"


def _spacing(size: int) -> str:
    """[count, least inner gap, wrap gap] of a sorted value list ``v``."""
    inner = f"{_numbers(size - 1)}.filter(j, j < size(v) - 1).map(j, v[j + 1] - v[j]).min()"
    return (
        f"[size(v), size(v) > 1 ? {inner} : {size}, "
        f"size(v) > 0 ? {size} - v[size(v) - 1] + v[0] : {size}]"
    )


def _smaller(a: str, b: str) -> str:
    return f"({a} < {b} ? {a} : {b})"


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
            f"{_smaller(f'{second}[1]', f'{second}[2]')} : {second}[1])",
            f"{minute}[0] > 1 ? 60 * (variables.hourAdjacent[i] ? "
            f"{_smaller(f'{minute}[1]', f'{minute}[2]')} : {minute}[1])",
            f"{hour}[0] > 1 ? {ONE_HOUR} * {_smaller(f'{hour}[1]', f'{hour}[2]')}",
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
            f"{_numbers(25)}.exists(h, h > 0 && ({ONE_HOUR} * h) % {every} == 0))",
            f"{word}.startsWith('@at') ? {word}.matches({_literal(AT_ON_THE_HOUR_PATTERN)})",
            f"{word}.startsWith('@') ? true",
            f"size({fields}) == 6 && {fields}[0].matches({_literal(ZERO_PATTERN)}) && "
            f"{fields}[1].matches({_literal(ZERO_PATTERN)})",
        ]
    )


def _annotation(obj: str) -> str:
    return (
        f"{obj} != null && has({obj}.metadata.annotations) && "
        f"{_literal(ANN_BACKFILL)} in {obj}.metadata.annotations ? "
        f"{obj}.metadata.annotations[{_literal(ANN_BACKFILL)}] : ''"
    )


def _date_exists(part: str) -> str:
    """The day of an RFC 3339 instant exists in its month (timestamp() fails otherwise)."""
    year = f"int({part}.substring(0, 4))"
    month = f"int({part}.substring(5, 7))"
    day = f"int({part}.substring(8, 10))"
    leap = f"({year} % 4 == 0 && ({year} % 100 != 0 || {year} % 400 == 0))"
    days = f"[31, {leap} ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]"
    return f"{day} <= {days}[{month} - 1]"


def _set_by(limit: str) -> str:
    """CEL: ``(<limit> of ScheduledTaskPolicy <name>)`` for the end of a message."""
    return f"' ({limit} of {POLICY_KIND} ' + params.metadata.name + ')'"


def _path(index: str) -> str:
    return (
        f"(has(object.spec.schedules) ? 'spec.schedules[' + string({index}) + ']' : "
        "'spec.schedule')"
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
        f"{_path('i')} + ' ' + {_quoted('variables.expressions[i]')} + "
        "(variables.intervals[i] == -2 ? ': cannot be checked against the minimum interval ('"
        f" + ({unknown}) + ')' : "
        "' can fire ' + string(variables.intervals[i]) + 's apart')"
    )


VARIABLES: Final[tuple[tuple[str, str], ...]] = (
    ("expressions", _expressions("object")),
    ("indexes", f"{_numbers(MAX_SCHEDULES)}.filter(i, i < size(variables.expressions))"),
    (
        "schedulesUnchanged",
        f"oldObject != null && ({_expressions('oldObject')}) == variables.expressions",
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
        + " && ".join(f"fs[{k}].matches({_literal(FIELD_PATTERN)})" for k in range(3))
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
        f"(w.substring(6).trim().matches({_literal(DURATION_PATTERN)}) ? "
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
    ("jitter", "has(object.spec.jitterSeconds) ? object.spec.jitterSeconds : 0"),
    (
        "jitterUnchanged",
        "variables.schedulesUnchanged && (has(oldObject.spec.jitterSeconds) ? "
        "oldObject.spec.jitterSeconds : 0) == variables.jitter",
    ),
    (
        "excludes",
        "has(object.spec.excludeSchedules) ? object.spec.excludeSchedules : []",
    ),
    (
        "excludesUnchanged",
        "oldObject != null && (has(oldObject.spec.excludeSchedules) ? "
        "oldObject.spec.excludeSchedules : []) == variables.excludes",
    ),
    ("runKind", "has(object.spec.podTemplate) ? 'Pod' : 'Job'"),
    (
        "runKindUnchanged",
        "oldObject != null && (has(oldObject.spec.podTemplate) ? 'Pod' : 'Job') == "
        "variables.runKind",
    ),
    (
        "deadlineUnchanged",
        "oldObject != null && has(oldObject.spec.startingDeadlineSeconds) == "
        "has(object.spec.startingDeadlineSeconds) && "
        "(!has(object.spec.startingDeadlineSeconds) || "
        "oldObject.spec.startingDeadlineSeconds == object.spec.startingDeadlineSeconds)",
    ),
    ("backfill", _annotation("object")),
    ("backfillUnchanged", f"({_annotation('oldObject')}) == variables.backfill"),
    (
        "backfillReadable",
        "variables.backfill == '' || (size(variables.backfill) <= 200 && "
        f"variables.backfill.matches({_literal(BACKFILL_PATTERN)}) && "
        "variables.backfill.split('/').all(p, "
        f"{_date_exists('p.trim()')}))",
    ),
    (
        "backfillSeconds",
        "variables.backfill == '' || !variables.backfillReadable ? 0 : "
        "(timestamp(variables.backfill.split('/')[1].trim()) - "
        "timestamp(variables.backfill.split('/')[0].trim())).getSeconds()",
    ),
)
"""(name, CEL) of the policy's variables, in order (each may use those before it)."""


SHOWN: Final = 2
"""Expressions quoted in one message; the API server drops messages over 5 KiB."""


def _interval_problem() -> str:
    said = "variables.frequencyProblems"
    more = f"size({said}) - {SHOWN}"
    listed = (
        f"(size({said}) <= {SHOWN} ? {said}.join('; ') : "
        + " + '; ' + ".join(f"{said}[{k}]" for k in range(SHOWN))
        + f" + '; and ' + string({more}) + ' more')"
    )
    return (
        f"{listed} + '; the minimum here is ' + string(params.spec.minIntervalSeconds) + 's' + "
        f"{_set_by('minIntervalSeconds')}"
    )


def _jitter_problem() -> str:
    limit = "params.spec.minOnTheHourJitterSeconds"
    first = "variables.indexes.filter(i, variables.onTheHour[i])[0]"
    return (
        "'spec.jitterSeconds is ' + string(variables.jitter) + ' but ' + "
        f"[{first}].map(i, {_path('i')} + ' ' + {_quoted('variables.expressions[i]')})[0] + "
        "' fires on the hour (minute 0, second 0); such tasks here need jitterSeconds of "
        f"at least ' + string({limit}) + {_set_by('minOnTheHourJitterSeconds')}"
    )


def _deadline_problem() -> str:
    limit = "params.spec.maxStartingDeadlineSeconds"
    return (
        "(has(object.spec.startingDeadlineSeconds) ? 'spec.startingDeadlineSeconds is ' + "
        "string(object.spec.startingDeadlineSeconds) : 'spec.startingDeadlineSeconds is "
        "not set (no deadline)') + '; tasks here need one of at most ' + "
        f"string({limit}) + 's' + {_set_by('maxStartingDeadlineSeconds')}"
    )


def _backfill_problem() -> str:
    limit = "params.spec.maxBackfillSeconds"
    where = f"'metadata.annotations[{ANN_BACKFILL}] ' + {_quoted('variables.backfill')}"
    return (
        f"{where} + (variables.backfillReadable ? ' spans ' + "
        "string(variables.backfillSeconds) + 's' : ' is not <from>/<to> as two RFC 3339 "
        "instants (e.g. 2030-01-01T00:00:00Z/2030-01-08T00:00:00Z), so its span cannot be "
        "checked') + '; backfills here may span at most ' + "
        f"string({limit}) + 's' + {_set_by('maxBackfillSeconds')}"
    )


@dataclass(frozen=True)
class Limit:
    """One field of ScheduledTaskPolicySpec and how the CEL enforces it."""

    field: str
    broken: str
    """CEL, true when the request breaks the limit (which is then known to be set)."""
    message: str
    """Static message, used if the messageExpression fails."""
    problem: str
    """CEL for the message naming the field, its value and the limit."""

    @property
    def variable(self) -> str:
        return f"{self.field}Broken"


def _limit(field: str, unchanged: str, breaks: str, message: str, problem: str) -> Limit:
    # Only when set, and (on an update) only when the fields it reads change.
    broken = f"has(params.spec.{field}) && !{unchanged} && ({breaks})"
    return Limit(field, broken, message, problem)


LIMITS: Final[tuple[Limit, ...]] = (
    _limit(
        "minIntervalSeconds",
        "variables.schedulesUnchanged",
        "size(variables.tooFrequent) > 0",
        "a schedule fires more often than minIntervalSeconds of the namespace's "
        "ScheduledTaskPolicy allows",
        _interval_problem(),
    ),
    _limit(
        "maxSchedules",
        "variables.schedulesUnchanged",
        "size(variables.expressions) > params.spec.maxSchedules",
        "spec.schedules has more expressions than maxSchedules of the namespace's "
        "ScheduledTaskPolicy allows",
        "'spec.schedules has ' + string(size(variables.expressions)) + ' expressions; at most "
        f"' + string(params.spec.maxSchedules) + ' are allowed here' + {_set_by('maxSchedules')}",
    ),
    _limit(
        "maxExcludeSchedules",
        "variables.excludesUnchanged",
        "size(variables.excludes) > params.spec.maxExcludeSchedules",
        "spec.excludeSchedules has more expressions than maxExcludeSchedules of the "
        "namespace's ScheduledTaskPolicy allows",
        "'spec.excludeSchedules has ' + string(size(variables.excludes)) + ' expressions; at "
        "most ' + string(params.spec.maxExcludeSchedules) + ' are allowed here' + "
        f"{_set_by('maxExcludeSchedules')}",
    ),
    _limit(
        "allowedRunKinds",
        "variables.runKindUnchanged",
        "!(variables.runKind in params.spec.allowedRunKinds)",
        "the run kind (spec.jobTemplate or spec.podTemplate) is not in allowedRunKinds of "
        "the namespace's ScheduledTaskPolicy",
        "(variables.runKind == 'Pod' ? 'spec.podTemplate' : 'spec.jobTemplate') + ': runs of "
        "kind ' + variables.runKind + ' are not allowed here; allowed run kinds: ' + "
        f"params.spec.allowedRunKinds.join(', ') + {_set_by('allowedRunKinds')}",
    ),
    _limit(
        "maxBackfillSeconds",
        "variables.backfillUnchanged",
        "!variables.backfillReadable || variables.backfillSeconds > params.spec.maxBackfillSeconds",
        f"the {ANN_BACKFILL} annotation spans more than maxBackfillSeconds of the namespace's "
        "ScheduledTaskPolicy allows",
        _backfill_problem(),
    ),
    _limit(
        "minOnTheHourJitterSeconds",
        "variables.jitterUnchanged",
        "variables.jitter < params.spec.minOnTheHourJitterSeconds && "
        "variables.onTheHour.exists(b, b)",
        "a schedule fires on the hour and spec.jitterSeconds is below "
        "minOnTheHourJitterSeconds of the namespace's ScheduledTaskPolicy",
        _jitter_problem(),
    ),
    _limit(
        "maxStartingDeadlineSeconds",
        "variables.deadlineUnchanged",
        "!has(object.spec.startingDeadlineSeconds) || "
        "object.spec.startingDeadlineSeconds > params.spec.maxStartingDeadlineSeconds",
        "spec.startingDeadlineSeconds is unset or above maxStartingDeadlineSeconds of the "
        "namespace's ScheduledTaskPolicy",
        _deadline_problem(),
    ),
)
"""The limits, in the order their problems are reported."""

PROBLEMS: Final = " + ".join(f"(variables.{lim.variable} ? [{lim.problem}] : [])" for lim in LIMITS)
"""CEL: the message of every limit the request breaks."""


def policy_spec() -> dict[str, Any]:
    """The ValidatingAdmissionPolicy's ``spec``."""
    return {
        # A CEL error (none is expected: tests/contract sends the worst cases) refuses
        # the request rather than letting it through unchecked.
        "failurePolicy": "Fail",
        "paramKind": {"apiVersion": API_VERSION, "kind": POLICY_KIND},
        "matchConstraints": {
            "resourceRules": [
                {
                    "apiGroups": [GROUP],
                    "apiVersions": [VERSION],
                    "operations": ["CREATE", "UPDATE"],
                    # Not scheduledtasks/status: kron's own status writes are never checked.
                    "resources": [PLURAL],
                }
            ],
            # A later API version is converted to this one before the CEL sees it.
            "matchPolicy": "Equivalent",
        },
        "variables": [
            *({"name": name, "expression": cel} for name, cel in VARIABLES),
            *({"name": lim.variable, "expression": lim.broken} for lim in LIMITS),
            {"name": "problems", "expression": PROBLEMS},
        ],
        # One validation per limit; each message lists every limit broken, so a tenant
        # sees all of them at once (the API server reports the first failed validation,
        # and drops repeated warnings).
        "validations": [
            {
                "expression": f"!variables.{lim.variable}",
                "message": lim.message,
                "messageExpression": "variables.problems.join('; ')",
                "reason": "Forbidden",
            }
            for lim in LIMITS
        ],
    }
