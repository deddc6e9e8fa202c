"""Telling a misread from a failed reader: a pure count of malformed frames since the last good read.

A frame that fails its checksum or format is a bad read: the shopper taps again and the reader stays
``connected``. A reader that produces nothing but malformed frames (a floating RX pin, a wrong baud rate,
a dying reader) is in ``error``: after ``error_after`` of them in a row with no good read between.
"""
from __future__ import annotations

from enum import Enum

from drivers.errors import DriverError

#: Malformed frames in a row, with no good read between them, that make a reader ``error`` rather than a
#: misread. A card at the edge of the field gives one or two; line noise gives hundreds a second, so ten is
#: past any shopper's fumbling and is reached within a second of noise.
GARBAGE_ERROR_AFTER = 10


class Verdict(str, Enum):
    ERROR = "error"        # this malformed frame ends a run: report the reader in error
    BAD_READ = "bad_read"  # report a misread (the shopper taps again)
    QUIET = "quiet"        # counted, not reported: one report per interval, or the reader is already in error


class Misreads:
    """Counts malformed frames since the last good read; the caller's clock, no threads."""

    def __init__(self, *, error_after: int = GARBAGE_ERROR_AFTER, report_interval_s: float = 1.0) -> None:
        if error_after < 1:
            raise DriverError(f"garbage_error_after is a count of bad frames, at least 1; got {error_after}")
        self._error_after = error_after
        self._interval_s = report_interval_s
        self.in_row = 0
        self._last_report_at = float("-inf")
        self._suppressed = 0

    def good(self) -> None:
        """A well-formed read: the device works, the run is over."""
        self.in_row = 0

    def bad(self, detail: str, now: float, *, in_error: bool) -> tuple[Verdict, str]:
        """What this malformed frame means, with the detail to report (the parser's, never card digits)."""
        self.in_row += 1
        if self.in_row >= self._error_after and not in_error:
            return Verdict.ERROR, (f"{self.in_row} malformed reads in a row and no good one (the last: {detail}); "
                                   "check the wiring, baud rate and reader")
        # At most one report per interval: a floating RX pin can give hundreds of bad frames a second, which
        # would flood the log (SD card wear) and make the screen and the buzzer flicker.
        if in_error or now - self._last_report_at < self._interval_s:
            self._suppressed += 1
            return Verdict.QUIET, detail
        if self._suppressed:
            detail += f" ({self._suppressed} more malformed reads since the last report)"
        self._suppressed = 0
        self._last_report_at = now
        return Verdict.BAD_READ, detail
