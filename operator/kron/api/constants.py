"""Names shared by every layer: API group, labels and annotations.

They are part of kron's public contract (users select runs by these labels and
drive the operator with these annotations), so they live in one place.
"""

from typing import Final

GROUP: Final = "kron.dev"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"
KIND: Final = "ScheduledTask"
PLURAL: Final = "scheduledtasks"
SINGULAR: Final = "scheduledtask"
SHORT_NAME: Final = "stask"
CATEGORY: Final = "kron"
CRD_NAME: Final = f"{PLURAL}.{GROUP}"

# Labels and annotations with this prefix are kron's own; templates may not set them.
RESERVED_PREFIX: Final = f"{GROUP}/"

# Labels on every run (Job or Pod).
LABEL_TASK: Final = f"{GROUP}/task"
LABEL_TASK_UID: Final = f"{GROUP}/task-uid"
LABEL_SHARD: Final = f"{GROUP}/shard"
"""The task's shard bucket (0-255), so that each shard watches only its runs."""

# Annotations on every run.
ANN_SCHEDULED_TIME: Final = f"{GROUP}/scheduled-time"
ANN_ATTEMPT: Final = f"{GROUP}/attempt"
ANN_TRIGGER: Final = f"{GROUP}/trigger"
ANN_SCHEDULED_RUN: Final = f"{GROUP}/scheduled-run"
"""With maxRuns: which scheduled run (1, 2, ...) of the count the run is, so the count
survives a run deleted before the status counting it was written (Replace)."""

# Imperative annotations on the task.
ANN_RUN_NOW: Final = f"{GROUP}/run-now"
ANN_BACKFILL: Final = f"{GROUP}/backfill"
ANN_RESUME: Final = f"{GROUP}/resume"

# Longest task name: `<task>-<10-digit unix seconds>` must fit a 63-character label
# value (the Job controller copies the Job name into the `job-name` label).
MAX_TASK_NAME_LENGTH: Final = 52
MAX_RUN_NAME_LENGTH: Final = 63

# Shape limits of the ScheduledTask API (schema maxima; also bound CEL cost).
MAX_SCHEDULES: Final = 16
MAX_EXCLUDE_SCHEDULES: Final = 16
MAX_EXPRESSION_LENGTH: Final = 256
MAX_TIME_ZONE_LENGTH: Final = 64
MAX_JITTER_SECONDS: Final = 86_400
MAX_DEADLINE_SECONDS: Final = 10 * 366 * 86_400
"""startingDeadlineSeconds: ten years is already "no deadline" for any schedule."""
MAX_BACKOFF_SECONDS: Final = 366 * 86_400
"""retryPolicy.backoff initialSeconds and maxSeconds: a retry a year later at most."""
MAX_BACKOFF_MULTIPLIER: Final = 100.0
MAX_HISTORY: Final = 10
MAX_RETRIES: Final = 100
MAX_UPCOMING: Final = 5
MAX_ACTIVE_RUNS: Final = 100
MAX_INDEXED_RUNS: Final = 1000
"""Runs kron keeps in its index per task: the active cap and both history limits
(100 each) with room to spare. More objects claiming to be one task's runs (only
someone who can write in its namespace can make them) are ignored and counted, so
planning a task never walks an unbounded list."""
"""Most runs of one task at once, whatever its concurrencyPolicy: a tick that would
start one more is skipped (reason TooManyActive). Keeps status.active bounded."""
MAX_PENDING: Final = 100
"""Most ticks waiting in status.pending (the queued tick and retries): a failed run
whose retry would make one more fails for good instead."""
MAX_MESSAGE_LENGTH: Final = 1024
"""Characters of any message kron stores in a status (conditions, history)."""
MAX_TOKEN_LENGTH: Final = 64
"""status.handledRequests keeps digests (sha256:...), never the annotations' values."""
MAX_STATUS_BYTES: Final = 96 * 1024
"""What a task's status can reach as JSON, whatever the input (etcd's limit for a
whole object is 1.5 MiB); tests/unit/planner/test_status_bounds.py builds the
largest one."""

# The Calendar kind (kron.dev/v1alpha1): days a task excludes or is restricted to.
CALENDAR_KIND: Final = "Calendar"
CALENDAR_PLURAL: Final = "calendars"
CALENDAR_SINGULAR: Final = "calendar"
CALENDAR_SHORT_NAME: Final = "kcal"
CALENDAR_CRD_NAME: Final = f"{CALENDAR_PLURAL}.{GROUP}"
MAX_CALENDAR_ENTRIES: Final = 1000
"""Entries of one Calendar: 25 years of any country's public holidays fit."""
MAX_CALENDAR_DESCRIPTION: Final = 256
"""Characters of a Calendar's description and of each entry's."""
MAX_TASK_CALENDARS: Final = 8
"""Calendars one task may name in excludeCalendars, and again in restrictToCalendars."""
MAX_CALENDAR_NAME_LENGTH: Final = 253
MAX_RUNS: Final = 1_000_000_000
"""Largest maxRuns (a billion runs is "no limit" for any schedule)."""
