"""Admission policy for tenants' ScheduledTasks: the ScheduledTaskPolicy parameter
resource (``model``), its CRD (``crd``), and the ValidatingAdmissionPolicy (CEL) that
enforces it (``admission``, built from ``schedules``, ``backfill`` and ``limits``, with
the CEL text helpers of ``text``).

``cadence`` says in Python what the CEL concludes about a schedule expression; the
chart ships the CRD (``crds/``) and the policy (``files/``), both written by
``make manifests`` (``generated``).
"""

from kron.api.policy.admission import policy_spec
from kron.api.policy.cadence import Cadence, cadence
from kron.api.policy.crd import build_policy_crd, policy_spec_schema
from kron.api.policy.model import (
    POLICY_CRD_NAME,
    POLICY_KIND,
    POLICY_PLURAL,
    ScheduledTaskPolicy,
    ScheduledTaskPolicySpec,
)

__all__ = [
    "POLICY_CRD_NAME",
    "POLICY_KIND",
    "POLICY_PLURAL",
    "Cadence",
    "ScheduledTaskPolicy",
    "ScheduledTaskPolicySpec",
    "build_policy_crd",
    "cadence",
    "policy_spec",
    "policy_spec_schema",
]
