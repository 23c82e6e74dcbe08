"""The files ``make manifests`` writes for the admission policy, and where.

``python -m kron.api.crd --write`` (``make manifests``) writes them with the
ScheduledTask CRD and ``--check`` (``make verify``) fails when one is stale.
"""

from pathlib import Path

import yaml

from kron.api.constants import GROUP
from kron.api.policy.admission import policy_spec
from kron.api.policy.crd import build_policy_crd
from kron.api.policy.model import POLICY_PLURAL

POLICY_CRD_PATH = Path("crds") / f"{GROUP}_{POLICY_PLURAL}.yaml"
CHART_POLICY_CRD_PATH = Path("charts") / "kron" / "crds" / f"{GROUP}_{POLICY_PLURAL}.yaml"
CHART_POLICY_SPEC_PATH = Path("charts") / "kron" / "files" / "scheduledtask-limits.yaml"
"""The ValidatingAdmissionPolicy's spec; templates/policy.yaml adds its metadata."""

HEADER = (
    "# Code generated from operator/kron/api/policy by `make manifests` "
    "(python -m kron.api.crd --write). DO NOT EDIT.\n"
)


def _dump(obj: object) -> str:
    # One line per CEL expression: long, but each reads as written.
    return HEADER + yaml.safe_dump(obj, sort_keys=False, width=100_000, allow_unicode=True)


def render_policy_crd() -> str:
    """The ScheduledTaskPolicy CRD as YAML; deterministic."""
    return HEADER + yaml.safe_dump(build_policy_crd(), sort_keys=True, width=100)


def render_policy_spec() -> str:
    """The ValidatingAdmissionPolicy's spec as YAML, in the order it reads best."""
    return _dump(policy_spec())


def generated_files(root: Path) -> dict[Path, str]:
    """Every generated policy file under ``root`` with the content it should have."""
    crd = render_policy_crd()
    return {
        root / POLICY_CRD_PATH: crd,
        root / CHART_POLICY_CRD_PATH: crd,
        root / CHART_POLICY_SPEC_PATH: render_policy_spec(),
    }
