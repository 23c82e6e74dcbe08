"""What a run is made from: a Job template or a bare Pod template.

The inner Job and Pod specs are free-form (``x-kubernetes-preserve-unknown-fields``):
the API server validates the real Job or Pod when kron creates it, and copying the
whole core/v1 schema into this CRD would tie it to one Kubernetes version. Only
what kron itself relies on is declared and checked here: the pod template exists,
it has at least one container, and its ``restartPolicy`` (if given) lets a run end.
"""

from collections.abc import Mapping
from typing import Any, Final

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from kron.api import cel
from kron.api.base import SpecModel
from kron.api.constants import RESERVED_PREFIX

RUN_RESTART_POLICIES = ("Never", "OnFailure")
"""Pod restart policies under which a run can finish; ``Always`` never would."""

MAX_TEMPLATE_DEPTH: Final = 32
"""Nesting levels allowed inside a template's free-form spec. Real Job and Pod specs
need about 12; the API server admits 10,000, which is deep enough to exhaust
decoders that recurse (pydantic's JSON parser stops at a few hundred)."""
MAX_TEMPLATE_BYTES: Final = 256 * 1024
"""Largest template spec, as compact JSON. kron copies it into every run it creates,
so its size is CPU on the fire path that all tasks share."""
MAX_METADATA_KEYS: Final = 256
"""Most labels or annotations a template may give its runs (bounds CEL cost too)."""
RESERVED_MESSAGE = (
    f"keys starting with {RESERVED_PREFIX} are kron's own: it sets them on every run "
    "and finds runs by them"
)


def _string_map(description: str) -> dict[str, Any]:
    """The schema of a label or annotation map in a template, refusing kron's own keys."""
    return {
        "type": "object",
        "description": description,
        "maxProperties": MAX_METADATA_KEYS,
        "additionalProperties": {"type": "string"},
        **cel.rules(cel.Rule(f"self.all(k, !k.startsWith('{RESERVED_PREFIX}'))", RESERVED_MESSAGE)),
    }


def _pod_spec_schema(where: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": f"The core/v1 PodSpec of {where}, validated by Kubernetes when the run "
        "is created. kron checks only restartPolicy and that containers is not empty.",
        "x-kubernetes-preserve-unknown-fields": True,
        "required": ["containers"],
        "properties": {
            "restartPolicy": {
                "type": "string",
                "enum": list(RUN_RESTART_POLICIES),
                "description": "Never or OnFailure, so that a run can finish (Always would "
                "restart its containers forever). kron uses Never when it is omitted.",
            },
            "containers": {
                "type": "array",
                "minItems": 1,
                "description": "The containers of the run's pod (at least one).",
                "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            },
        },
    }


_JOB_SPEC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "x-kubernetes-preserve-unknown-fields": True,
    "required": ["template"],
    "properties": {
        "template": {
            "type": "object",
            "description": "The pod template of each run's Job.",
            "x-kubernetes-preserve-unknown-fields": True,
            "required": ["spec"],
            "properties": {
                "metadata": {
                    "type": "object",
                    "description": "Labels and annotations of the run's pods.",
                    "x-kubernetes-preserve-unknown-fields": True,
                    "properties": {
                        "labels": _string_map("Labels of the run's pods."),
                        "annotations": _string_map("Annotations of the run's pods."),
                    },
                },
                "spec": _pod_spec_schema("each run's pods"),
            },
        }
    },
}

# The field's own description (on PodTemplate.spec) is the one to show here.
_POD_SPEC_SCHEMA = {k: v for k, v in _pod_spec_schema("each run").items() if k != "description"}


def _invalid(subpath: str, detail: str) -> PydanticCustomError:
    # `subpath` continues the error's location into the free-form dict, so that
    # kron.api.errors can name the exact field (spec.podTemplate.spec.containers).
    return PydanticCustomError(
        "invalid_template",
        "{subpath}: {detail}",
        {"subpath": subpath, "detail": detail},
    )


def check_shape(spec: Mapping[str, Any]) -> None:
    """Raise unless the free-form `spec` is at most MAX_TEMPLATE_DEPTH deep and
    MAX_TEMPLATE_BYTES long. Iterative, so any depth the API server admits is safe."""
    stack: list[tuple[Any, int]] = [(spec, 1)]
    size = 0  # JSON characters, counted on the way (no second pass to encode it)
    while stack:
        value, depth = stack.pop()
        if depth > MAX_TEMPLATE_DEPTH:
            raise _invalid("", f"nested deeper than {MAX_TEMPLATE_DEPTH} levels")
        if isinstance(value, Mapping):
            size += 2 + sum(len(str(key)) + 4 for key in value)
            stack.extend((child, depth + 1) for child in value.values())
        elif isinstance(value, list):
            size += 2 + len(value)
            stack.extend((child, depth + 1) for child in value)
        elif isinstance(value, str):
            size += len(value) + 2
        else:
            size += 8
    if size > MAX_TEMPLATE_BYTES:
        raise _invalid(
            "", f"about {size} bytes as JSON, more than the {MAX_TEMPLATE_BYTES} allowed"
        )


def check_pod_metadata(metadata: Any, prefix: str) -> None:
    """The pod template's metadata, if any: an object whose labels and annotations
    are maps of strings (kron merges its own labels into them)."""
    if metadata is None:
        return
    if not isinstance(metadata, Mapping):
        raise _invalid(prefix.rstrip("."), "must be an object")
    for field in ("labels", "annotations"):
        keys = metadata.get(field)
        if keys is None:
            continue
        if not isinstance(keys, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in keys.items()
        ):
            raise _invalid(f"{prefix}{field}", "must be a map of strings to strings")
        if len(keys) > MAX_METADATA_KEYS:
            raise _invalid(f"{prefix}{field}", f"more than {MAX_METADATA_KEYS} keys")


def check_pod_spec(spec: Any, prefix: str = "") -> None:
    """Raise if a pod spec could never make a run kron can track to its end."""
    if not isinstance(spec, Mapping):
        raise _invalid(prefix.rstrip(".") or "spec", "must be an object (a core/v1 PodSpec)")
    policy = spec.get("restartPolicy")
    if policy is not None and policy not in RUN_RESTART_POLICIES:
        raise _invalid(
            f"{prefix}restartPolicy",
            f"must be Never or OnFailure, not {str(policy)[:40]!r}: a run has to be able to finish",
        )
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        raise _invalid(f"{prefix}containers", "at least one container is required")
    if not all(isinstance(c, Mapping) for c in containers):
        raise _invalid(f"{prefix}containers", "every container must be an object")


class TemplateMetadata(SpecModel):
    """Labels and annotations copied onto every run (kron adds its own next to them)."""

    labels: dict[str, str] = Field(
        default_factory=dict,
        max_length=MAX_METADATA_KEYS,
        description="Labels put on every run, next to kron's own (keys starting with "
        f"{RESERVED_PREFIX} are refused).",
        json_schema_extra=cel.rules(
            cel.Rule(f"self.all(k, !k.startsWith('{RESERVED_PREFIX}'))", RESERVED_MESSAGE)
        ),
    )
    annotations: dict[str, str] = Field(
        default_factory=dict,
        max_length=MAX_METADATA_KEYS,
        description="Annotations put on every run, next to kron's own (keys starting with "
        f"{RESERVED_PREFIX} are refused).",
        json_schema_extra=cel.rules(
            cel.Rule(f"self.all(k, !k.startsWith('{RESERVED_PREFIX}'))", RESERVED_MESSAGE)
        ),
    )


class JobTemplate(SpecModel):
    """A batch/v1 Job template: each run is a Job made from it."""

    metadata: TemplateMetadata = Field(
        default_factory=TemplateMetadata, description="Labels and annotations of every run Job."
    )
    spec: dict[str, Any] = Field(
        description="The batch/v1 JobSpec of every run, validated by Kubernetes when the Job is "
        "created. Its pod template's restartPolicy must be Never or OnFailure.",
        json_schema_extra=_JOB_SPEC_SCHEMA,
    )

    @field_validator("spec")
    @classmethod
    def _check_job_spec(cls, spec: dict[str, Any]) -> dict[str, Any]:
        check_shape(spec)
        template = spec.get("template")
        if not isinstance(template, Mapping):
            raise _invalid("template", "a Job needs a pod template (an object)")
        check_pod_metadata(template.get("metadata"), "template.metadata.")
        check_pod_spec(template.get("spec"), "template.spec.")
        return spec

    @property
    def pod_spec(self) -> dict[str, Any]:
        """The pod spec inside the Job spec (validated to exist)."""
        spec: dict[str, Any] = self.spec["template"]["spec"]
        return spec


class PodTemplate(SpecModel):
    """A core/v1 Pod template: each run is a bare Pod made from it."""

    metadata: TemplateMetadata = Field(
        default_factory=TemplateMetadata, description="Labels and annotations of every run Pod."
    )
    spec: dict[str, Any] = Field(
        description="The core/v1 PodSpec of every run, validated by Kubernetes when the Pod is "
        "created. restartPolicy must be Never or OnFailure.",
        json_schema_extra=_POD_SPEC_SCHEMA,
    )

    @field_validator("spec")
    @classmethod
    def _check_pod_spec(cls, spec: dict[str, Any]) -> dict[str, Any]:
        check_shape(spec)
        check_pod_spec(spec)
        return spec

    @property
    def pod_spec(self) -> dict[str, Any]:
        """The pod spec (same accessor as on JobTemplate)."""
        return self.spec
