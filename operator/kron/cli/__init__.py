"""The `kron` command and the `kubectl kron` plugin.

    kron run                    the operator (flags and KRON_* environment variables)
    kron next EXPR | -f FILE    upcoming fire times, computed locally
    kron crd                    the CustomResourceDefinition
    kron ui                     a web page of your tasks, acting with your own rights
    kron next|trigger|suspend|resume|backfill|history|status TASK
                                the same verbs as `kubectl kron ...`, against a cluster

Every failure is one line on stderr: exit 1 for bad input or a refused request,
2 for a malformed command line. Nothing here is imported by the operator itself.
"""

from kron.cli.main import kubectl_main, main

__all__ = ["kubectl_main", "main"]
