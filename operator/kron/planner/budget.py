"""How much work one planning pass may do.

A pass walks ticks (due ones, a backlog, a backfill range). Whatever a tenant
writes, one pass must stay short: the engine plans every task on one event loop
that also renews the leader's Lease and sends every run. A `Budget` counts the
ticks a pass examines and, through a check the engine injects, the time it has
taken (the planner itself never reads a clock). Steps make the work the same on
every replica; the time check is the safety net for steps that are expensive
(the first tick in a year of a time zone whose transitions are not cached yet).

When a budget runs out, each step stops in a way it documents: counts become
lower bounds ("at least"), a backfill continues on a later pass, and the task is
woken again soon.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

PASS_STEPS: Final = 4_000
"""Ticks one pass may examine in all (due ticks, backlog, backfill)."""
CHECK_EVERY: Final = 32
"""Steps between two calls of the time check (it is cheap, not free)."""


def _never() -> bool:
    return False


class Budget:
    """Steps left for a pass, and an optional check that says time is up."""

    __slots__ = ("_countdown", "_expired", "exhausted", "steps")

    def __init__(self, steps: int = PASS_STEPS, expired: Callable[[], bool] = _never) -> None:
        self.steps = steps
        self._expired = expired
        self._countdown = CHECK_EVERY
        self.exhausted = False

    def spend(self, n: int = 1) -> bool:
        """Account for `n` steps; False once the budget is used up (and from then on)."""
        if self.exhausted:
            return False
        self.steps -= n
        self._countdown -= n
        if self.steps < 0:
            self.exhausted = True
        elif self._countdown <= 0:
            self._countdown = CHECK_EVERY
            self.exhausted = self._expired()
        return not self.exhausted

    def out_of_time(self) -> bool:
        """Check the time now (before a step that cannot be split)."""
        if not self.exhausted and self._expired():
            self.exhausted = True
        return self.exhausted
