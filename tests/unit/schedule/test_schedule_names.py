"""Run names: deterministic, valid DNS-1123 subdomains of at most 63 characters."""

from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kron.schedule import MAX_RUN_NAME_LENGTH, manual_run_name, run_name

SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def valid(name: str) -> bool:
    return len(name) <= 63 and SUBDOMAIN.fullmatch(name) is not None


def test_run_name_is_task_and_nominal_seconds() -> None:
    assert run_name("backup", 1_900_000_000) == "backup-1900000000"


def test_retry_appends_the_attempt() -> None:
    assert run_name("backup", 1_900_000_000, 2) == "backup-1900000000-r2"
    assert run_name("backup", 1_900_000_000, 0) == run_name("backup", 1_900_000_000)


def test_manual_run_name_hashes_the_token() -> None:
    token_hash = hashlib.sha256(b"deploy-42").hexdigest()[:10]
    assert manual_run_name("backup", "deploy-42") == f"backup-m{token_hash}"
    assert manual_run_name("backup", "deploy-42") != manual_run_name("backup", "deploy-43")


def test_long_task_name_is_truncated_with_a_hash_of_the_full_name() -> None:
    task = "nightly-database-backup-for-the-accounting-department-eu"  # 55 characters
    name = run_name(task, 1_900_000_000, 3)
    task_hash = hashlib.sha256(task.encode()).hexdigest()[:8]
    assert len(name) == MAX_RUN_NAME_LENGTH == 63
    assert name.endswith(f"-{task_hash}-1900000000-r3")
    assert task.startswith(name.split(f"-{task_hash}")[0])
    assert valid(name)


def test_truncation_never_leaves_a_dash_or_dot_before_the_hash() -> None:
    # With suffix "-1900000000-r12" (15) and the hash tag (9), 39 task characters fit;
    # these names put a "." or "-" at the cut, which is stripped.
    for task in ("a" * 38 + "." + "b" * 30, "a" * 37 + "--" + "b" * 30):
        name = run_name(task, 1_900_000_000, 12)
        assert valid(name), name
        assert name.startswith(("a" * 38 + "-", "a" * 37 + "-"))
        assert "-." not in name and ".-" not in name and "--" not in name


def test_tasks_sharing_a_long_prefix_get_distinct_names() -> None:
    prefix = "x" * 60
    names = {run_name(f"{prefix}-{i}", 1_900_000_000) for i in range(50)}
    assert len(names) == 50


@pytest.mark.parametrize("task", ["", "Backup", "back_up", "-backup", "backup-", "a..b", "ä"])
def test_invalid_task_names_are_refused(task: str) -> None:
    with pytest.raises(ValueError, match="DNS-1123"):
        run_name(task, 1_900_000_000)
    with pytest.raises(ValueError, match="DNS-1123"):
        manual_run_name(task, "token")


def test_negative_nominal_or_attempt_is_refused() -> None:
    with pytest.raises(ValueError):
        run_name("backup", -1)
    with pytest.raises(ValueError):
        run_name("backup", 1, -1)


LABEL = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True)
TASKS = st.lists(LABEL, min_size=1, max_size=8).map(".".join).filter(lambda t: len(t) <= 253)


@settings(max_examples=120, deadline=None)
@given(task=TASKS, nominal=st.integers(0, 253_370_764_799), attempt=st.integers(0, 100))
def test_every_run_name_is_a_valid_deterministic_subdomain(
    task: str, nominal: int, attempt: int
) -> None:
    name = run_name(task, nominal, attempt)
    assert valid(name)
    assert name == run_name(task, nominal, attempt)
    assert name.endswith(f"-{nominal}" if attempt == 0 else f"-{nominal}-r{attempt}")
    manual = manual_run_name(task, f"token-{nominal}")
    assert valid(manual)


@settings(max_examples=80, deadline=None)
@given(
    tasks=st.lists(TASKS, min_size=2, max_size=2, unique=True),
    nominals=st.lists(st.integers(0, 10**11), min_size=2, max_size=2),
)
def test_different_tasks_or_ticks_get_different_names(
    tasks: list[str], nominals: list[int]
) -> None:
    first, second = tasks
    assert run_name(first, nominals[0]) != run_name(second, nominals[1])
    assert run_name(first, nominals[0]) != run_name(first, nominals[0], 1)
