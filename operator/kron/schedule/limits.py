"""The range of instants the engine computes ticks in, in one place.

Wall-clock arithmetic uses :mod:`datetime` (years 1..9999) and zone offsets reach
about a day, so the engine stays well inside: ticks exist from 1800-01-01T00:00:00Z
up to (not including) 9999-01-01T00:00:00Z. Searches that leave this range end.
"""

from typing import Final

MIN_INSTANT: Final = -5_364_662_400  # 1800-01-01T00:00:00Z
MAX_INSTANT: Final = 253_370_764_800  # 9999-01-01T00:00:00Z (exclusive)
MIN_YEAR: Final = 1800
MAX_YEAR: Final = 9998

# Unix day 0 (1970-01-01) as a proleptic Gregorian ordinal (date.toordinal()).
EPOCH_ORDINAL: Final = 719_163
SECONDS_PER_DAY: Final = 86_400
