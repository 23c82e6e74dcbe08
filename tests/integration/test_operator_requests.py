"""kron on a real control plane: the run-now and backfill annotations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kron.planner.requests import token_digest
from kron.schedule import manual_run_name
from support.cluster import ClusterHandle
from support.tasks import apply, job_task, run_names, runs, status
from support.wait import wait_until


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def test_run_now_fires_one_manual_run_per_token(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    operator()
    apply(cluster, namespace, job_task("manual", "0 0 1 1 *"))
    cluster.kubectl("annotate", "-n", namespace, "scheduledtask", "manual", "kron.dev/run-now=t1")
    name = manual_run_name("manual", "t1")
    wait_until(lambda: name in run_names(cluster, namespace, "manual"), timeout=30, message=name)
    (job,) = runs(cluster, namespace, "manual")
    assert job["metadata"]["annotations"]["kron.dev/trigger"] == "manual"
    # Re-applying the same value does nothing; a new one fires again.
    cluster.kubectl(
        "annotate", "--overwrite", "-n", namespace, "scheduledtask", "manual", "kron.dev/run-now=t1"
    )
    cluster.kubectl(
        "annotate", "--overwrite", "-n", namespace, "scheduledtask", "manual", "kron.dev/run-now=t2"
    )
    wait_until(
        lambda: manual_run_name("manual", "t2") in run_names(cluster, namespace, "manual"),
        timeout=30,
        message="second manual run",
    )
    assert len(run_names(cluster, namespace, "manual")) == 2
    assert status(cluster, namespace, "manual")["handledRequests"]["runNow"] == token_digest("t2")


def test_backfill_fires_every_tick_of_the_interval_once(
    cluster: ClusterHandle, namespace: str, operator
) -> None:
    operator()
    apply(cluster, namespace, job_task("fill", "0 * * * *", duration="200ms"))
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    start = end - timedelta(hours=3)
    cluster.kubectl(
        "annotate",
        "-n",
        namespace,
        "scheduledtask",
        "fill",
        f"kron.dev/backfill={_iso(start)}/{_iso(end)}",
    )
    expected = {f"fill-{int((start + timedelta(hours=h)).timestamp())}" for h in range(4)}
    wait_until(
        lambda: expected <= set(run_names(cluster, namespace, "fill")),
        timeout=40,
        message="four backfill runs",
    )
    triggers = {
        j["metadata"]["annotations"]["kron.dev/trigger"] for j in runs(cluster, namespace, "fill")
    }
    assert triggers == {"backfill"}
    wait_until(
        lambda: status(cluster, namespace, "fill")["handledRequests"].get("backfillCursor") is None,
        timeout=30,
        message="backfill finished",
    )
