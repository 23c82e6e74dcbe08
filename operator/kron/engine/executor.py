"""Carrying out plans against the API server, off the dispatcher's path.

Creates retry transient errors until the tick's expiry and adopt a run that
already exists (a restart, or another replica, created it); deletes are
idempotent; status writes are merge patches coalesced per task, and history
cleanup is released only once the status that records those runs is written.
Every job re-checks leadership and that its task still exists when it runs.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from kron.api import RunKind
from kron.engine.events import EventRecorder
from kron.engine.index import TaskEntry
from kron.engine.pool import Lane, WorkPool
from kron.k8s.api import ApiError, KubeApi
from kron.k8s.patch import merge_patch
from kron.k8s.runs import build_run, task_uid_of
from kron.metrics import Metrics
from kron.planner import CreateFailure, CreateRun, DeleteRun, EventType, FailureKind, TaskEvent
from kron.planner.timeutil import rfc3339

log = logging.getLogger(__name__)

MAX_DELETE_ATTEMPTS = 8


def backoff(attempt: int, *, base: float = 0.05, cap: float = 5.0) -> float:
    """Exponential with jitter (half to full), so retries from many tasks spread out."""
    return min(cap, base * 2.0**attempt) * (0.5 + random.random() / 2)


class Observer(Protocol):
    """What the executor needs from the engine."""

    tasks: dict[str, TaskEntry]

    @property
    def leading(self) -> bool: ...

    def observe_task(self, event_type: str | None, obj: dict[str, Any]) -> None: ...

    def observe_run(self, kind: RunKind, event_type: str | None, obj: dict[str, Any]) -> None: ...

    def wake(self, uid: str, when: float | None = None) -> None: ...


class Executor:
    def __init__(
        self,
        engine: Observer,
        *,
        api: KubeApi,
        pool: WorkPool,
        metrics: Metrics,
        events: EventRecorder,
        clock: Callable[[], float],
    ) -> None:
        self._engine = engine
        self._api = api
        self._pool = pool
        self._metrics = metrics
        self._events = events
        self._clock = clock

    # -- creating runs --

    def create(self, uid: str, create: CreateRun) -> None:
        entry = self._engine.tasks.get(uid)
        self._pool.submit(
            Lane.CREATE,
            self._create_job(uid, create, 0),
            namespace=entry.ref.namespace if entry is not None else "",
            order=create.fire_at,
        )

    def _create_job(
        self, uid: str, create: CreateRun, attempt: int
    ) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            await self._create(uid, create, attempt)

        return job

    async def _create(self, uid: str, create: CreateRun, attempt: int) -> None:
        entry = self._engine.tasks.get(uid)
        if entry is None or not self._engine.leading:
            return
        pending = entry.runs.get(create.name)
        if pending is None or not pending.in_flight:
            return  # already seen (watch or another replica) or given up
        spec = entry.spec
        if spec is None:
            return
        kind = spec.kind
        body = build_run(entry.ref, spec, create)
        try:
            obj = await self._api.create_run(kind, entry.ref.namespace, body)
        except ApiError as err:
            await self._create_failed(entry, create, attempt, err)
            return
        now = self._clock()
        self._metrics.fired(
            entry.ref.namespace, entry.ref.name, str(create.trigger), now - create.fire_at, now
        )
        self._engine.observe_run(kind, "ADDED", obj)
        self._events.record(
            entry.ref,
            TaskEvent(
                EventType.NORMAL,
                "Fired",
                f"Created {kind} {create.name} for {rfc3339(create.nominal)} ({create.trigger})",
            ),
        )

    async def _create_failed(
        self, entry: TaskEntry, create: CreateRun, attempt: int, err: ApiError
    ) -> None:
        uid = entry.ref.uid
        if err.already_exists:
            try:
                existing = await self._api.get_run(entry.kind, entry.ref.namespace, create.name)
            except ApiError as get_err:
                err = get_err
            else:
                if task_uid_of(existing) == uid:
                    # The tick already fired (a restart, or another replica): adopt it.
                    self._engine.observe_run(entry.kind, "ADDED", existing)
                    return
                self._give_up(
                    entry,
                    create,
                    FailureKind.CONFLICT,
                    f"{create.name} exists and belongs to another owner; rename the task or "
                    "delete that object",
                )
                return
        now = self._clock()
        if err.retryable or err.already_exists:
            if create.expires_at is None or now < create.expires_at:
                delay = backoff(attempt)
                if create.expires_at is not None:
                    delay = min(delay, max(0.0, create.expires_at - now))
                self._pool.submit_later(
                    delay,
                    Lane.CREATE,
                    self._create_job(uid, create, attempt + 1),
                    namespace=entry.ref.namespace,
                    order=create.fire_at,
                )
                return
            self._give_up(entry, create, FailureKind.EXPIRED, str(err))
            return
        self._give_up(entry, create, FailureKind.REJECTED, err.message or str(err))

    def _give_up(
        self, entry: TaskEntry, create: CreateRun, kind: FailureKind, message: str
    ) -> None:
        run = entry.runs.get(create.name)
        if run is not None and run.in_flight:
            del entry.runs[create.name]
        entry.failures.append(
            CreateFailure(
                create.name,
                create.nominal,
                create.attempt,
                create.trigger,
                kind,
                message,
                self._clock(),
            )
        )
        self._engine.wake(entry.ref.uid)

    # -- deleting runs --

    def delete(self, entry: TaskEntry, delete: DeleteRun, *, foreground: bool, lane: Lane) -> None:
        if delete.name in entry.deleting:
            return
        entry.deleting.add(delete.name)
        ref = entry.ref

        async def job(attempt: int = 0) -> None:
            if not self._engine.leading:
                return
            try:
                await self._api.delete_run(
                    delete.kind, ref.namespace, delete.name, delete.uid, foreground=foreground
                )
            except ApiError as err:
                if err.retryable and attempt < MAX_DELETE_ATTEMPTS:
                    self._pool.submit_later(
                        backoff(attempt), lane, lambda: job(attempt + 1), namespace=ref.namespace
                    )
                    return
                log.warning("could not delete %s/%s: %s", ref.namespace, delete.name, err)
                current = self._engine.tasks.get(ref.uid)
                if current is not None:
                    current.deleting.discard(delete.name)

        self._pool.submit(lane, job, namespace=ref.namespace)

    # -- writing status --

    def status_dirty(self, entry: TaskEntry) -> None:
        """Queue a status write for `entry` unless one is queued already.

        One write per task at a time: two merge patches computed from the same
        persisted base could land in either order, the older one last. A change
        made while a write is in flight is sent when that write returns.
        """
        if entry.status_queued:
            return
        entry.status_queued = True
        if not entry.status_writing:
            self._submit_status(entry)

    def _submit_status(self, entry: TaskEntry, attempt: int = 0, delay: float = 0.0) -> None:
        uid, namespace = entry.ref.uid, entry.ref.namespace

        async def job() -> None:
            await self._write_status(uid, attempt)

        if delay > 0:
            self._pool.submit_later(delay, Lane.STATUS, job, key=uid, namespace=namespace)
        else:
            self._pool.submit(Lane.STATUS, job, key=uid, namespace=namespace)

    async def _write_status(self, uid: str, attempt: int = 0) -> None:
        entry = self._engine.tasks.get(uid)
        if entry is None:
            return
        entry.status_queued = False
        if not self._engine.leading:
            return
        entry.status_writing = True
        try:
            retry = await self._patch_status(entry)
        finally:
            entry.status_writing = False
        if retry:
            entry.status_queued = True
            self._submit_status(entry, attempt + 1, backoff(attempt, base=0.2, cap=30.0))
        elif entry.status_queued:
            self._submit_status(entry)  # changed while this write was in flight

    async def _patch_status(self, entry: TaskEntry) -> bool:
        """Write the intended status; True when it should be retried."""
        version = entry.version
        patch = merge_patch(entry.persisted, entry.intended_api())
        if patch:
            if log.isEnabledFor(logging.DEBUG):
                log.debug("status of %s/%s: %s", entry.ref.namespace, entry.ref.name, patch)
            try:
                obj = await self._api.patch_task_status(
                    entry.ref.namespace, entry.ref.name, {"status": patch}
                )
            except ApiError as err:
                self._metrics.status_writes.labels("error").inc()
                if err.not_found:
                    return False
                if err.retryable or err.conflict:
                    return True
                log.error("status of %s/%s rejected: %s", entry.ref.namespace, entry.ref.name, err)
                return False
            self._metrics.status_writes.labels("ok").inc()
            # The response is the whole task: take it as an observation (a spec
            # change that raced with this write is picked up here, not lost).
            self._engine.observe_task("MODIFIED", obj)
        entry.written = max(entry.written, version)
        if entry.cleanup is not None and entry.cleanup[0] <= entry.written:
            _, deletes = entry.cleanup
            entry.cleanup = None
            for delete in deletes:
                if delete.name in entry.runs:
                    self.delete(entry, delete, foreground=False, lane=Lane.CLEANUP)
            self._events.record(
                entry.ref,
                TaskEvent(
                    EventType.NORMAL,
                    "Deleted",
                    f"Deleted {len(deletes)} finished run(s) beyond the history limits",
                ),
            )
        return False
