"""CEL validation rules of the CRD (``x-kubernetes-validations``).

The models validate in Python; these rules make the API server reject the same
mistakes at ``kubectl apply``, with a message that says what is expected. The API
server prefixes every message with the path of the offending field
(``spec.schedules[1]: Invalid value: "string": ...``), so messages need not repeat it.

Schedule strings are checked with RE2 regular expressions built below: the shape of
every form of the grammar, then each cron field's values. They mirror
``kron.schedule`` leniently: whatever they reject, the Python parser rejects too
(``tests/contract`` pins this), while a few mistakes only the operator catches
(``KNOWN_LENIENCIES``). The same patterns are evaluated in Python by
``ExpressionCheck.passes`` so that agreement can be tested without a cluster.
"""

import re
from dataclasses import dataclass
from typing import Any

from kron.api.constants import MAX_TASK_NAME_LENGTH


@dataclass(frozen=True)
class Rule:
    """One ``x-kubernetes-validations`` entry."""

    rule: str
    message: str
    field_path: str | None = None
    reason: str | None = None

    def to_schema(self) -> dict[str, Any]:
        """The entry as it appears in the CRD."""
        entry: dict[str, Any] = {"rule": self.rule, "message": self.message}
        if self.field_path is not None:
            entry["fieldPath"] = self.field_path
        if self.reason is not None:
            entry["reason"] = self.reason
        return entry


def rules(*entries: Rule) -> dict[str, Any]:
    """JSON-schema extra carrying CEL rules, for ``json_schema_extra``/``SchemaExtra``."""
    return {"x-kubernetes-validations": [entry.to_schema() for entry in entries]}


def _literal(pattern: str) -> str:
    """A regex as a CEL single-quoted string literal."""
    return "'" + pattern.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True)
class ExpressionCheck:
    """One rule on a schedule string: for every (when, then), if ``when`` matches, ``then`` must.

    ``when=None`` means always; ``then=None`` means ``when`` must not match. Patterns
    use only syntax that RE2 and Python's ``re`` read alike (explicit character
    classes, no ``\\s``), so ``passes`` predicts the API server's verdict.
    """

    message: str
    cases: tuple[tuple[str | None, str | None], ...]

    def rule(self) -> Rule:
        """The CEL rule (``self`` is the string)."""
        terms = []
        for when, then in self.cases:
            if then is None:
                assert when is not None
                terms.append(f"!self.matches({_literal(when)})")
            elif when is None:
                terms.append(f"self.matches({_literal(then)})")
            else:
                terms.append(f"(!self.matches({_literal(when)}) || self.matches({_literal(then)}))")
        return Rule(" && ".join(terms), self.message)

    def passes(self, text: str) -> bool:
        """Whether the API server accepts ``text`` under this rule (Python ``re`` emulation)."""
        for when, then in self.cases:
            applies = when is None or re.search(when, text) is not None
            if applies and (then is None or re.search(then, text) is None):
                return False
        return True


# --- the grammar of kron.schedule, as regular expressions -------------------------------

_EDGE = r"[ \t\r\n\f\v]*"  # ignored around an expression
_SEP = r"[ \t]+"  # between fields and after @every/@at
_TOKEN = r"[^ \t]+"
_MONTH_NAMES = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_DAY_NAMES = "SUN|MON|TUE|WED|THU|FRI|SAT"


def _cron_field(value: str, *, question: bool = False, special: str | None = None) -> str:
    """A list of `*`, values or ranges, each with an optional step (or one of the
    ``special`` items, which take no step); `?` alone if allowed."""
    element = f"([*]|({value})(-({value}))?)(/0*[1-9][0-9]*)?"
    if special is not None:
        element = f"({element}|{special})"
    field = f"{element}(,{element})*"
    return f"([?]|{field})" if question else field


_DOM_VALUE = "0*([1-9]|[12][0-9]|3[01])"
_DOW_VALUE = f"0*[0-7]|(?i:{_DAY_NAMES})"
# L, L-n (1-30), LW, L-nW; nW (1-31)
_DOM_SPECIAL = f"(?i:L)(-0*([1-9]|[12][0-9]|30))?(?i:W)?|({_DOM_VALUE})(?i:W)"
# d#n (1-5), dL
_DOW_SPECIAL = f"({_DOW_VALUE})(#0*[1-5]|(?i:L))"

SECOND = _cron_field("0*([0-9]|[1-5][0-9])")
MINUTE = SECOND
HOUR = _cron_field("0*([0-9]|1[0-9]|2[0-3])")
DAY_OF_MONTH = _cron_field(_DOM_VALUE, question=True, special=_DOM_SPECIAL)
MONTH = _cron_field(f"0*([1-9]|1[0-2])|(?i:{_MONTH_NAMES})")
DAY_OF_WEEK = _cron_field(_DOW_VALUE, question=True, special=_DOW_SPECIAL)

MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_MACRO = "(?i:" + "|".join(MACROS) + ")"
_NUMBER = "([0-9]+([.][0-9]*)?|[.][0-9]+)"
_EVERY = f"(?i:@every){_SEP}({_NUMBER}[hms])+"
_AT = (
    f"(?i:@at){_SEP}[0-9]{{4}}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    "[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]+)?"
    "([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
)


def _whole(body: str) -> str:
    return f"^{_EDGE}({body}){_EDGE}$"


def _cron(*fields: str) -> str:
    # Field patterns have no top-level alternation, so they need no group of their own.
    return f"^{_EDGE}" + _SEP.join(fields) + f"{_EDGE}$"


_CRON_TOKEN = r"[^ \t@][^ \t]*"  # a first cron field; "@..." is a macro
SHAPE = _whole("|".join([_MACRO, _EVERY, _AT, f"{_CRON_TOKEN}({_SEP}{_TOKEN}){{4,5}}"]))
"""Any form of the grammar; cron fields are checked one by one by the other rules."""
FIVE_FIELDS = _cron(*[_TOKEN] * 5)
SIX_FIELDS = _cron(*[_TOKEN] * 6)
ZERO_EVERY = _whole(f"(?i:@every){_SEP}((0+([.]0*)?|[.]0+)[hms])+")

SHAPE_MESSAGE = (
    "must be a cron expression of 5 fields (minute hour day-of-month month day-of-week) "
    "or 6 (seconds first), a macro (" + ", ".join(MACROS) + "), "
    "'@every <duration>' with units h, m, s (e.g. 90s, 1h30m) "
    "or '@at <RFC 3339 time>' (e.g. 2030-01-01T09:00:00Z)"
)
_FORMS = "as a value, a range a-b or *, optionally with a step /n, or a comma list of those"


_DOM_FORMS = (
    "as a value, a range a-b or *, optionally with a step /n, or L (last day), L-n (n days "
    "before it, 1-30), LW (last weekday), L-nW, nW (the weekday nearest day n), or a comma "
    "list of those"
)
_DOW_FORMS = (
    "as a value, a range a-b or *, optionally with a step /n, or d#n (the n-th day d of the "
    "month, n 1-5, e.g. TUE#2), dL (the last day d of the month, e.g. FRIL), or a comma "
    "list of those"
)


def _field_check(
    name: str, pattern: str, values: str, index: int, forms: str = _FORMS
) -> ExpressionCheck:
    """The check of one of the five classic fields, at its place in 5 and 6 field forms."""
    five = [_TOKEN] * 5
    five[index] = pattern
    six = [_TOKEN] * 6
    six[index + 1] = pattern
    return ExpressionCheck(
        f"the {name} field must be {values}, {forms}",
        ((FIVE_FIELDS, _cron(*five)), (SIX_FIELDS, _cron(*six))),
    )


EXPRESSION_CHECKS: tuple[ExpressionCheck, ...] = (
    ExpressionCheck(SHAPE_MESSAGE, ((None, SHAPE),)),
    ExpressionCheck(
        f"the seconds field (first of 6) must be 0-59, {_FORMS}",
        ((SIX_FIELDS, _cron(SECOND, *[_TOKEN] * 5)),),
    ),
    _field_check("minute", MINUTE, "0-59", 0),
    _field_check("hour", HOUR, "0-23", 1),
    _field_check("day-of-month", DAY_OF_MONTH, "? or 1-31", 2, _DOM_FORMS),
    _field_check("month", MONTH, "1-12 or JAN-DEC", 3),
    _field_check(
        "day-of-week", DAY_OF_WEEK, "? or 0-7 (0 and 7 are Sunday) or SUN-SAT", 4, _DOW_FORMS
    ),
    ExpressionCheck("@every needs a duration of at least 1s", ((ZERO_EVERY, None),)),
)
"""Every admission check of one schedule expression, in the order messages are reported."""


def schedule_expression_rules() -> tuple[Rule, ...]:
    """CEL rules for one schedule expression string."""
    return tuple(check.rule() for check in EXPRESSION_CHECKS)


def admission_problems(text: str) -> list[str]:
    """The messages the API server gives for ``text`` (empty if it is admitted)."""
    return [check.message for check in EXPRESSION_CHECKS if not check.passes(text)]


TIME_ZONE_PATTERN = r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*$"
"""The shape of an IANA zone name, as ``kron.schedule.load_zone`` checks it. Which
names exist depends on the tzdata in use, so unknown names are reported by the
operator (condition Ready=False, reason InvalidTimeZone), not at admission."""

NAME_LENGTH_RULE = Rule(
    rule=f"size(self.metadata.name) <= {MAX_TASK_NAME_LENGTH}",
    message=f"metadata.name must be at most {MAX_TASK_NAME_LENGTH} characters, so that run "
    "names (<name>-<10-digit unix time>) fit the 63-character limit of label values",
    field_path=".metadata.name",
    reason="FieldValueInvalid",
)

KNOWN_LENIENCIES = (
    "ranges whose start is after their end (30-10), and out-of-range values written with "
    "more than 9 digits",
    "day-of-month and month combinations that never occur (0 0 30 2 *, 0 0 L-30 FEB *, "
    "0 0 30W 2 *)",
    "@every durations that are not a whole number of seconds (0.5s, 1.0001m), or longer "
    "than 100 years",
    "@at dates that do not exist (2030-02-30T00:00:00Z), non-zero fractions of a second, "
    "years outside 1800-9998",
    "time zone names of the right shape that tzdata does not know (Mars/Olympus_Mons), and "
    "localtime, posixrules, right/...",
)
"""What admission accepts and ``kron.schedule`` rejects. The operator reports these as
condition Ready=False with reason InvalidSchedule or InvalidTimeZone."""
