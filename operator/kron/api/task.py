"""The ScheduledTask object as a whole: identity, spec and status."""

from typing import Any, Literal, Self

from pydantic import ConfigDict, Field, field_validator

from kron.api.base import ApiModel, UtcDateTime
from kron.api.constants import MAX_TASK_NAME_LENGTH
from kron.api.spec import ScheduledTaskSpec
from kron.api.status import ScheduledTaskStatus


class TaskMetadata(ApiModel):
    """The parts of a task's metadata kron uses; everything else is ignored."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(
        None,
        description=f"Task name, at most {MAX_TASK_NAME_LENGTH} characters so that run names "
        "fit 63.",
    )
    namespace: str | None = Field(None, description="Namespace of the task and its runs.")
    uid: str | None = Field(None, description="Unique id; runs carry it in kron.dev/task-uid.")
    generation: int | None = Field(None, description="Incremented on every spec change.")
    resource_version: str | None = Field(None, description="Version for optimistic updates.")
    labels: dict[str, str] = Field(default_factory=dict, description="The task's labels.")
    annotations: dict[str, str] = Field(
        default_factory=dict, description="The task's annotations (kron.dev/run-now, ...)."
    )
    creation_timestamp: UtcDateTime | None = Field(None, description="When it was created.")

    @field_validator("name")
    @classmethod
    def _check_name_length(cls, name: str | None) -> str | None:
        if name is not None and len(name) > MAX_TASK_NAME_LENGTH:
            raise ValueError(
                f"must be at most {MAX_TASK_NAME_LENGTH} characters (is {len(name)}), so that "
                "run names (<name>-<10-digit unix time>) fit 63 characters"
            )
        return name


class ScheduledTask(ApiModel):
    """A ScheduledTask: runs a Job or Pod on a schedule (kron.dev/v1alpha1)."""

    model_config = ConfigDict(extra="ignore")

    # Spelt out: a Literal type needs the literal (tests pin it to constants.API_VERSION).
    api_version: Literal["kron.dev/v1alpha1"] = Field(
        "kron.dev/v1alpha1", description="kron.dev/v1alpha1."
    )
    kind: Literal["ScheduledTask"] = Field("ScheduledTask", description="ScheduledTask.")
    metadata: TaskMetadata = Field(default_factory=TaskMetadata, description="Object metadata.")
    spec: ScheduledTaskSpec = Field(description="The desired schedule and run template.")
    status: ScheduledTaskStatus | None = Field(
        None, description="What the operator observed; unset until it first reconciles."
    )

    @classmethod
    def from_api(cls, obj: Any) -> Self:
        """Parse an object as read from the API server (or a manifest file).

        Raises ``pydantic.ValidationError``; ``kron.api.field_errors`` turns it into
        one line per problem, each naming the field.
        """
        return cls.model_validate(obj)
