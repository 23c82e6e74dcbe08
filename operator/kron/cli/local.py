"""`kron next` (expression and manifest forms) and `kron crd`: no cluster needed.

`kron next TASK` shares the argument handling here and is handed to
`kron.cli.verbs`, imported only then.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass

from kron.api.crd import render_operator_crds
from kron.cli import clock
from kron.cli.calendar import calendars_by_name
from kron.cli.errors import CliError, UsageError
from kron.cli.manifest import load_manifest
from kron.cli.timefmt import floor_seconds, format_instant
from kron.cli.upcoming import MAX_COUNT, Listing, expression_times, task_times
from kron.dns1123 import is_subdomain
from kron.schedule import ScheduleError, TimeZoneError

DEFAULT_COUNT = 5

# A Kubernetes object name (DNS-1123 subdomain). No expression is one: cron has
# spaces, macros start with '@'.


def note(prog: str, message: str) -> None:
    """Something the user should know that is not an error, on stderr."""
    sys.stderr.write(f"{prog}: note: {message}\n")


def write_lines(lines: list[str]) -> None:
    sys.stdout.write("".join(f"{line}\n" for line in lines))


@dataclass(frozen=True, slots=True)
class NextRequest:
    """What `kron next` was asked for, after the mode-dependent meaning of -n."""

    mode: str  # "expression", "manifest" or "task"
    subject: str
    count: int
    after: int | None
    namespace: str | None


def _count(value: int, prog: str) -> int:
    if not 1 <= value <= MAX_COUNT:
        raise UsageError(f"the count must be between 1 and {MAX_COUNT}, got {value}", prog)
    return value


def next_request(args: argparse.Namespace) -> NextRequest:
    """Decide the mode of `kron next` and check that the flags fit it."""
    prog = str(args.prog_name)
    words: list[str] = list(args.target)
    if args.filename is not None and words:
        raise UsageError("give an expression, a TASK name or -f FILE, not both", prog)
    if args.filename is None and not words:
        raise UsageError("needs an expression, a TASK name or -f FILE", prog)
    if args.filename is not None:
        mode, subject = "manifest", str(args.filename)
    elif len(words) == 1 and is_subdomain(words[0]):
        mode, subject = "task", words[0]
    else:
        mode, subject = "expression", " ".join(words)

    namespace: str | None = args.namespace
    count: int | None = args.count
    if mode == "task":
        if args.n is not None:
            if namespace is not None and namespace != args.n:
                raise UsageError("-n and --namespace disagree", prog)
            namespace = args.n
        misplaced = [flag for flag, value in (("--tz", args.tz), ("--uid", args.uid)) if value]
        if misplaced:
            raise UsageError(
                f"{misplaced[0]} applies to an expression or -f, not to a task in the cluster",
                prog,
            )
    else:
        if args.n is not None:
            try:
                n = int(args.n)
            except ValueError:
                raise UsageError(
                    f"-n takes a count for an expression or -f, got {args.n!r} "
                    "(for a task in a namespace: kron next TASK -n NAMESPACE)",
                    prog,
                ) from None
            if count is not None and count != n:
                raise UsageError("-n and --count disagree", prog)
            count = n
        cluster = [
            flag
            for flag, value in (
                ("--namespace", namespace),
                ("--kubeconfig", args.kubeconfig),
                ("--context", args.context),
            )
            if value
        ]
        if cluster:
            raise UsageError(f"{cluster[0]} applies to a task in the cluster only", prog)
        if mode == "manifest" and args.tz:
            raise UsageError("--tz applies to an expression; a manifest has spec.timeZone", prog)
        if mode == "expression" and args.uid:
            raise UsageError("--uid applies to -f (jitter needs a task)", prog)
    after = floor_seconds(args.after) if args.after is not None else None
    return NextRequest(
        mode, subject, _count(DEFAULT_COUNT if count is None else count, prog), after, namespace
    )


def print_listing(listing: Listing, prog: str, after: int) -> None:
    lines = list(listing.lines())
    write_lines(lines)
    if not lines:
        note(prog, f"no fire times after {format_instant(after, listing.zone)}")


def next_command(args: argparse.Namespace) -> int:
    prog = str(args.prog_name)
    request = next_request(args)
    if request.mode == "task":
        # Imported here: the Kubernetes client is slow to import and not needed above.
        from kron.cli.verbs import next_task_command  # noqa: PLC0415

        return next_task_command(args, request)
    after = request.after if request.after is not None else floor_seconds_now()
    if request.mode == "expression":
        try:
            zone = "UTC" if args.tz is None else str(args.tz)
            listing = expression_times(request.subject, zone, after, request.count)
        except TimeZoneError as err:
            raise CliError(f"--tz {json.dumps(err.expression)}: {err.reason}") from None
        except ScheduleError as err:
            raise CliError(str(err)) from None
        print_listing(listing, prog, after)
        return 0

    label, task, calendar_objects = load_manifest(request.subject)
    spec = task.spec
    calendars = calendars_by_name(calendar_objects) if spec.calendar_names else None
    if calendars is not None and not set(spec.calendar_names) <= set(calendars):
        missing = ", ".join(n for n in spec.calendar_names if n not in calendars)
        note(
            prog,
            f"{label} does not hold the Calendar(s) {missing} the task names: their days are "
            "not applied (put them in the file, or use kron next TASK against the cluster)",
        )
        calendars = None
    uid = args.uid or task.metadata.uid
    if spec.jitter_seconds and not uid:
        note(
            prog,
            f"showing nominal times: spec.jitterSeconds={spec.jitter_seconds} delays each fire "
            "by a fixed amount seeded with the UID the API server assigns at creation "
            "(give --uid, or a manifest with metadata.uid)",
        )
    if spec.suspend:
        note(prog, "spec.suspend is true: the operator skips these ticks until resumed")
    try:
        listing = task_times(
            spec,
            uid or None,
            after,
            request.count,
            show_excluded=args.show_excluded,
            calendars=calendars,
        )
    except ScheduleError as err:
        raise CliError(f"{label}: {err}") from None
    print_listing(listing, prog, after)
    return 0


def floor_seconds_now() -> int:
    return int(clock.now() // 1)


def crd_command(args: argparse.Namespace) -> int:
    """The CRDs the operator reads (ScheduledTask, Calendar), each exactly as in crds/."""
    del args
    sys.stdout.write(render_operator_crds())
    return 0
