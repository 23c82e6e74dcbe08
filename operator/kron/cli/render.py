"""Tables and summaries of a task's status, for `kron history` and `kron status`.

Pure: status models and a zone in, lines out. Times are shown in the task's zone,
like `kron next`, so the history of a 03:00 job reads 03:00.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from kron.api import Condition, HistoryEntry, RunCounts, ScheduledTaskStatus
from kron.cli.errors import one_line
from kron.cli.timefmt import format_datetime, format_duration

HISTORY_COLUMNS = ("SCHEDULED", "RESULT", "RUN", "ATTEMPT", "TRIGGER", "DURATION", "MESSAGE")
COUNT_FIELDS = ("fired", "succeeded", "failed", "retried", "missed", "skipped", "excluded")


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to their widest cell, three spaces apart (kubectl's layout)."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append("   ".join(cells).rstrip())
    return lines


def _duration(entry: HistoryEntry) -> str:
    if entry.start_time is None or entry.completion_time is None:
        return "-"
    return format_duration((entry.completion_time - entry.start_time).total_seconds())


def history_rows(history: Sequence[HistoryEntry], zone: ZoneInfo) -> list[list[str]]:
    return [
        [
            format_datetime(entry.scheduled_time, zone),
            entry.result.value,
            entry.name or "-",
            str(entry.attempt),
            entry.trigger.value,
            _duration(entry),
            one_line(entry.message or "", 120),
        ]
        for entry in history
    ]


def counts_line(counts: RunCounts) -> str:
    return "counts: " + ", ".join(f"{name} {getattr(counts, name)}" for name in COUNT_FIELDS)


def history_lines(status: ScheduledTaskStatus | None, zone: ZoneInfo) -> list[str]:
    """The history table (newest first, as the operator keeps it) and the totals."""
    if status is None:
        return ["no history: the operator has not reported on this task yet"]
    lines = (
        table(HISTORY_COLUMNS, history_rows(status.history, zone))
        if status.history
        else ["no runs or ticks recorded yet"]
    )
    return [*lines, counts_line(status.counts)]


def _condition_row(condition: Condition) -> list[str]:
    return [
        condition.type,
        condition.status.value,
        condition.reason or "-",
        one_line(condition.message, 160) or "-",
    ]


def status_lines(
    name: str,
    spec: Mapping[str, object],
    generation: int | None,
    status: ScheduledTaskStatus | None,
    zone: ZoneInfo,
) -> list[str]:
    """A short summary: schedule, conditions, next fire time, active and pending runs."""
    schedules = spec.get("schedules") or [spec.get("schedule")]
    expressions = ", ".join(str(s) for s in schedules) if isinstance(schedules, list) else "?"
    lines = [
        f"scheduledtask.kron.dev/{name}",
        f"schedule: {expressions} ({zone.key})",
        f"suspend:  {str(bool(spec.get('suspend'))).lower()}",
    ]
    if status is None:
        return [*lines, "status:   none yet (the operator has not reconciled this task)"]
    if status.observed_generation is not None and status.observed_generation != generation:
        lines.append(
            f"note:     status is for generation {status.observed_generation}, "
            f"the spec is at {generation}"
        )
    if status.conditions:
        lines.extend(
            table(
                ("CONDITION", "STATUS", "REASON", "MESSAGE"),
                [_condition_row(c) for c in status.conditions],
            )
        )
    lines.append(
        "next:     "
        + (format_datetime(status.next_schedule_time, zone) if status.next_schedule_time else "-")
    )
    lines.append(
        "last:     "
        + (format_datetime(status.last_schedule_time, zone) if status.last_schedule_time else "-")
    )
    active = ", ".join(run.name for run in status.active) or "none"
    lines.append(f"active:   {active}")
    for pending in status.pending:
        lines.append(
            f"pending:  {pending.reason.value} tick of "
            f"{format_datetime(pending.scheduled_time, zone)} (attempt {pending.attempt})"
        )
    lines.append(f"consecutive failures: {status.consecutive_failures}")
    lines.append(counts_line(status.counts))
    return lines
