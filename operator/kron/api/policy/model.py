"""ScheduledTaskPolicy: the limits a platform team sets on the ScheduledTasks of tenants.

It is the parameter resource (``paramKind``) of the ValidatingAdmissionPolicy that the
chart ships (``kron.api.policy.admission``): the API server reads a binding's
ScheduledTaskPolicy and evaluates the policy's CEL against every ScheduledTask created or
changed in the namespaces the binding selects. kron itself never reads it.

Cluster-scoped on purpose: only cluster administrators (or whoever they grant it to with
a ClusterRole) can write one, and no RoleBinding in a tenant's namespace can grant it,
so no namespace role (``edit``, ``admin``) reaches it. Its fields are typed and bounded
by the CRD's schema, so a typo in a limit is refused when the platform team applies it,
instead of surfacing later as a CEL error on every tenant's ``kubectl apply``.
"""

from typing import Annotated, Final, Literal

from pydantic import ConfigDict, Field

from kron.api.base import ApiModel, SchemaExtra, SpecModel
from kron.api.constants import (
    GROUP,
    MAX_BACKOFF_SECONDS,
    MAX_DEADLINE_SECONDS,
    MAX_EXCLUDE_SCHEDULES,
    MAX_JITTER_SECONDS,
    MAX_RETRIES,
    MAX_SCHEDULES,
    MAX_TASK_CALENDARS,
)
from kron.api.enums import RunKind

POLICY_KIND: Final = "ScheduledTaskPolicy"
POLICY_PLURAL: Final = "scheduledtaskpolicies"
POLICY_SINGULAR: Final = "scheduledtaskpolicy"
POLICY_SHORT_NAME: Final = "stpolicy"
POLICY_CRD_NAME: Final = f"{POLICY_PLURAL}.{GROUP}"

MAX_MIN_INTERVAL_SECONDS: Final = 86_400
"""The coarsest interval the policy can judge: it reads the second, minute and hour
fields of cron expressions, not the day fields (see ``kron.api.policy.cadence``)."""
MAX_CALENDARS: Final = 2 * MAX_TASK_CALENDARS
"""The most distinct Calendars a task can name: excludeCalendars and restrictToCalendars
hold MAX_TASK_CALENDARS each."""


class ScheduledTaskPolicySpec(SpecModel):
    """Limits on the ScheduledTasks of the namespaces whose binding names this policy.

    Every limit is optional: an unset one does not apply. A limit is checked when a task
    is created, and on an update only if the update changes a field the limit reads, so
    tightening a policy never stops tenants from suspending or triggering the tasks they
    already have.
    """

    min_interval_seconds: int | None = Field(
        None,
        ge=1,
        le=MAX_MIN_INTERVAL_SECONDS,
        description="Least time between two nominal fire times of one schedule expression, "
        "in seconds. 6-field cron, @every and 5-field cron are judged from their fields "
        "(docs/tenancy/admission.md); @at fires once and always passes.",
    )
    max_schedules: int | None = Field(
        None,
        ge=1,
        le=MAX_SCHEDULES,
        description="Most expressions in spec.schedules (spec.schedule counts as one).",
    )
    max_exclude_schedules: int | None = Field(
        None, ge=0, le=MAX_EXCLUDE_SCHEDULES, description="Most expressions in excludeSchedules."
    )
    max_calendars: int | None = Field(
        None,
        ge=0,
        le=MAX_CALENDARS,
        description="Most Calendars a task names in excludeCalendars and restrictToCalendars "
        "together, each distinct name once: a name in both lists counts once (kron reads "
        "and watches each Calendar once). 0: tasks name no Calendars.",
    )
    allowed_run_kinds: (
        Annotated[
            list[RunKind],
            SchemaExtra({"x-kubernetes-list-type": "set"}),
        ]
        | None
    ) = Field(
        None,
        min_length=1,
        max_length=len(RunKind),
        description="Run kinds tasks may use: Job (spec.jobTemplate), Pod (spec.podTemplate).",
    )
    max_backfill_seconds: int | None = Field(
        None,
        ge=0,
        description="Longest interval a kron.dev/backfill annotation (<from>/<to>, RFC 3339) "
        "may span, in seconds.",
    )
    min_on_the_hour_jitter_seconds: int | None = Field(
        None,
        ge=1,
        le=MAX_JITTER_SECONDS,
        description="Least spec.jitterSeconds of a task with an expression that fires on the "
        "hour (minute 0 and second 0: macros, '0 * * * *', '*/15 * * * *', @every 1h, ...).",
    )
    max_starting_deadline_seconds: int | None = Field(
        None,
        ge=0,
        le=MAX_DEADLINE_SECONDS,
        description="Largest spec.startingDeadlineSeconds. When set, tasks must set a "
        "deadline: an unset one means no deadline at all.",
    )
    max_retries: int | None = Field(
        None,
        ge=0,
        le=MAX_RETRIES,
        description="Largest spec.retryPolicy.maxRetries (its default counts when "
        "retryPolicy is set without it). 0: no schedule-level retries. Tasks without "
        "retryPolicy never retry and always pass.",
    )
    min_retry_backoff_seconds: int | None = Field(
        None,
        ge=1,
        le=MAX_BACKOFF_SECONDS,
        description="Least spec.retryPolicy.backoff.initialSeconds (its default counts when "
        "unset) of a task that retries: the first delay is the shortest, later ones only "
        "grow. Tasks that do not retry (no retryPolicy, or maxRetries 0) always pass.",
    )


class PolicyMetadata(ApiModel):
    """The metadata the admission policy reads: the name its messages quote
    (``params.metadata.name``)."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(None, description="The policy's name.")


class ScheduledTaskPolicy(ApiModel):
    """Limits on tenants' ScheduledTasks, enforced at admission (kron.dev/v1alpha1)."""

    model_config = ConfigDict(extra="ignore")

    api_version: Literal["kron.dev/v1alpha1"] = Field(
        "kron.dev/v1alpha1", description="kron.dev/v1alpha1."
    )
    kind: Literal["ScheduledTaskPolicy"] = Field(
        "ScheduledTaskPolicy", description="ScheduledTaskPolicy."
    )
    metadata: PolicyMetadata = Field(default_factory=PolicyMetadata, description="Metadata.")
    spec: ScheduledTaskPolicySpec = Field(
        default_factory=ScheduledTaskPolicySpec, description="The limits."
    )
