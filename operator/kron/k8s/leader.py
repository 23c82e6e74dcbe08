"""Lease-based leader election: one replica dispatches, the others stand by.

Replicas race for one `coordination.k8s.io/v1` Lease with the semantics of client-go's
`leaderelection` package, so kron behaves like every other controller an operator knows:

- A candidate reads the Lease every `retry_period` and takes it (a PUT guarded by the
  `resourceVersion` it read, so exactly one racer wins) when nobody holds it or when the
  record has not changed for `leaseDurationSeconds` *as measured by this process*: the
  time a record was first seen here, on the local monotonic clock. The holder's
  `renewTime` is written for humans and never compared with the local clock, because
  the clocks of two machines need not agree.
- The leader renews every `retry_period`. If no renewal succeeds for `renew_deadline`
  (counted from when the last successful write was *sent*, which is no later than any
  other replica can have seen it), it stops calling itself leader. As `renew_deadline <
  lease_duration`, that happens before any standby may take over.
- Cancellation while leading stops leading first and then releases the Lease (holder
  cleared, `leaseDurationSeconds: 1`, as client-go's ReleaseOnCancel does), so a standby
  takes over at its next poll instead of after a whole lease duration.

The elector never decides whether a run is created twice: run names are deterministic and
the API server refuses a second create. Election only keeps one replica busy at a time.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from kron.k8s.api import ApiError, KubeApi, Object
from kron.metrics import Metrics

log = logging.getLogger(__name__)

ACQUIRE_JITTER: Final = 0.2
"""A candidate waits `retry_period * (1 + U(0, ACQUIRE_JITTER))` between tries, so standbys
started together do not poll in lockstep."""

LEASE_API_VERSION: Final = "coordination.k8s.io/v1"


def micro_time(moment: datetime | None = None) -> str:
    """RFC 3339 in UTC with microseconds: the wire form of the API's MicroTime type."""
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class LeaseRecord:
    """The election-relevant part of a Lease's spec; any change to it counts as a renewal."""

    holder: str
    duration_seconds: int
    acquire_time: str
    renew_time: str
    transitions: int

    @classmethod
    def of(cls, lease: Object) -> LeaseRecord:
        spec: dict[str, Any] = lease.get("spec") or {}
        return cls(
            holder=str(spec.get("holderIdentity") or ""),
            duration_seconds=_int(spec.get("leaseDurationSeconds")),
            acquire_time=str(spec.get("acquireTime") or ""),
            renew_time=str(spec.get("renewTime") or ""),
            transitions=_int(spec.get("leaseTransitions")),
        )


def _int(value: object) -> int:
    """A Lease written by someone else may omit a field; treat missing as zero."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class _Lost(Exception):
    """The Lease names another holder: this replica is not the leader any more."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


class LeaseElector:
    """Campaign for one Lease forever; call `on_started`/`on_stopped` as leadership changes.

    The callbacks are plain synchronous functions (the engine flips a flag); they alternate
    strictly, starting with `on_started`, and must not raise. `on_stopped` is called
    *before* the Lease can expire for other replicas when renewals fail, and before the
    Lease is released when `run()` is cancelled.
    """

    def __init__(
        self,
        api: KubeApi,
        *,
        namespace: str,
        name: str,
        identity: str,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
        on_started: Callable[[], None],
        on_stopped: Callable[[], None],
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.monotonic,
        release_on_cancel: bool = True,
    ) -> None:
        """`release_on_cancel=False` leaves the Lease to expire on cancellation, as a crash
        would (tests use it to play a crashed leader)."""
        if not (namespace and name and identity):
            raise ValueError("namespace, name and identity must not be empty")
        if not retry_period > 0:
            raise ValueError(f"retry_period must be positive, not {retry_period}")
        if not renew_deadline > retry_period:
            raise ValueError(
                f"renew_deadline ({renew_deadline}) must be longer than retry_period "
                f"({retry_period}): a leader must get to retry before it gives up"
            )
        if not lease_duration > renew_deadline:
            raise ValueError(
                f"lease_duration ({lease_duration}) must be longer than renew_deadline "
                f"({renew_deadline}): a leader that cannot renew must step down before "
                "its Lease expires for the standbys"
            )
        self._api = api
        self._namespace = namespace
        self._name = name
        self._identity = identity
        # Whole seconds on the wire; rounding up keeps the standbys' wait >= lease_duration.
        self._duration_seconds = math.ceil(lease_duration)
        self._renew_deadline = renew_deadline
        self._retry_period = retry_period
        self._on_started = on_started
        self._on_stopped = on_stopped
        self._metrics = metrics
        self._clock = clock
        self._release_on_cancel = release_on_cancel

        self._leading = False
        self._running = False
        self._lease: Object | None = None  # the last Lease object read or written
        self._observed: LeaseRecord | None = None
        self._observed_at = 0.0  # local clock when `_observed` was first seen
        self._renewed_at = 0.0  # local clock when our last successful write was sent
        self._failures = 0  # consecutive failed API calls (one warning per streak)

    # -- public surface -----------------------------------------------------------------

    @property
    def leading(self) -> bool:
        return self._leading

    def may_write(self) -> bool:
        """Whether this replica still holds the Lease by its own clock: it leads and
        its last successful renewal was sent less than `renew_deadline` ago. A
        paused process resumes with this False, before its renew loop has run."""
        return self._leading and self._clock() < self._renewed_at + self._renew_deadline

    @property
    def holder(self) -> str | None:
        """The holderIdentity last observed (None: never read, or nobody holds it)."""
        return (self._observed.holder or None) if self._observed else None

    @property
    def lease_ref(self) -> str:
        return f"{self._namespace}/{self._name}"

    async def run(self) -> None:
        """Campaign until cancelled: acquire, renew, step down on failure, start over."""
        if self._running:
            raise RuntimeError(f"LeaseElector for {self.lease_ref} is already running")
        self._running = True
        log.info("lease %s: campaigning as %s", self.lease_ref, self._identity)
        try:
            while True:
                await self._acquire()
                await self._renew_until_lost()
        except asyncio.CancelledError:
            if self._leading:
                self._stop_leading("shutting down")
            if self._release_on_cancel:
                await self._release()
            raise
        except BaseException:
            if self._leading:
                self._stop_leading("the elector failed")
            raise
        finally:
            self._running = False

    # -- the two phases -----------------------------------------------------------------

    async def _acquire(self) -> None:
        while True:
            held = await self._attempt(self._clock() + self._renew_deadline)
            # An answer that came back too late to leave any renewal time is no
            # leadership; the next try (the Lease names us) renews it.
            if held and self._clock() < self._renewed_at + self._renew_deadline:
                self._start_leading()
                return
            await asyncio.sleep(self._retry_period * (1 + random.random() * ACQUIRE_JITTER))

    async def _renew_until_lost(self) -> None:
        while True:
            # Renew every retry_period; after a failure retry as often, but wake at the
            # deadline at the latest, even mid-request, to step down in time.
            deadline = self._renewed_at + self._renew_deadline
            pause = min(self._retry_period, deadline - self._clock())
            if pause > 0:
                await asyncio.sleep(pause)
            if self._clock() >= deadline:
                self._stop_leading(f"no renewal succeeded for {self._renew_deadline:g}s")
                return
            try:
                await self._attempt(deadline)
            except _Lost as lost:
                self._stop_leading(f"the Lease is now held by {lost.holder}")
                return

    def _start_leading(self) -> None:
        self._leading = True
        log.info(
            "lease %s: leading as %s (transitions: %d)",
            self.lease_ref,
            self._identity,
            self._observed.transitions if self._observed else 0,
        )
        if self._metrics is not None:
            self._metrics.leader.set(1)
            self._metrics.leader_transitions.inc()
        self._on_started()

    def _stop_leading(self, why: str) -> None:
        self._leading = False
        log.log(
            logging.INFO if why == "shutting down" else logging.WARNING,
            "lease %s: stopped leading: %s",
            self.lease_ref,
            why,
        )
        if self._metrics is not None:
            self._metrics.leader.set(0)
            self._metrics.leader_transitions.inc()
        self._on_stopped()

    # -- one try ------------------------------------------------------------------------

    async def _attempt(self, deadline: float) -> bool:
        """Take or keep the Lease once; True when this replica holds it afterwards.

        Raises `_Lost` when leading and the Lease turns out to name another holder. API
        failures are logged (once per streak) and answered with False.
        """
        try:
            held = await self._try_acquire_or_renew(deadline)
        except ApiError as err:
            if err.conflict or err.already_exists:
                # Another replica wrote first: normal in a race, and proof the API answers.
                log.debug("lease %s: lost a race: %s", self.lease_ref, err)
                self._api_answered()
                return False
            self._api_failed(err)
            return False
        self._api_answered()
        return held

    async def _try_acquire_or_renew(self, deadline: float) -> bool:
        if self._leading and self._lease is not None and self.holder == self._identity:
            # Fast path: the leader writes on top of the version it wrote last. A conflict
            # (something else wrote since) or a deleted Lease: read and decide as below.
            try:
                await self._write(self._lease, deadline)
                return True
            except ApiError as err:
                if not (err.conflict or err.not_found):
                    raise
        try:
            lease = await self._call(self._api.get_lease(self._namespace, self._name), deadline)
        except ApiError as err:
            if not err.not_found:
                raise
            return await self._create(deadline)
        record = self._observe(lease)
        if record.holder and record.holder != self._identity:
            if self._leading:
                raise _Lost(record.holder)
            if self._clock() < self._observed_at + record.duration_seconds:
                return False  # held, and renewed within its duration as seen from here
        await self._write(lease, deadline)
        return True

    async def _create(self, deadline: float) -> bool:
        now = micro_time()
        body: Object = {
            "apiVersion": LEASE_API_VERSION,
            "kind": "Lease",
            "metadata": {"name": self._name, "namespace": self._namespace},
            "spec": {
                "holderIdentity": self._identity,
                "leaseDurationSeconds": self._duration_seconds,
                "acquireTime": now,
                "renewTime": now,
                "leaseTransitions": 0,
            },
        }
        sent_at = self._clock()
        try:
            created = await self._call(self._api.create_lease(self._namespace, body), deadline)
        except ApiError as err:
            if not err.already_exists:
                raise
            # Someone else created it first: look at what they wrote, then compete as usual.
            lease = await self._call(self._api.get_lease(self._namespace, self._name), deadline)
            record = self._observe(lease)
            if self._leading and record.holder and record.holder != self._identity:
                raise _Lost(record.holder) from None
            return False
        self._observe(created, at=sent_at)
        self._renewed_at = sent_at
        return True

    async def _write(self, base: Object, deadline: float) -> None:
        """PUT our claim on top of `base` (its resourceVersion guards against races)."""
        previous = LeaseRecord.of(base)
        keeps = previous.holder == self._identity
        now = micro_time()
        spec = dict(base.get("spec") or {})
        spec.update(
            holderIdentity=self._identity,
            leaseDurationSeconds=self._duration_seconds,
            acquireTime=previous.acquire_time if keeps and previous.acquire_time else now,
            renewTime=now,
            leaseTransitions=previous.transitions if keeps else previous.transitions + 1,
        )
        body = {**base, "spec": spec}
        sent_at = self._clock()
        written = await self._call(
            self._api.replace_lease(self._namespace, self._name, body), deadline
        )
        self._observe(written, at=sent_at)
        self._renewed_at = sent_at

    async def _release(self) -> None:
        """Hand the Lease over at once: clear the holder and make it expire in 1 s."""
        if self._lease is None or self._observed is None:
            return
        if self._observed.holder != self._identity:
            return
        now = micro_time()
        spec = dict(self._lease.get("spec") or {})
        spec.pop("holderIdentity", None)
        spec.update(leaseDurationSeconds=1, acquireTime=now, renewTime=now)
        body = {**self._lease, "spec": spec}
        try:
            released = await self._call(
                self._api.replace_lease(self._namespace, self._name, body),
                self._clock() + self._renew_deadline,
            )
        except ApiError as err:
            if err.conflict:  # written since we last saw it: someone else holds it now
                log.debug("lease %s: not released, it changed hands: %s", self.lease_ref, err)
            else:
                log.warning(
                    "lease %s: could not release it (%s); standbys take over once it expires",
                    self.lease_ref,
                    err,
                )
            return
        self._observe(released)
        log.info("lease %s: released", self.lease_ref)

    # -- plumbing -----------------------------------------------------------------------

    def _observe(self, lease: Object, *, at: float | None = None) -> LeaseRecord:
        """Remember the Lease; restart the expiry clock only if its record changed."""
        record = LeaseRecord.of(lease)
        if record != self._observed:
            if self._observed is not None and record.holder != self._observed.holder:
                log.info("lease %s: holder is now %s", self.lease_ref, record.holder or "(nobody)")
            self._observed = record
            self._observed_at = self._clock() if at is None else at
        self._lease = lease
        return record

    async def _call(self, request: Awaitable[Object], deadline: float) -> Object:
        """Await an API call, but never past `deadline` (a hung request must not keep a
        leader that cannot renew in office)."""
        left = deadline - self._clock()
        try:
            return await asyncio.wait_for(request, timeout=max(left, 0.0))
        except TimeoutError:
            raise ApiError(0, "Timeout", f"no answer within {max(left, 0.0):.2f}s") from None

    def _api_failed(self, err: ApiError) -> None:
        self._failures += 1
        if self._failures == 1:
            log.log(
                logging.WARNING if err.retryable else logging.ERROR,
                "lease %s: API call failed, retrying every %gs (repeats of this streak "
                "are logged at debug level): %s",
                self.lease_ref,
                self._retry_period,
                err,
            )
        else:
            log.debug(
                "lease %s: API call failed again (%d): %s", self.lease_ref, self._failures, err
            )

    def _api_answered(self) -> None:
        if self._failures:
            log.info(
                "lease %s: the API server answers again after %d failed calls",
                self.lease_ref,
                self._failures,
            )
            self._failures = 0
