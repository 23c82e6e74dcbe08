"""The ScheduledTaskPolicy CRD, generated from its model like the ScheduledTask CRD."""

from typing import Any

from kron.api.constants import CATEGORY, GROUP, VERSION
from kron.api.policy.model import (
    POLICY_CRD_NAME,
    POLICY_KIND,
    POLICY_PLURAL,
    POLICY_SHORT_NAME,
    POLICY_SINGULAR,
    ScheduledTaskPolicy,
    ScheduledTaskPolicySpec,
)
from kron.api.schema import to_structural

PRINTER_COLUMNS: list[dict[str, Any]] = [
    {"name": "Min Interval", "type": "integer", "jsonPath": ".spec.minIntervalSeconds"},
    {"name": "Max Schedules", "type": "integer", "jsonPath": ".spec.maxSchedules"},
    {"name": "Run Kinds", "type": "string", "jsonPath": ".spec.allowedRunKinds"},
    {"name": "Max Backfill", "type": "integer", "jsonPath": ".spec.maxBackfillSeconds"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    {
        "name": "Hour Jitter",
        "type": "integer",
        "jsonPath": ".spec.minOnTheHourJitterSeconds",
        "priority": 1,
    },
    {
        "name": "Max Deadline",
        "type": "integer",
        "jsonPath": ".spec.maxStartingDeadlineSeconds",
        "priority": 1,
    },
    {
        "name": "Max Excludes",
        "type": "integer",
        "jsonPath": ".spec.maxExcludeSchedules",
        "priority": 1,
    },
    {
        "name": "Max Calendars",
        "type": "integer",
        "jsonPath": ".spec.maxCalendars",
        "priority": 1,
    },
    {"name": "Max Retries", "type": "integer", "jsonPath": ".spec.maxRetries", "priority": 1},
    {
        "name": "Min Retry Backoff",
        "type": "integer",
        "jsonPath": ".spec.minRetryBackoffSeconds",
        "priority": 1,
    },
]


def policy_spec_schema() -> dict[str, Any]:
    """Structural schema of a ScheduledTaskPolicy's ``spec``."""
    return to_structural(ScheduledTaskPolicySpec.model_json_schema(mode="validation"))


def build_policy_crd() -> dict[str, Any]:
    """The ScheduledTaskPolicy CustomResourceDefinition as a dict (cluster-scoped)."""
    schema = {
        "type": "object",
        "description": ScheduledTaskPolicy.__doc__,
        "properties": {
            "apiVersion": {
                "type": "string",
                "description": "Versioned schema of this object: kron.dev/v1alpha1.",
            },
            "kind": {"type": "string", "description": "Kind of this object: ScheduledTaskPolicy."},
            "metadata": {"type": "object"},
            "spec": policy_spec_schema(),
        },
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": POLICY_CRD_NAME},
        "spec": {
            "group": GROUP,
            "names": {
                "kind": POLICY_KIND,
                "listKind": f"{POLICY_KIND}List",
                "plural": POLICY_PLURAL,
                "singular": POLICY_SINGULAR,
                "shortNames": [POLICY_SHORT_NAME],
                "categories": [CATEGORY],
            },
            "scope": "Cluster",
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "additionalPrinterColumns": PRINTER_COLUMNS,
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }
