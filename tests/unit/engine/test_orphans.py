"""Runs whose task the index does not hold yet: every one is kept while the index
loads (runs are listed before tasks), bounded afterwards, and keyed by the
namespace they are in, so a run elsewhere cannot displace a task's own."""

from __future__ import annotations

from kron.api import RunKind
from kron.engine.intake import Orphans
from kron.k8s.observed import RunOwner
from kron.k8s.runs import TaskRef
from kron.planner import ObservedRun
from support.engine import T0, Clock, engine, task_object


def keep(orphans: Orphans, owner: RunOwner, name: str) -> None:
    orphans.runs(owner)[name] = ObservedRun(name=name, kind=RunKind.JOB, nominal=1)


def owner(i: int, namespace: str = "ns") -> RunOwner:
    return RunOwner(namespace, f"t{i}", f"uid-{i}")


def test_while_loading_every_task_keeps_its_runs_however_many() -> None:
    orphans = Orphans(limit=2)
    for i in range(5):
        keep(orphans, owner(i), f"t{i}-1")
    adopted = [orphans.adopt(TaskRef("ns", f"t{i}", f"uid-{i}")) for i in range(5)]
    assert [list(runs) for runs in adopted] == [[f"t{i}-1"] for i in range(5)]


def test_once_loaded_the_leftovers_go_and_the_rest_is_bounded() -> None:
    orphans = Orphans(limit=2)
    keep(orphans, owner(0), "t0-1")
    orphans.loaded()
    assert len(orphans) == 0  # no listed task claimed it
    for i in range(1, 4):
        keep(orphans, owner(i), f"t{i}-1")
    assert len(orphans) == 2
    assert orphans.adopt(TaskRef("ns", "t1", "uid-1")) == {}  # the oldest went


def test_a_run_in_another_namespace_claiming_the_uid_does_not_displace_the_tasks_own() -> None:
    orphans = Orphans()
    keep(orphans, owner(0), "t0-1")
    keep(orphans, RunOwner("elsewhere", "t0", "uid-0"), "t0-2")
    assert list(orphans.adopt(TaskRef("ns", "t0", "uid-0"))) == ["t0-1"]


def test_a_task_whose_last_orphan_run_is_deleted_is_forgotten() -> None:
    orphans = Orphans()
    keep(orphans, owner(0), "t0-1")
    orphans.discard(owner(0), "t0-1")
    orphans.discard(owner(1), "never-kept")
    assert len(orphans) == 0


def test_the_answer_to_a_write_never_brings_back_a_deleted_task() -> None:
    clock = Clock(T0)
    e = engine(clock)
    obj = task_object("alpha", "team-a", "uid-a", rv=5)
    e.observe_task(None, obj)
    e.observe_task("DELETED", obj)
    answer = task_object("alpha", "team-a", "uid-a", rv=6)
    e.observe_task("MODIFIED", answer, known_only=True)
    assert "uid-a" not in e.tasks
    e.observe_task("MODIFIED", answer)  # the watch, though, is the truth
    assert "uid-a" in e.tasks
