"""Kubernetes names, checked one way everywhere kron checks one.

Namespaces are DNS-1123 labels (at most 63 characters of lower-case letters, digits and
inner dashes); object names (ScheduledTasks, Calendars, Leases) are DNS-1123 subdomains
(labels joined by dots, at most 253). The API server refuses anything else, so kron
refuses it first: in `kron run`'s settings, the CLI's and `kron ui`'s arguments (where
a bad name would also bend a URL path), run names, and the CRDs' schema patterns.
Pure: nothing but `re`.
"""

from __future__ import annotations

import re
from typing import Final

LABEL_PATTERN: Final = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
SUBDOMAIN_PATTERN: Final = rf"{LABEL_PATTERN}(\.{LABEL_PATTERN})*"
MAX_LABEL_LENGTH: Final = 63
MAX_SUBDOMAIN_LENGTH: Final = 253

_LABEL: Final = re.compile(LABEL_PATTERN)
_SUBDOMAIN: Final = re.compile(SUBDOMAIN_PATTERN)


def is_label(text: str) -> bool:
    """A DNS-1123 label: a namespace name."""
    return len(text) <= MAX_LABEL_LENGTH and _LABEL.fullmatch(text) is not None


def is_subdomain(text: str) -> bool:
    """A DNS-1123 subdomain: an object name."""
    return len(text) <= MAX_SUBDOMAIN_LENGTH and _SUBDOMAIN.fullmatch(text) is not None
