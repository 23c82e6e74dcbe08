"""The limits of a ScheduledTaskPolicy as CEL: for each field, when a request breaks it
and the message that says so, naming the field, its value, the limit and the
ScheduledTaskPolicy that sets it.

A limit applies only when set, and on an update only when the update changes a field
the limit reads (the ``*Unchanged`` variables; see ``ScheduledTaskPolicySpec``).
"""

from dataclasses import dataclass
from typing import Final

from kron.api.constants import ANN_BACKFILL
from kron.api.policy.schedules import path
from kron.api.policy.text import quoted, set_by
from kron.api.spec import Backoff, RetryPolicy

DEFAULT_MAX_RETRIES: Final[int] = RetryPolicy.model_fields["max_retries"].default
"""What the CRD fills in for an unset retryPolicy.maxRetries."""
DEFAULT_INITIAL_BACKOFF: Final[int] = Backoff.model_fields["initial_seconds"].default
"""What the CRD fills in for an unset retryPolicy.backoff.initialSeconds."""


def _retries(obj: str) -> str:
    """CEL: how many times a failed run of ``obj`` is retried (0 without retryPolicy)."""
    policy = f"{obj}.spec.retryPolicy"
    return (
        f"has({policy}) ? (has({policy}.maxRetries) ? {policy}.maxRetries : "
        f"{DEFAULT_MAX_RETRIES}) : 0"
    )


def _initial_backoff(obj: str) -> str:
    """CEL: the first (and shortest) delay before a retry of ``obj``, in seconds."""
    backoff = f"{obj}.spec.retryPolicy.backoff"
    return (
        f"has({obj}.spec.retryPolicy) && has({backoff}) && has({backoff}.initialSeconds) ? "
        f"{backoff}.initialSeconds : {DEFAULT_INITIAL_BACKOFF}"
    )


def _names(obj: str, field: str) -> str:
    """CEL: the Calendar names in ``obj.spec.<field>`` ([] when unset). Each list is a set
    (the CRD refuses a name twice in one list)."""
    return f"has({obj}.spec.{field}) ? {obj}.spec.{field} : []"


FIELD_VARIABLES: Final[tuple[tuple[str, str], ...]] = (
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
    ("excludeCalendars", _names("object", "excludeCalendars")),
    ("restrictToCalendars", _names("object", "restrictToCalendars")),
    (
        "calendars",
        "variables.excludeCalendars + "
        "variables.restrictToCalendars.filter(n, !(n in variables.excludeCalendars))",
    ),
    (
        "calendarsUnchanged",
        f"oldObject != null && ({_names('oldObject', 'excludeCalendars')}) == "
        f"variables.excludeCalendars && ({_names('oldObject', 'restrictToCalendars')}) == "
        "variables.restrictToCalendars",
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
    ("retries", _retries("object")),
    ("retriesUnchanged", f"oldObject != null && ({_retries('oldObject')}) == variables.retries"),
    ("retryBackoff", _initial_backoff("object")),
    (
        "retryBackoffUnchanged",
        f"variables.retriesUnchanged && ({_initial_backoff('oldObject')}) == "
        "variables.retryBackoff",
    ),
)
"""(name, CEL) of the task fields the limits other than the schedule ones read, with
whether an update left each alone. They use ``schedulesUnchanged``. ``calendars`` is the
distinct Calendar names of both lists (a name in both once), as kron reads them."""

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
        f"{set_by('minIntervalSeconds')}"
    )


def _jitter_problem() -> str:
    limit = "params.spec.minOnTheHourJitterSeconds"
    first = "variables.indexes.filter(i, variables.onTheHour[i])[0]"
    return (
        "'spec.jitterSeconds is ' + string(variables.jitter) + ' but ' + "
        f"[{first}].map(i, {path('i')} + ' ' + {quoted('variables.expressions[i]')})[0] + "
        "' fires on the hour (minute 0, second 0); such tasks here need jitterSeconds of "
        f"at least ' + string({limit}) + {set_by('minOnTheHourJitterSeconds')}"
    )


def _deadline_problem() -> str:
    limit = "params.spec.maxStartingDeadlineSeconds"
    return (
        "(has(object.spec.startingDeadlineSeconds) ? 'spec.startingDeadlineSeconds is ' + "
        "string(object.spec.startingDeadlineSeconds) : 'spec.startingDeadlineSeconds is "
        "not set (no deadline)') + '; tasks here need one of at most ' + "
        f"string({limit}) + 's' + {set_by('maxStartingDeadlineSeconds')}"
    )


def _retries_problem() -> str:
    return (
        "'spec.retryPolicy.maxRetries is ' + string(variables.retries) + "
        "(has(object.spec.retryPolicy.maxRetries) ? '' : ' (the default)') + "
        "'; at most ' + string(params.spec.maxRetries) + ' retries of a failed run are "
        f"allowed here' + {set_by('maxRetries')}"
    )


def _retry_backoff_problem() -> str:
    return (
        "'spec.retryPolicy.backoff.initialSeconds is ' + string(variables.retryBackoff) + "
        "(has(object.spec.retryPolicy.backoff) && "
        "has(object.spec.retryPolicy.backoff.initialSeconds) ? '' : ' (the default)') + "
        "'; retries here must wait at least ' + string(params.spec.minRetryBackoffSeconds) + "
        f"'s' + {set_by('minRetryBackoffSeconds')}"
    )


def _backfill_problem() -> str:
    limit = "params.spec.maxBackfillSeconds"
    where = f"'metadata.annotations[{ANN_BACKFILL}] ' + {quoted('variables.backfill')}"
    return (
        f"{where} + (variables.backfillReadable ? ' spans ' + "
        "string(variables.backfillSeconds) + 's' : ' is not <from>/<to> as two RFC 3339 "
        "instants (e.g. 2030-01-01T00:00:00Z/2030-01-08T00:00:00Z), so its span cannot be "
        "checked') + '; backfills here may span at most ' + "
        f"string({limit}) + 's' + {set_by('maxBackfillSeconds')}"
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
        f"' + string(params.spec.maxSchedules) + ' are allowed here' + {set_by('maxSchedules')}",
    ),
    _limit(
        "maxExcludeSchedules",
        "variables.excludesUnchanged",
        "size(variables.excludes) > params.spec.maxExcludeSchedules",
        "spec.excludeSchedules has more expressions than maxExcludeSchedules of the "
        "namespace's ScheduledTaskPolicy allows",
        "'spec.excludeSchedules has ' + string(size(variables.excludes)) + ' expressions; at "
        "most ' + string(params.spec.maxExcludeSchedules) + ' are allowed here' + "
        f"{set_by('maxExcludeSchedules')}",
    ),
    _limit(
        "maxCalendars",
        "variables.calendarsUnchanged",
        "size(variables.calendars) > params.spec.maxCalendars",
        "spec.excludeCalendars and spec.restrictToCalendars name more Calendars than "
        "maxCalendars of the namespace's ScheduledTaskPolicy allows",
        "'spec.excludeCalendars and spec.restrictToCalendars name ' + "
        "string(size(variables.calendars)) + ' distinct Calendars; at most ' + "
        f"string(params.spec.maxCalendars) + ' are allowed here' + {set_by('maxCalendars')}",
    ),
    _limit(
        "allowedRunKinds",
        "variables.runKindUnchanged",
        "!(variables.runKind in params.spec.allowedRunKinds)",
        "the run kind (spec.jobTemplate or spec.podTemplate) is not in allowedRunKinds of "
        "the namespace's ScheduledTaskPolicy",
        "(variables.runKind == 'Pod' ? 'spec.podTemplate' : 'spec.jobTemplate') + ': runs of "
        "kind ' + variables.runKind + ' are not allowed here; allowed run kinds: ' + "
        f"params.spec.allowedRunKinds.join(', ') + {set_by('allowedRunKinds')}",
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
    _limit(
        "maxRetries",
        "variables.retriesUnchanged",
        "variables.retries > params.spec.maxRetries",
        "spec.retryPolicy.maxRetries is above maxRetries of the namespace's ScheduledTaskPolicy",
        _retries_problem(),
    ),
    _limit(
        "minRetryBackoffSeconds",
        "variables.retryBackoffUnchanged",
        "variables.retries > 0 && variables.retryBackoff < params.spec.minRetryBackoffSeconds",
        "spec.retryPolicy.backoff.initialSeconds is below minRetryBackoffSeconds of the "
        "namespace's ScheduledTaskPolicy",
        _retry_backoff_problem(),
    ),
)
"""The limits, in the order their problems are reported."""

PROBLEMS: Final = " + ".join(f"(variables.{lim.variable} ? [{lim.problem}] : [])" for lim in LIMITS)
"""CEL: the message of every limit the request breaks."""
