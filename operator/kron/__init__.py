"""kron: a Kubernetes operator for scheduled workloads.

The package is layered (see pyproject.toml's import-linter contracts):
``kron.api`` (pydantic models of the CRD), ``kron.schedule`` (pure fire-time
computation), ``kron.planner`` (pure decisions), ``kron.k8s`` (the only code that
talks to the API server), ``kron.engine`` (the central scheduler), and thin glue in
``kron.handlers`` and ``kron.cli``.
"""

__version__ = "0.1.0"
