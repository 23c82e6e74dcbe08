"""The ValidatingAdmissionPolicy that enforces a ScheduledTaskPolicy, as CEL.

The API server evaluates it itself (admissionregistration.k8s.io/v1, no webhook): for
every ScheduledTask created or updated in a namespace a binding selects, against the
ScheduledTaskPolicy the binding names (``paramRef``). ``make manifests`` writes its spec
to ``charts/kron/files/``; the chart adds the name and labels.

Its parts: ``kron.api.policy.schedules`` judges the schedule expressions (following
``kron.api.policy.cadence`` step by step, with the same patterns),
``kron.api.policy.backfill`` reads the backfill annotation, ``kron.api.policy.limits``
says when each limit is broken and what the message is, and this module puts them in
one policy.

Every limit is its own validation, and the message of each lists every limit the
request breaks (the API server reports only the first failed validation), each naming
the field, its value, the limit and the ScheduledTaskPolicy that sets it. A limit is
skipped on an update that leaves the fields it reads unchanged (see
``ScheduledTaskPolicySpec``).

Cost: the API server stops any expression after 1,000,000 cost units and a whole
evaluation after 10,000,000. The CRD bounds what is costly to read (16 expressions of
256 characters), each variable is evaluated at most once and only when a limit needs
it, and the heavy steps are separate variables (each has its own per-expression
budget). tests/chart/test_policy_cel.py sends the costliest objects the CRD admits.
"""

from typing import Any, Final

from kron.api.constants import API_VERSION, GROUP, PLURAL, VERSION
from kron.api.policy.backfill import BACKFILL_VARIABLES
from kron.api.policy.limits import FIELD_VARIABLES, LIMITS, PROBLEMS, Limit
from kron.api.policy.model import POLICY_KIND
from kron.api.policy.schedules import SCHEDULE_VARIABLES

VARIABLES: Final[tuple[tuple[str, str], ...]] = (
    *SCHEDULE_VARIABLES,
    *FIELD_VARIABLES,
    *BACKFILL_VARIABLES,
)
"""(name, CEL) of the policy's variables, in order (each may use those before it)."""

__all__ = ["LIMITS", "VARIABLES", "Limit", "policy_spec"]


def policy_spec() -> dict[str, Any]:
    """The ValidatingAdmissionPolicy's ``spec``."""
    return {
        # A CEL error (none is expected: tests/chart/test_policy_cel.py sends the worst
        # cases) refuses the request rather than letting it through unchecked.
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
