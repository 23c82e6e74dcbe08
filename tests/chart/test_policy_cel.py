"""The policy's CEL, evaluated by a real API server, against its Python statement.

``kron.api.policy.cadence`` says how often an expression fires as the policy judges it
(and tests/unit holds that to the real fire times). Here the API server's verdicts on a
corpus must be exactly those: the interval each refusal quotes, which expressions it
cannot read, which fire on the hour. Then the costliest objects the CRD admits must
get an ordinary verdict, never a CEL error or an exceeded cost budget (with
``failurePolicy: Fail`` either would refuse every such task with an unhelpful message).
"""

from __future__ import annotations

import json
import random
import re
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chart.helm import Helm
from chart.policy import (
    STRICT_LIMITS,
    create,
    create_all,
    installed_policy,
    make_namespaces,
    scheduled_task,
    wait_enforced,
)
from contract.corpus import LENIENT_EXPRESSIONS, VALID_EXPRESSIONS
from kron.api.constants import (
    MAX_CALENDAR_NAME_LENGTH,
    MAX_EXPRESSION_LENGTH,
    MAX_SCHEDULES,
    MAX_TASK_CALENDARS,
)
from kron.api.policy import cadence, policy_spec
from kron.api.policy.cadence import MAX_FIELD_ITEMS
from kron.api.policy.model import MAX_MIN_INTERVAL_SECONDS
from support.cluster import ClusterHandle
from support.wait import wait_until

INTERVAL = re.compile(r"can fire (\d+)s apart")


def _random_field(rng: random.Random, top: int) -> str:
    items = []
    for _ in range(rng.choice([1, 1, 1, 2, 3, 5])):
        a, b = sorted((rng.randint(0, top), rng.randint(0, top)))
        base = rng.choice(["*", str(a), f"{a}-{b}", f"0{a}"])
        step = rng.choice(["", "", f"/{rng.randint(1, 40)}", f"/{rng.randint(1, 9)}"])
        items.append(base + step)
    return ",".join(items)


def corpus() -> list[str]:
    """Every valid expression of the contract corpus, the lenient ones, edge cases of
    the policy, and a fixed sample of random second/minute/hour fields."""
    rng = random.Random(11)
    generated = []
    for _ in range(150):
        fields = [_random_field(rng, 59), _random_field(rng, 23), "*", "*", "*"]
        if rng.random() < 0.4:
            fields.insert(0, _random_field(rng, 59))
        generated.append(" ".join(fields))
    edges = [
        "0,45 9 * * *",
        "0,59 * * * *",
        "0,59 9,10 * * *",
        "58,59 59 23,0 * * *",
        "0 0 0,23 * * *",
        "30 */2 * * *",
        "@every 7m",
        "@every 61s",
        "@every 1h0m0s0.5s",
        "@every 99999h",
        "@every 100000s",
        "@every 1s1s1s1s1s",
        "@at 2030-01-01T10:00:00+05:30",
        ",".join(["1"] * MAX_FIELD_ITEMS) + " * * * *",
        ",".join(["1"] * (MAX_FIELD_ITEMS + 1)) + " * * * *",
        "*/100000 * * * *",
        "0 0 */9999 * * *",
        "0\t*/7   9-17\t* * MON-FRI",
    ]
    seen: dict[str, None] = dict.fromkeys(
        [*VALID_EXPRESSIONS, *LENIENT_EXPRESSIONS, *edges, *generated]
    )
    return list(seen)


@dataclass(frozen=True)
class Judges:
    interval: str  # namespace bound to minIntervalSeconds 86400
    hour: str  # namespace bound to minOnTheHourJitterSeconds 1
    every_limit: str  # namespace bound to every limit
    policy: str  # the every-limit profile's ScheduledTaskPolicy


@pytest.fixture(scope="module")
def judges(cluster: ClusterHandle, helm: Helm, policy_crd_installed: str) -> Iterator[Judges]:
    profiles = {
        "interval": {"limits": {"minIntervalSeconds": MAX_MIN_INTERVAL_SECONDS}},
        "hour": {"limits": {"minOnTheHourJitterSeconds": 1}},
        "all": {"limits": STRICT_LIMITS},
    }
    make, cleanup = make_namespaces(cluster)
    try:
        with installed_policy(cluster, helm, profiles) as policy:
            found = Judges(
                interval=make("interval", policy.label("interval")),
                hour=make("hour", policy.label("hour")),
                every_limit=make("all", policy.label("all")),
                policy=policy.object_name("all"),
            )
            for namespace in (found.interval, found.hour, found.every_limit):
                wait_enforced(cluster, namespace, scheduled_task(schedule="* * * * * *"))
            yield found
    finally:
        cleanup()


def test_api_server_quotes_the_interval_python_estimates(
    cluster: ClusterHandle, judges: Judges
) -> None:
    texts = corpus()
    tasks = [scheduled_task(f"e{i}", schedule=text) for i, text in enumerate(texts)]
    answers = create_all(cluster, judges.interval, tasks)
    wrong = []
    for i, text in enumerate(texts):
        said = answers[f"e{i}"]
        judged = cadence(text)
        if not judged.known:
            expected = "cannot be checked"
            agrees = "cannot be checked against the minimum interval" in said
        elif judged.interval is None or judged.interval >= MAX_MIN_INTERVAL_SECONDS:
            expected, agrees = "admitted", said == ""
        else:
            found = INTERVAL.search(said)
            expected = f"{judged.interval}s"
            agrees = found is not None and int(found.group(1)) == judged.interval
        if not agrees:
            wrong.append(f"{text!r}: python {expected}, API server: {said[-200:] or 'admitted'}")
    assert not wrong, "\n".join(wrong)
    refused = sum(1 for said in answers.values() if said)
    assert 50 < refused < len(texts)  # the corpus exercises both verdicts


def test_api_server_agrees_on_what_fires_on_the_hour(
    cluster: ClusterHandle, judges: Judges
) -> None:
    texts = corpus()
    tasks = [scheduled_task(f"h{i}", schedule=text) for i, text in enumerate(texts)]
    answers = create_all(cluster, judges.hour, tasks)
    wrong = [
        f"{text!r}: python {cadence(text).on_the_hour}, API server {bool(answers[f'h{i}'])}"
        for i, text in enumerate(texts)
        if bool(answers[f"h{i}"]) != cadence(text).on_the_hour
    ]
    assert not wrong, "\n".join(wrong)
    assert all("fires on the hour" in said for said in answers.values() if said)


def _fill(item: str, fixed: str, *, items: int = MAX_FIELD_ITEMS) -> str:
    """A field of ``items`` copies of ``item`` (cut to fit) in front of ``fixed``."""
    while items > 1 and len(",".join([item] * items) + fixed) > MAX_EXPRESSION_LENGTH:
        items -= 1
    return ",".join([item] * items) + fixed


def _long_name(i: int) -> str:
    """A Calendar name of the longest length, alike but for its last two characters."""
    return f"{'c' * (MAX_CALENDAR_NAME_LENGTH - 2)}{i:02d}"


# Items that hold no value ("9-0" is a reversed range the CRD admits): every candidate
# value is compared with every item, the costliest case of the field analysis.
EMPTY = "9-0"
COSTLY: dict[str, dict[str, Any]] = {
    "seconds field": {"schedules": [_fill(EMPTY, " * * * * *")] * MAX_SCHEDULES},
    "minute field": {"schedules": [_fill(EMPTY, " * * * *")] * MAX_SCHEDULES},
    "hour field": {"schedules": ["0 " + _fill(EMPTY, " * * *")] * MAX_SCHEDULES},
    "three full fields": {
        "schedules": [
            " ".join([",".join([EMPTY] * 20)] * 3) + " * * *",
        ]
        * MAX_SCHEDULES
    },
    "every item a full range": {"schedules": [_fill("*/1", " * * * * *")] * MAX_SCHEDULES},
    "longest readable @every": {
        "schedules": ["@every 99999.999999h99999.99999m99999.9999s99999.999s"] * MAX_SCHEDULES
    },
    "most calendars, longest names": {
        "schedules": ["30 9 * * *"] * MAX_SCHEDULES,
        "excludeCalendars": [_long_name(i) for i in range(MAX_TASK_CALENDARS)],
        "restrictToCalendars": [
            _long_name(MAX_TASK_CALENDARS + i) for i in range(MAX_TASK_CALENDARS)
        ],
    },
    "longest expressions, unreadable": {
        "schedules": [_fill("1", " * * * *", items=200)] * MAX_SCHEDULES,
        "excludeSchedules": [_fill("1", " * * * *", items=200)] * MAX_SCHEDULES,
    },
}


@pytest.mark.parametrize("case", list(COSTLY))
def test_costliest_tasks_get_a_verdict_not_an_error(
    cluster: ClusterHandle, judges: Judges, case: str
) -> None:
    for text in COSTLY[case].get("schedules", []):
        assert len(text) <= MAX_EXPRESSION_LENGTH
    task = scheduled_task(jitterSeconds=1, **COSTLY[case])
    answer = create(cluster, judges.every_limit, task)
    _assert_verdict(answer.message, judges.policy)
    assert not answer.admitted  # 16 schedules: maxSchedules at least
    if "excludeCalendars" in COSTLY[case]:
        assert f"name {2 * MAX_TASK_CALENDARS} distinct Calendars" in answer.message


@pytest.mark.parametrize("size", [200, 250_000])
def test_a_huge_backfill_annotation_gets_a_verdict(
    cluster: ClusterHandle, judges: Judges, size: int
) -> None:
    value = ("2030-01-01T00:00:00Z/" + "9" * size)[:size]
    task = scheduled_task(annotations={"kron.dev/backfill": value}, startingDeadlineSeconds=1)
    answer = create(cluster, judges.every_limit, task)
    _assert_verdict(answer.message, judges.policy)
    assert "is not <from>/<to>" in answer.message
    assert len(answer.message) < 2000  # the value is quoted cut short


def _assert_verdict(message: str, policy: str) -> None:
    for failure in ("cost", "resulted in error", "fails to evaluate", "failed to configure"):
        assert failure not in message, message[-600:]
    assert f"of ScheduledTaskPolicy {policy})" in message, message[-600:]


@contextmanager
def type_checker(cluster: ClusterHandle, log: Path) -> Iterator[None]:
    """The controller that type-checks policies against the schemas they read and writes
    the result to their status. The local cluster's controller-manager runs only the
    controllers kron needs, so a second one runs just this controller here; on another
    cluster its own controller-manager does it."""
    binary = cluster.bin_dir / "kube-controller-manager" if cluster.bin_dir else None
    if cluster.local is None or binary is None or not binary.is_file():
        yield
        return
    argv = [
        str(binary),
        f"--kubeconfig={cluster.kubeconfig}",
        "--controllers=validatingadmissionpolicy-status-controller",
        "--leader-elect=false",
        "--secure-port=0",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_policy_type_checks_against_both_schemas(
    cluster: ClusterHandle, policy_crd_installed: str, tmp_path: Path
) -> None:
    """Every expression reads fields the ScheduledTask and ScheduledTaskPolicy schemas
    have, with matching types: a misspelt field would make `has()` read it as unset and
    silently switch a limit off. The API server type-checks validations but not
    variables, so this checks a copy of the policy whose validations are the variables'
    expressions (each wrapped into a boolean), plus the real validations."""
    spec = policy_spec()
    wrapped = [{"expression": f"[{v['expression']}] != []"} for v in spec["variables"]]
    name = f"typecheck-{secrets.token_hex(3)}"
    shadow = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {**spec, "validations": [*wrapped, *spec["validations"]]},
    }
    sources = [v["name"] for v in spec["variables"]] + [
        f"validation {i}" for i in range(len(spec["validations"]))
    ]

    def checked() -> dict[str, Any] | None:
        out = cluster.kubectl("get", "validatingadmissionpolicy", name, "-o", "json").stdout
        policy = json.loads(out)
        status = policy.get("status", {})
        if status.get("observedGeneration") != policy["metadata"]["generation"]:
            return None
        return dict(status)

    cluster.kubectl("apply", "-f", "-", input=json.dumps(shadow))
    try:
        with type_checker(cluster, tmp_path / "kube-controller-manager.log"):
            status = wait_until(checked, timeout=90, message=f"type checking of {name}")
    finally:
        cluster.kubectl("delete", "validatingadmissionpolicy", name, "--ignore-not-found")
    warnings = status.get("typeChecking", {}).get("expressionWarnings", [])
    assert not warnings, [
        (sources[int(re.findall(r"[0-9]+", w["fieldRef"])[0])], w["warning"]) for w in warnings
    ]
