"""kron on a real control plane: concurrency, retries, failure suspension, history, suspend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support.cluster import ClusterHandle
from support.tasks import (
    apply,
    condition,
    event_reasons,
    job_task,
    run_names,
    runs,
    status,
    wait_condition,
)
from support.wait import wait_until


def _active(jobs: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    return [
        j
        for j in jobs
        if not any(
            c["type"] in ("Complete", "Failed") and c["status"] == "True"
            for c in (j.get("status") or {}).get("conditions", [])
        )
        and not j["metadata"].get("deletionTimestamp")
    ]


def test_forbid_never_runs_two_at_once_and_counts_skips(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    operator()
    apply(
        cluster,
        namespace,
        job_task("serial", "*/2 * * * * *", duration="5s", concurrencyPolicy="Forbid"),
    )
    most_active = 0

    def enough_skips() -> bool:
        nonlocal most_active
        most_active = max(most_active, len(_active(runs(cluster, namespace, "serial"))))
        return status(cluster, namespace, "serial").get("counts", {}).get("skipped", 0) >= 2

    wait_until(enough_skips, timeout=40, message="two skipped ticks")
    assert most_active <= 1
    assert "Skipped" in event_reasons(cluster, namespace, "serial")


def test_replace_deletes_the_active_run_for_the_new_one(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    operator()
    apply(
        cluster,
        namespace,
        job_task("latest", "*/3 * * * * *", duration="60s", concurrencyPolicy="Replace"),
    )
    wait_until(
        lambda: "Replaced" in event_reasons(cluster, namespace, "latest"),
        timeout=30,
        message="a Replaced event",
    )
    wait_until(
        lambda: len(_active(runs(cluster, namespace, "latest"))) == 1,
        timeout=20,
        message="one active run left",
    )
    wait_until(
        lambda: any(
            h.get("message", "").startswith("replaced by")
            for h in status(cluster, namespace, "latest").get("history", [])
        ),
        timeout=20,
        message="the replaced run in history",
    )


def test_queue_starts_the_held_tick_when_the_active_run_ends(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    operator()
    apply(
        cluster,
        namespace,
        job_task("queued", "*/2 * * * * *", duration="5s", concurrencyPolicy="Queue"),
    )
    held = wait_until(
        lambda: next(
            (
                p
                for p in status(cluster, namespace, "queued").get("pending", [])
                if p["reason"] == "Queued"
            ),
            None,
        ),
        timeout=30,
        message="a queued tick in status.pending",
    )
    nominal = int(datetime.fromisoformat(held["scheduledTime"]).timestamp())
    wait_until(
        lambda: (
            f"queued-{nominal}" in run_names(cluster, namespace, "queued")
            or any(
                h["scheduledTime"] == held["scheduledTime"] and h["result"] == "Skipped"
                for h in status(cluster, namespace, "queued")["history"]
            )
        ),
        timeout=30,
        message="the queued tick started (or was superseded by a newer one)",
    )
    assert len(_active(runs(cluster, namespace, "queued"))) <= 1


def test_failed_run_is_retried_then_the_task_stops_after_too_many_failures(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    operator()
    apply(
        cluster,
        namespace,
        job_task(
            "flaky",
            "*/10 * * * * *",
            result="Failed",
            duration="200ms",
            retryPolicy={"maxRetries": 1, "backoff": {"initialSeconds": 1}},
            suspendAfterFailures=2,
        ),
    )
    wait_until(
        lambda: any(n.endswith("-r1") for n in run_names(cluster, namespace, "flaky")),
        timeout=40,
        message="a retry run <task>-<t>-r1",
    )
    retry = next(
        j for j in runs(cluster, namespace, "flaky") if j["metadata"]["name"].endswith("-r1")
    )
    assert retry["metadata"]["annotations"]["kron.dev/trigger"] == "retry"
    assert retry["metadata"]["annotations"]["kron.dev/attempt"] == "1"
    ready = wait_condition(cluster, namespace, "flaky", reason="TooManyFailures", timeout=60)
    assert ready["status"] == "False"
    assert condition(cluster, namespace, "flaky", "Degraded")["status"] == "True"
    assert {"Retrying", "Failed", "TooManyFailures"} <= event_reasons(cluster, namespace, "flaky")
    fired = status(cluster, namespace, "flaky")["counts"]["fired"]
    cluster.kubectl("annotate", "-n", namespace, "scheduledtask", "flaky", "kron.dev/resume=1")
    wait_condition(cluster, namespace, "flaky", "Ready", reason="Scheduled", timeout=30)
    wait_until(
        lambda: status(cluster, namespace, "flaky")["counts"]["fired"] > fired,
        timeout=30,
        message="fires again after resume",
    )


def test_history_limits_delete_old_finished_runs(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    operator(env={"KRON_ROUTINE_EVENTS": "true"})  # Deleted is a routine Event
    apply(
        cluster,
        namespace,
        job_task("tidy", "* * * * * *", duration="200ms", successfulRunsHistoryLimit=1),
    )
    wait_until(
        lambda: status(cluster, namespace, "tidy").get("counts", {}).get("succeeded", 0) >= 5,
        timeout=40,
        message="five successful runs",
    )
    wait_until(
        lambda: len(runs(cluster, namespace, "tidy")) <= 3,
        timeout=30,
        message="old finished runs deleted (1 kept, plus any active)",
    )
    assert "Deleted" in event_reasons(cluster, namespace, "tidy")


def test_suspended_task_fires_nothing_and_does_not_catch_up(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    operator()
    apply(cluster, namespace, job_task("nap", "* * * * * *", suspend=True))
    wait_condition(cluster, namespace, "nap", "Ready", reason="Suspended", timeout=30)
    assert run_names(cluster, namespace, "nap") == []
    before = datetime.now(UTC)
    wait_until(
        lambda: datetime.now(UTC) - before > timedelta(seconds=3), timeout=10, message="3 s pass"
    )
    apply(cluster, namespace, job_task("nap", "* * * * * *", suspend=False))
    wait_until(
        lambda: status(cluster, namespace, "nap").get("counts", {}).get("skipped", 0) >= 3,
        timeout=30,
        message="ticks while suspended counted skipped",
    )
    first = wait_until(
        lambda: run_names(cluster, namespace, "nap"), timeout=20, message="fires after resume"
    )
    assert all(int(n.rsplit("-", 1)[1]) >= int(before.timestamp()) + 3 for n in first)


def test_one_off_at_task_fires_once_and_completes(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    operator()
    at = (datetime.now(UTC) + timedelta(seconds=4)).replace(microsecond=0)
    apply(
        cluster,
        namespace,
        job_task("once", f"@at {at.isoformat().replace('+00:00', 'Z')}", duration="200ms"),
    )
    wait_condition(cluster, namespace, "once", "Ready", reason="Completed", timeout=40)
    assert run_names(cluster, namespace, "once") == [f"once-{int(at.timestamp())}"]


def test_jitter_delays_runs_but_keeps_their_nominal_names(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    operator()
    apply(cluster, namespace, job_task("spread", "*/5 * * * * *", jitterSeconds=4))
    names = wait_until(
        lambda: (n := run_names(cluster, namespace, "spread")) and len(n) >= 2 and n,
        timeout=40,
        message="two jittered runs",
    )
    assert all(int(n.rsplit("-", 1)[1]) % 5 == 0 for n in names)
