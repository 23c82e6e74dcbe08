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
    st.builds(lambda n, c: c * n, st.integers(0, 300_000), st.sampled_from("x\u00e9\n\u202e")),
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
def pod_specs(draw: st.DrawFn) -> Any:
    container = draw(
        st.one_of(
            st.fixed_dictionaries(
                {"name": st.just("main"), "image": st.just("busybox")},
                optional={"args": st.lists(texts, max_size=3), "x": nested},
            ),
            json_values,
        )
    )
    spec: dict[str, Any] = {"containers": draw(st.one_of(st.just([container]), json_values))}
    if draw(st.booleans()):
        spec["restartPolicy"] = draw(st.sampled_from(["Never", "OnFailure", "Always", "", 7]))
    if draw(st.booleans()):
        spec[draw(st.text(max_size=10))] = draw(nested)
    return draw(st.one_of(st.just(spec), st.just(spec), st.just(spec), json_values))


@st.composite
def templates(draw: st.DrawFn) -> tuple[str, Any]:
    metadata = draw(
        st.one_of(
            st.fixed_dictionaries({}, optional={"labels": label_maps, "annotations": label_maps}),
            json_leaf,
        )
    )
    if draw(st.booleans()):
        pod_meta = draw(
            st.one_of(
                st.fixed_dictionaries(
                    {}, optional={"labels": label_maps, "annotations": label_maps}
                ),
                json_leaf,
            )
        )
        template: Any = {"metadata": pod_meta, "spec": draw(pod_specs())}
        job_spec: Any = {"template": draw(st.one_of(st.just(template), json_values))}
        if draw(st.booleans()):
            job_spec["backoffLimit"] = draw(numbers)
        return "jobTemplate", {"metadata": metadata, "spec": job_spec}
    return "podTemplate", {"metadata": metadata, "spec": draw(pod_specs())}


OPTIONAL_FIELDS = {
    "timeZone": st.one_of(st.sampled_from(ZONES), texts),
    "startTime": instants(),
    "endTime": instants(),
    "excludeSchedules": st.lists(expressions, max_size=18),
    "jitterSeconds": st.one_of(numbers, json_leaf),
    "suspend": st.one_of(st.booleans(), json_leaf),
    "concurrencyPolicy": st.one_of(st.sampled_from(ENUMS["concurrencyPolicy"]), texts),
    "catchUpPolicy": st.one_of(st.sampled_from(ENUMS["catchUpPolicy"]), texts),
    "startingDeadlineSeconds": numbers,
    "retryPolicy": st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                "maxRetries": numbers,
                "stopAtNextSchedule": st.one_of(st.booleans(), json_leaf),
                "backoff": st.one_of(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "initialSeconds": numbers,
                            "maxSeconds": numbers,
                            "multiplier": floats,
                        },
                    ),
                    json_leaf,
                ),
            },
        ),
        json_leaf,
    ),
    "suspendAfterFailures": numbers,
    "successfulRunsHistoryLimit": numbers,
    "failedRunsHistoryLimit": numbers,
    "unknownField": json_values,
}


@st.composite
def specs(draw: st.DrawFn) -> Any:
    spec: dict[str, Any] = {}
    if draw(st.integers(0, 9)) < 8:
        spec["schedule"] = draw(expressions)
    else:
        spec["schedules"] = draw(st.lists(expressions, max_size=18))
    kind, template = draw(templates())
    spec[kind] = template
    chosen = draw(st.sets(st.sampled_from(sorted(OPTIONAL_FIELDS)), max_size=6))
    for field in sorted(chosen):
        spec[field] = draw(OPTIONAL_FIELDS[field])
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
