"""TaskEntry keeps statuses as compact JSON: the server's and, while it differs, kron's."""

from __future__ import annotations

from kron.api import RunKind, ScheduledTaskSpec, ScheduledTaskStatus
from kron.engine.index import TaskEntry
from kron.k8s.runs import TaskRef

SERVER = {
    "lastScheduleTime": "2026-01-01T00:00:00Z",
    "conditions": [
        {
            "type": "Ready",
            "status": "True",
            "reason": "Scheduled",
            "message": "ok",
            "lastTransitionTime": "2026-01-01T00:00:00Z",
        }
    ],
}


def entry() -> TaskEntry:
    e = TaskEntry(ref=TaskRef("ns", "t", "uid"))
    e.set_persisted(SERVER, keep_intent=False)
    e.reset_status()
    return e


def test_a_fresh_entry_intends_what_the_server_has() -> None:
    e = entry()
    assert e.persisted == SERVER
    assert e.intended_api() == SERVER
    assert e.status == ScheduledTaskStatus.model_validate(SERVER)
    assert e.ready_reason == "Scheduled"
    assert e._intended is None


def test_an_intended_change_is_kept_until_the_server_shows_it() -> None:
    e = entry()
    status = e.status
    status.last_schedule_time = status.last_schedule_time.replace(minute=5)  # type: ignore[union-attr]
    e.status = status
    assert e.intended_api()["lastScheduleTime"] == "2026-01-01T00:05:00Z"
    assert e.persisted == SERVER
    e.set_persisted(e.intended_api(), keep_intent=True)  # the write's echo
    assert e._intended is None
    assert e.persisted["lastScheduleTime"] == "2026-01-01T00:05:00Z"


def test_the_leader_keeps_its_intent_when_the_server_shows_something_else() -> None:
    e = entry()
    other = {**SERVER, "lastScheduleTime": "2025-12-31T00:00:00Z"}
    e.set_persisted(other, keep_intent=True)
    assert e.persisted == other
    assert e.intended_api() == SERVER


def test_a_standby_follows_the_server() -> None:
    e = entry()
    other = {**SERVER, "lastScheduleTime": "2025-12-31T00:00:00Z"}
    e.set_persisted(other, keep_intent=False)
    e.reset_status()
    assert e.intended_api() == other


def test_status_reads_are_independent_copies() -> None:
    e = entry()
    first = e.status
    first.conditions.clear()
    assert e.status.conditions


def test_an_unreadable_status_restarts_from_empty() -> None:
    e = TaskEntry(ref=TaskRef("ns", "t", "uid"))
    e.set_persisted({"conditions": "not a list"}, keep_intent=False)
    e.reset_status()
    assert e.status == ScheduledTaskStatus()
    assert e.ready_reason == "Pending"
    e.status = e.status  # what the next plan does: it replaces the unreadable status
    assert e.intended_api() == ScheduledTaskStatus().to_api()


def test_the_spec_is_kept_as_the_document_it_was_validated_from() -> None:
    raw = {
        "schedule": "*/5 * * * * *",
        "podTemplate": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}},
    }
    model = ScheduledTaskSpec.model_validate(raw)
    e = entry()
    e.set_spec(model, raw)
    assert e.spec == model
    assert e.spec is not e.spec  # parsed afresh: callers cannot alter the index
    assert e.kind is RunKind.POD
    e.set_spec(None, {"schedule": "bad"})
    assert e.spec is None
