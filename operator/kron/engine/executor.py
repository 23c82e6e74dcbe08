"""Carrying out plans against the API server, off the dispatcher's path.

Creates retry transient errors until the tick's expiry and adopt a run that
already exists (a restart, or another replica, created it); deletes are
idempotent; status writes are merge patches coalesced per task, and history
cleanup is released only once the status that records those runs is written.
Every job re-checks leadership and that its task still exists when it runs.
Status writes are `kron.engine.statuswriter`'s.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from kron.api import RunKind
from kron.api.constants import MAX_INDEXED_RUNS
from kron.engine.events import EventRecorder
from kron.engine.faults import Faults, Stage, shorten
from kron.engine.index import TaskEntry
from kron.engine.intake import owned_by
from kron.engine.observing import where
from kron.engine.pool import Lane, WorkPool
from kron.engine.statuswriter import Observer as WriterObserver
from kron.engine.statuswriter import StatusWriter
from kron.k8s.api import ApiError, KubeApi
from kron.k8s.observed import Ignored, read_run, run_owner
from kron.k8s.runs import build_run
from kron.metrics import Metrics
from kron.planner import CreateFailure, CreateRun, DeleteRun, EventType, FailureKind, TaskEvent
from kron.planner.timeutil import rfc3339

log = logging.getLogger(__name__)

MAX_DELETE_ATTEMPTS = 8


def backoff(attempt: int, *, base: float = 0.05, cap: float = 5.0) -> float:
    """Exponential with jitter (half to full), so retries from many tasks spread out."""
    return min(cap, base * 2.0**attempt) * (0.5 + random.random() / 2)


class Observer(WriterObserver, Protocol):
    """What the executor needs from the engine: the status writer's view, and runs."""

    def observe_run(self, kind: RunKind, event_type: str | None, obj: dict[str, Any]) -> None: ...


class Executor:
    def __init__(
        self,
        engine: Observer,
        *,
        api: KubeApi,
        pool: WorkPool,
        metrics: Metrics,
        events: EventRecorder,
        faults: Faults,
        clock: Callable[[], float],
        status_interval: float = 0.0,
    ) -> None:
        self._engine = engine
        self._faults = faults
        self._api = api
        self._pool = pool
        self._metrics = metrics
        self._events = events
        self._clock = clock
        self.statuses = StatusWriter(
            engine,
            api=api,
            pool=pool,
            metrics=metrics,
            faults=faults,
            clock=clock,
            interval=status_interval,
            release_cleanup=self._release_cleanup,
            backoff=lambda attempt: backoff(attempt, base=0.2, cap=30.0),
        )

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
            try:
                await self._create(uid, create, attempt)
            except Exception as err:
                # A fault inside kron: the run failed (with the reason), it does not
                # stay "in flight" and count as active forever.
                entry = self._engine.tasks.get(uid)
                if entry is not None:
                    message = self._faults.report(Stage.BUILD, _where(entry), err)
                    self._give_up(entry, create, FailureKind.REJECTED, message)

        return job

    async def _create(self, uid: str, create: CreateRun, attempt: int) -> None:
        entry = self._engine.tasks.get(uid)
        if entry is None or not self._engine.leading:
            return
        pending = entry.runs.get(create.name)
        if pending is None or not pending.in_flight:
            return  # already seen (watch or another replica) or given up
        try:
            spec = entry.spec
            body = build_run(entry.ref, spec, create) if spec is not None else None
        except Exception as err:
            message = self._faults.report(Stage.BUILD, _where(entry), err)
            self._give_up(
                entry,
                create,
                FailureKind.REJECTED,
                f"the run's manifest cannot be built: {message}",
            )
            return
        if spec is None or body is None:
            self._give_up(entry, create, FailureKind.REJECTED, "the task's spec is not usable")
            return
        kind = spec.kind
        try:
            obj = await self._api.create_run(kind, entry.ref.namespace, body)
        except ApiError as err:
            if err.fenced:
                return  # no longer leading by its own clock: the next leader fires it
            await self._create_failed(entry, create, attempt, err)
            return
        now = self._clock()
        self._metrics.fired(
            entry.ref.namespace,
            entry.ref.name,
            str(create.trigger),
            now - create.fire_at,
            now,
            retry=create.attempt > 0,
        )
        self._engine.observe_run(kind, "ADDED", obj)
        if _still_in_flight(entry, create):
            # Created, but what the API server answered is not this run by kron's
            # rules (say, a mutating webhook took its labels or owner): it would
            # count as active for ever.
            self._give_up(
                entry,
                create,
                FailureKind.REJECTED,
                f"{create.name} was created, but kron does not take the object the API "
                "server returned as this task's run (its owner reference, labels or "
                "kron.dev/ annotations were changed on admission, or more than "
                f"{MAX_INDEXED_RUNS} objects claim to be this task's runs)",
            )
            return
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
                if _is_this_run(entry, create, existing):
                    # The tick already fired (a restart, or another replica): adopt it.
                    self._engine.observe_run(entry.kind, "ADDED", existing)
                    if not _still_in_flight(entry, create):
                        return
                    # The index would not take it after all: never wait on it forever.
                self._give_up(
                    entry,
                    create,
                    FailureKind.CONFLICT,
                    f"{create.name} exists and is not this task's run for this tick (another "
                    "owner, or other kron.dev/ annotations); rename the task or delete it",
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
            self._give_up(entry, create, FailureKind.EXPIRED, one_line_api(err))
            return
        self._give_up(entry, create, FailureKind.REJECTED, one_line_api(err))

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
                if not err.fenced:
                    log.warning("could not delete %s/%s: %s", ref.namespace, delete.name, err)
                current = self._engine.tasks.get(ref.uid)
                if current is not None:
                    current.deleting.discard(delete.name)

        self._pool.submit(lane, job, namespace=ref.namespace)

    # -- writing status --

    def status_dirty(self, entry: TaskEntry, *, at_once: bool = True) -> None:
        self.statuses.dirty(entry, at_once=at_once)

    def flush_statuses(self) -> int:
        return self.statuses.flush()

    def _release_cleanup(self, entry: TaskEntry, deletes: list[DeleteRun]) -> None:
        """The status that records these runs is written: delete them (history)."""
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


def _still_in_flight(entry: TaskEntry, create: CreateRun) -> bool:
    run = entry.runs.get(create.name)
    return run is not None and run.in_flight


def _where(entry: TaskEntry) -> str:
    return where(entry.ref)


def _is_this_run(entry: TaskEntry, create: CreateRun, existing: dict[str, Any]) -> bool:
    """Whether the object holding a run's name is that very run: this task's own (by
    the same rule as the index: controller reference to its UID and name, same
    namespace) for the same tick and attempt."""
    owner = run_owner(existing)
    if owner is None or owner.uid != entry.ref.uid or owned_by(entry.ref, owner) is not None:
        return False
    run = read_run(entry.kind, existing, entry.ref.name)
    return not isinstance(run, Ignored) and (run.nominal, run.attempt) == (
        create.nominal,
        create.attempt,
    )


API_MESSAGE_LIMIT = 1024


def one_line_api(err: ApiError) -> str:
    """The API server's refusal, on one line and at most API_MESSAGE_LIMIT characters."""
    return shorten(err.message or str(err), API_MESSAGE_LIMIT)
