"""How many runs start in each minute of the next 24 hours, across a namespace's tasks.

Many tasks on ``0 * * * *`` start together: a herd that loads the API server, the
scheduler and whatever the jobs call. This counts each task's fires (after jitter,
as the operator will start them) per minute so a team sees its herds and where
``jitterSeconds`` would spread them. Pure: the tasks and ``start`` are passed in.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field

from kron.api import ScheduledTask
from kron.planner import timeline_for
from kron.schedule import ScheduleError

MINUTES = 24 * 60
MAX_TICKS = 200_000
"""Most fires counted for one chart (every-second tasks would otherwise make it slow);
the chart says when it stopped early."""
TOP = 10
NAMES_PER_MINUTE = 8


@dataclass(frozen=True, slots=True)
class Peak:
    minute: int  # minutes after the chart's start
    starts: dt.datetime  # in the chart's zone
    count: int
    tasks: list[str]  # the tasks that start then, most runs first (at most NAMES_PER_MINUTE)
    more_tasks: int
    unjittered: list[str]  # of those, the tasks without jitterSeconds


@dataclass(slots=True)
class Herds:
    start: dt.datetime  # first minute (whole minute), in the chart's zone
    counts: list[int] = field(default_factory=lambda: [0] * MINUTES)
    peaks: list[Peak] = field(default_factory=list)
    tasks: int = 0
    skipped: list[str] = field(default_factory=list)  # suspended or invalid
    truncated: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def busiest(self) -> int:
        return max(self.counts)

    def hour_marks(self) -> list[tuple[int, str]]:
        """(minute index, "HH:00") of each whole hour on the chart."""
        first = (60 - self.start.minute) % 60
        return [
            (m, (self.start + dt.timedelta(minutes=m)).strftime("%H:00"))
            for m in range(first, MINUTES, 60)
        ]


HELD_REASONS = frozenset({"TooManyFailures", "Completed"})
"""Ready reasons under which the operator starts no scheduled run."""


def _held(task: ScheduledTask) -> str | None:
    for condition in task.status.conditions if task.status is not None else ():
        if condition.type == "Ready" and condition.reason in HELD_REASONS:
            return "held: " + condition.reason
    return None


def herds(tasks: list[ScheduledTask], start: float, zone: dt.tzinfo) -> Herds:
    """Runs per minute for the 24 hours from the minute of ``start``."""
    first = math.floor(start / 60) * 60
    end = first + MINUTES * 60
    chart = Herds(dt.datetime.fromtimestamp(first, zone))
    per_minute: dict[int, Counter[str]] = {}
    jittered: set[str] = set()
    scanned = 0
    for task in tasks:
        name = task.metadata.name or "?"
        if task.spec.suspend:
            chart.skipped.append(f"{name} (suspended)")
            continue
        held = _held(task)
        if held is not None:
            chart.skipped.append(f"{name} ({held})")
            continue
        try:
            timeline = timeline_for(task.spec, task.metadata.uid or "")
        except ScheduleError as err:
            chart.skipped.append(f"{name} ({err})")
            continue
        chart.tasks += 1
        if task.spec.jitter_seconds:
            jittered.add(name)
        for tick in timeline.ticks(first - 1 - task.spec.jitter_seconds, end):
            scanned += 1
            if scanned > MAX_TICKS:
                chart.truncated = True
                break
            if tick.excluded or not first <= tick.fire_at < end:
                continue
            minute = int((tick.fire_at - first) // 60)
            chart.counts[minute] += 1
            per_minute.setdefault(minute, Counter())[name] += 1
        if chart.truncated:
            break
    ranked = sorted(range(MINUTES), key=lambda m: (-chart.counts[m], m))
    for minute in ranked[:TOP]:
        count = chart.counts[minute]
        if count == 0:
            break
        names = [n for n, _ in per_minute[minute].most_common()]
        shown = names[:NAMES_PER_MINUTE]
        chart.peaks.append(
            Peak(
                minute=minute,
                starts=chart.start + dt.timedelta(minutes=minute),
                count=count,
                tasks=shown,
                more_tasks=len(names) - len(shown),
                unjittered=[n for n in shown if n not in jittered],
            )
        )
    return chart
