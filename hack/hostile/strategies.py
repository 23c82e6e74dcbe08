"""Hypothesis strategies for what a careless or hostile tenant can write.

Each strategy mixes values the API server admits with values only a buggy client
or an older schema could have stored: wrong types in the free-form template, dates
anywhere in years 1-9999 with any offset, numbers up to int64 and beyond, deep
nesting, unicode and huge strings, every enum value and some that are not. The
shapes follow the ScheduledTask schema closely enough that a good share of the
objects is admitted, so the planner is exercised and not only the validators.
"""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st

from kron.api.constants import LABEL_TASK, LABEL_TASK_UID

INT64 = 2**63 - 1
EXPRESSIONS = [
    "* * * * *",
    "* * * * * *",
    "*/7 * * * * *",
    "0 0 29 2 *",
    "30 2 * * *",
    "0 * * * *",
    "@hourly",
    "@daily",
    "@yearly",
    "@every 1s",
    "@every 1h30m",
    "@every 876000h",
    "@at 2026-01-01T00:00:00Z",
    "@at 9998-12-31T23:59:59+14:00",
    "@at 1800-01-01T00:00:00Z",
    "0 0 31 2 *",
    "0 0 30 2 *",
    "59 23 31 12 SUN",
    "0 0 1,15 * MON",
    "0-59/1 0-23 1-31 1-12 0-7",
    "5-2 * * * *",
    "0 0 L * *",
    "0 0 ? * 5#3",
    "@every 0.5s",
]
ZONES = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Pacific/Apia",
    "America/Santiago",
    "Asia/Kolkata",
    "Mars/Olympus_Mons",
    "localtime",
    "Etc/GMT+12",
    "right/UTC",
    "",
]
ENUMS = {
    "concurrencyPolicy": ["Allow", "Forbid", "Replace", "Queue"],
    "catchUpPolicy": ["Latest", "All", "None"],
}


numbers = st.one_of(
    st.integers(min_value=-5, max_value=200),
    st.sampled_from([0, 1, 59, 60, 86_400, 86_401, 316_224_000, 2**31, 2**53, INT64, -INT64]),
    st.integers(),
)
floats = st.one_of(
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False),
    st.sampled_from([1.0, 1.0000001, 100.0, 100.1, 1e308, -0.0]),
)
texts = st.one_of(
    st.text(max_size=20),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.builds(
        lambda n, c: c * n,
        st.sampled_from([1025, 65_537, 300_000]),
        st.sampled_from("x\u00e9\n\u202e"),
    ),
)


@st.composite
def instants(draw: st.DrawFn) -> str:
    """RFC 3339 instants in years 1-9999 with any offset, and a few that are not."""
    year = draw(st.one_of(st.integers(1, 9999), st.sampled_from([1, 1799, 1969, 1970, 9998, 9999])))
    month, day = draw(st.integers(1, 12)), draw(st.integers(1, 28))
    hour, minute, second = (
        draw(st.integers(0, 23)),
        draw(st.integers(0, 59)),
        draw(st.integers(0, 59)),
    )
    offset = draw(
        st.one_of(
            st.just("Z"),
            st.builds(
                lambda sign, h, m: f"{sign}{h:02d}:{m:02d}",
                st.sampled_from("+-"),
                st.integers(0, 23),
                st.integers(0, 59),
            ),
        )
    )
    fraction = draw(st.sampled_from(["", ".000", ".5", ".999999"]))
    text = (
        f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{fraction}{offset}"
    )
    return draw(st.one_of(st.just(text), st.just(text), st.just(text[:-1]), texts))


@st.composite
def cron_fuzz(draw: st.DrawFn) -> str:
    """Five or six cron-looking fields built from plausible and absurd tokens."""
    token = st.one_of(
        st.sampled_from(["*", "?", "*/1", "*/0", "0", "59", "60", "L", "LW", "15W", "5#3", "FRIL"]),
        st.builds(lambda a, b: f"{a}-{b}", st.integers(-1, 100), st.integers(-1, 100)),
        st.builds(lambda a, b: f"{a}/{b}", st.integers(0, 100), st.integers(0, 100)),
        st.builds(str, st.integers(0, 10**12)),
        st.sampled_from(["JAN", "dec", "MON-FRI", "SUN,SAT", "1,,2", "\u0663"]),
    )
    fields = draw(st.lists(token, min_size=4, max_size=7))
    return " ".join(fields)


VALID = EXPRESSIONS[:14]
expressions = st.one_of(
    st.sampled_from(EXPRESSIONS),
    cron_fuzz(),
    st.builds(lambda i: f"@at {i}", instants()),
    st.builds(lambda n, u: f"@every {n}{u}", st.integers(0, 10**9), st.sampled_from("hms")),
    texts,
)

json_leaf = st.one_of(st.none(), st.booleans(), numbers, floats, texts)
json_values = st.recursive(
    json_leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def deep(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {}
    root = node
    for _ in range(depth):
        node["a"] = {}
        node = node["a"]
    return root


nested = st.one_of(
    json_values,
    st.builds(deep, st.sampled_from([30, 33, 200, 1_500, 9_980])),
)

label_maps = st.one_of(
    st.dictionaries(
        st.one_of(
            st.sampled_from([LABEL_TASK, LABEL_TASK_UID, "kron.dev/scheduled-time", "team"]),
            st.text(string.ascii_lowercase + "./-", min_size=1, max_size=20),
        ),
        st.one_of(st.text(max_size=20), json_leaf),
        max_size=5,
    ),
    json_leaf,
)


@st.composite
def valid_instants(draw: st.DrawFn) -> str:
    """Instants any year of the supported range, with any offset."""
    year = draw(st.one_of(st.integers(1800, 9998), st.sampled_from([1970, 2026, 2100])))
    month, day = draw(st.integers(1, 12)), draw(st.integers(1, 28))
    hour, minute = draw(st.integers(0, 23)), draw(st.integers(0, 59))
    offset = draw(st.sampled_from(["Z", "+14:00", "-12:00", "+05:30", "-00:01"]))
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00{offset}"


CALENDAR_NAMES = ["holidays", "business-days", "missing", "broken"]
"""Names the fuzzed calendars and tasks share: some exist, some are broken, one never does."""
day_texts = st.one_of(
    st.builds(
        lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}",
        st.integers(0, 9999),
        st.integers(0, 13),
        st.integers(0, 32),
    ),
    st.builds(lambda m, d: f"--{m:02d}-{d:02d}", st.integers(0, 13), st.integers(0, 32)),
    st.sampled_from(["2026-12-25", "--02-29", "2027-02-29", "0001-01-01", "9999-12-31"]),
    texts,
)
calendar_entries = st.one_of(
    st.fixed_dictionaries(
        {"date": day_texts, "description": st.one_of(st.just("a holiday"), texts)},
        optional={"through": day_texts, "extra": json_leaf},
    ),
    json_leaf,
)


@st.composite
def calendar_specs(draw: st.DrawFn) -> Any:
    """A Calendar's spec: mostly well-formed entries, then junk (huge lists, wrong types)."""
    shape = draw(st.integers(0, 5))
    if shape == 0:
        return draw(json_values)
    if shape == 1:
        # Many entries at once: ranges over centuries, every yearly day.
        first = draw(st.integers(1800, 9000))
        return {
            "entries": [
                {"date": f"{first:04d}-01-01", "through": "9998-12-31", "description": "all"},
                *[{"date": f"--{m:02d}-01", "description": "m"} for m in range(1, 13)],
            ]
            * draw(st.sampled_from([1, 80, 90]))
        }
    spec: dict[str, Any] = {"entries": draw(st.lists(calendar_entries, max_size=6))}
    if draw(st.booleans()):
        spec["description"] = draw(texts)
    return spec


@st.composite
def calendars(draw: st.DrawFn, namespace: str) -> dict[str, Any]:
    """A Calendar object of `namespace` (or another one) named like the tasks' references."""
    return {
        "apiVersion": "kron.dev/v1alpha1",
        "kind": "Calendar",
        "metadata": {
            "name": draw(
                st.one_of(st.sampled_from(CALENDAR_NAMES[:2] + CALENDAR_NAMES[3:]), texts)
            ),
            "namespace": draw(st.sampled_from([namespace, namespace, "tenant-b"])),
            "resourceVersion": str(draw(st.integers(1, 10**6))),
        },
        "spec": draw(calendar_specs()),
    }


calendar_refs = st.lists(st.sampled_from(CALENDAR_NAMES), max_size=3, unique=True)

VALID_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "timeZone": st.sampled_from(ZONES[:7]),
    "startTime": valid_instants(),
    "endTime": valid_instants(),
    "excludeSchedules": st.lists(st.sampled_from(VALID[:9]), max_size=3),
    "jitterSeconds": st.one_of(st.integers(0, 120), st.just(86_400)),
    "suspend": st.booleans(),
    "concurrencyPolicy": st.sampled_from(ENUMS["concurrencyPolicy"]),
    "catchUpPolicy": st.sampled_from(ENUMS["catchUpPolicy"]),
    "startingDeadlineSeconds": st.one_of(st.integers(0, 600), st.just(316_224_000)),
    "retryPolicy": st.fixed_dictionaries(
        {},
        optional={
            "maxRetries": st.integers(0, 100),
            "stopAtNextSchedule": st.booleans(),
            "retryManualRuns": st.booleans(),
            "backoff": st.fixed_dictionaries(
                {},
                optional={
                    "initialSeconds": st.sampled_from([1, 10, 31_622_400]),
                    "multiplier": st.sampled_from([1.0, 2.0, 100.0]),
                },
            ),
        },
    ),
    "suspendAfterFailures": st.integers(1, 1000),
    "successfulRunsHistoryLimit": st.integers(0, 100),
    "failedRunsHistoryLimit": st.integers(0, 100),
    "excludeCalendars": calendar_refs,
    "restrictToCalendars": calendar_refs,
    "successDeadlineSeconds": st.one_of(st.integers(1, 7200), st.just(316_224_000)),
    "maxRuns": st.one_of(st.integers(1, 5), st.just(1_000_000_000)),
}
HOSTILE_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "schedule": expressions,
    "schedules": st.lists(expressions, max_size=18),
    "timeZone": st.one_of(st.sampled_from(ZONES), texts),
    "startTime": instants(),
    "endTime": instants(),
    "excludeSchedules": st.lists(expressions, max_size=18),
    "jitterSeconds": st.one_of(numbers, json_leaf),
    "suspend": json_leaf,
    "concurrencyPolicy": texts,
    "catchUpPolicy": texts,
    "startingDeadlineSeconds": numbers,
    "retryPolicy": st.one_of(
        json_leaf,
        st.fixed_dictionaries(
            {},
            optional={
                "maxRetries": numbers,
                "stopAtNextSchedule": json_leaf,
                "retryManualRuns": json_leaf,
                "backoff": st.one_of(
                    json_leaf,
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "initialSeconds": numbers,
                            "maxSeconds": numbers,
                            "multiplier": floats,
                        },
                    ),
                ),
            },
        ),
    ),
    "suspendAfterFailures": numbers,
    "successfulRunsHistoryLimit": numbers,
    "failedRunsHistoryLimit": numbers,
    "excludeCalendars": st.one_of(
        st.lists(st.one_of(st.sampled_from(CALENDAR_NAMES), texts), max_size=20), json_leaf
    ),
    "restrictToCalendars": st.one_of(
        st.lists(st.one_of(st.sampled_from(CALENDAR_NAMES), texts), max_size=20), json_leaf
    ),
    "successDeadlineSeconds": st.one_of(numbers, json_leaf),
    "maxRuns": st.one_of(numbers, json_leaf),
    "unknownField": json_values,
}
CONTAINER = {"name": "main", "image": "busybox"}


@st.composite
def templates(draw: st.DrawFn, hostile: bool) -> tuple[str, Any]:
    """A Job or Pod template; when `hostile`, one part of it is replaced by junk."""
    metadata: dict[str, Any] = draw(
        st.fixed_dictionaries(
            {}, optional={"labels": st.just({"team": "a"}), "annotations": st.just({"n": "x"})}
        )
    )
    pod_meta: dict[str, Any] = {}
    pod_spec: dict[str, Any] = {"containers": [dict(CONTAINER)], "restartPolicy": "Never"}
    if hostile:
        part = draw(
            st.sampled_from(
                ["metadata", "labels", "pod-labels", "pod-meta", "pod-spec", "containers", "x"]
            )
        )
        if part == "metadata":
            metadata = draw(json_leaf)
        elif part == "labels":
            metadata["labels"] = draw(label_maps)
        elif part == "pod-labels":
            pod_meta["labels"] = draw(label_maps)
        elif part == "pod-meta":
            pod_meta = draw(json_leaf)
        elif part == "pod-spec":
            pod_spec = draw(json_values)
        elif part == "containers":
            pod_spec["containers"] = draw(json_values)
        else:
            pod_spec["containers"][0][draw(st.text(max_size=8))] = draw(nested)
    if draw(st.booleans()):
        template = {"metadata": pod_meta, "spec": pod_spec}
        return "jobTemplate", {"metadata": metadata, "spec": {"template": template}}
    return "podTemplate", {"metadata": metadata, "spec": pod_spec}


@st.composite
def specs(draw: st.DrawFn) -> Any:
    """A valid spec, then up to three hostile mutations (none in a third of the cases)."""
    mutations = draw(st.sampled_from([0, 0, 1, 1, 1, 2, 3]))
    hostile_template = mutations > 0 and draw(st.integers(0, 3)) == 0
    spec: dict[str, Any] = {"schedule": draw(st.sampled_from(VALID))}
    kind, template = draw(templates(hostile_template))
    spec[kind] = template
    for field in sorted(draw(st.sets(st.sampled_from(sorted(VALID_FIELDS)), max_size=5))):
        spec[field] = draw(VALID_FIELDS[field])
    for field in draw(st.lists(st.sampled_from(sorted(HOSTILE_FIELDS)), max_size=mutations)):
        if field == "schedules":
            spec.pop("schedule", None)
        spec[field] = draw(HOSTILE_FIELDS[field])
    return spec


annotations = st.fixed_dictionaries(
    {},
    optional={
        "kron.dev/run-now": texts,
        "kron.dev/resume": texts,
        "kron.dev/backfill": st.one_of(
            st.builds(lambda a, b: f"{a}/{b}", instants(), instants()), texts
        ),
    },
)

task_names = st.from_regex(r"[a-z]([a-z0-9-]{0,50}[a-z0-9])?", fullmatch=True)
