"""The kron.dev/backfill annotation in CEL: read it, check it is two RFC 3339 instants
that CEL's timestamp() parses, and measure its span."""

from typing import Final

from kron.api.constants import ANN_BACKFILL
from kron.api.policy.text import literal

_RFC3339: Final = (
    "(1[89]|[2-8][0-9]|9[0-8])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    "T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
)
"""An RFC 3339 instant CEL's timestamp() parses without error (years 1800-9899)."""
BACKFILL_PATTERN: Final = f"^[ \\t]*{_RFC3339}[ \\t]*/[ \\t]*{_RFC3339}[ \\t]*$"


def _annotation(obj: str) -> str:
    return (
        f"{obj} != null && has({obj}.metadata.annotations) && "
        f"{literal(ANN_BACKFILL)} in {obj}.metadata.annotations ? "
        f"{obj}.metadata.annotations[{literal(ANN_BACKFILL)}] : ''"
    )


def _date_exists(part: str) -> str:
    """The day of an RFC 3339 instant exists in its month (timestamp() fails otherwise)."""
    year = f"int({part}.substring(0, 4))"
    month = f"int({part}.substring(5, 7))"
    day = f"int({part}.substring(8, 10))"
    leap = f"({year} % 4 == 0 && ({year} % 100 != 0 || {year} % 400 == 0))"
    days = f"[31, {leap} ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]"
    return f"{day} <= {days}[{month} - 1]"


BACKFILL_VARIABLES: Final[tuple[tuple[str, str], ...]] = (
    ("backfill", _annotation("object")),
    ("backfillUnchanged", f"({_annotation('oldObject')}) == variables.backfill"),
    (
        "backfillReadable",
        "variables.backfill == '' || (size(variables.backfill) <= 200 && "
        f"variables.backfill.matches({literal(BACKFILL_PATTERN)}) && "
        "variables.backfill.split('/').all(p, "
        f"{_date_exists('p.trim()')}))",
    ),
    (
        "backfillSeconds",
        "variables.backfill == '' || !variables.backfillReadable ? 0 : "
        "(timestamp(variables.backfill.split('/')[1].trim()) - "
        "timestamp(variables.backfill.split('/')[0].trim())).getSeconds()",
    ),
)
"""(name, CEL) of the backfill variables, in order: the annotation ('' when absent),
whether an update left it alone, whether it can be read, and its span in seconds."""
