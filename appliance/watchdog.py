"""Pings systemd's watchdog only while every registered loop is alive.

Each long-running loop (a reader loop, the database writer, the sync worker) gets a
Heartbeat and calls beat() every time round. The supervisor sends WATCHDOG=1 only when
every heartbeat is fresh; when one goes stale it stops pinging and reports which one in
STATUS=, so systemd restarts the service after WatchdogSec instead of leaving a kiosk
that looks alive but no longer reads cards or writes the ledger.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

from kiosk.errors import KioskError


class WatchdogError(KioskError):
    """A heartbeat registered twice or with a nonsensical age limit."""


class Notifier(Protocol):
    def watchdog(self) -> bool: ...

    def status(self, text: str) -> bool: ...


@dataclass(frozen=True)
class BeatState:
    last_beat: float
    max_age_s: float


def stale_heartbeats(states: Mapping[str, BeatState], now: float) -> list[str]:
    """Names of the heartbeats older than their own limit, sorted."""
    return sorted(name for name, s in states.items() if now - s.last_beat > s.max_age_s)


class Heartbeat:
    """A handle one loop holds and beats; cheap enough to call on every iteration."""

    def __init__(self, board: "HeartbeatBoard", name: str) -> None:
        self._board = board
        self.name = name

    def beat(self) -> None:
        self._board.beat(self.name)

    def close(self) -> None:
        """The loop ended on purpose (a reader removed from the config): stop watching it."""
        self._board.unregister(self.name)


class HeartbeatBoard:
    """The last beat of every registered loop, shared between threads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._states: dict[str, BeatState] = {}

    def register(self, name: str, max_age_s: float) -> Heartbeat:
        if max_age_s <= 0:
            raise WatchdogError(f"heartbeat {name!r}: max_age_s must be > 0, got {max_age_s}")
        with self._lock:
            if name in self._states:
                raise WatchdogError(
                    f"heartbeat {name!r} is already registered; give each loop its own name"
                )
            # A new loop counts as fresh: it gets max_age_s to reach its first beat.
            self._states[name] = BeatState(self._clock(), max_age_s)
        return Heartbeat(self, name)

    def beat(self, name: str) -> None:
        with self._lock:
            state = self._states.get(name)
            if state is not None:
                self._states[name] = BeatState(self._clock(), state.max_age_s)

    def unregister(self, name: str) -> None:
        with self._lock:
            self._states.pop(name, None)

    def stale(self) -> list[str]:
        with self._lock:
            states = dict(self._states)
        return stale_heartbeats(states, self._clock())


class WatchdogSupervisor:
    """Sends WATCHDOG=1 every interval_s while the board has no stale heartbeat."""

    def __init__(self, notifier: Notifier, board: HeartbeatBoard, interval_s: float) -> None:
        if interval_s <= 0:
            raise WatchdogError(f"watchdog interval must be > 0 seconds, got {interval_s}")
        self._notifier = notifier
        self._board = board
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reported: tuple[str, ...] = ()

    def tick(self) -> bool:
        """One round: ping if all is well, else say what is stuck. True if it pinged."""
        stale = tuple(self._board.stale())
        if stale:
            if stale != self._reported:
                self._notifier.status("stuck: " + ", ".join(stale))
                self._reported = stale
            return False
        if self._reported:
            self._notifier.status("running")
            self._reported = ()
        return self._notifier.watchdog()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.interval_s)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval_s + 1)
            self._thread = None

    def __enter__(self) -> "WatchdogSupervisor":
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class ServiceSupervision:
    """Everything appliance.daemon needs from systemd, in one object.

        with ServiceSupervision(os.environ) as supervision:
            reader_beat = supervision.board.register("reader:front", max_age_s=10)
            ...start the runtime, hand the heartbeats to the loops...
            supervision.ready(f"serving on {url}")   # READY=1, then WATCHDOG=1 while healthy
            wait_for_stop()
        # STOPPING=1 on the way out

    Outside systemd (no NOTIFY_SOCKET) every call is a no-op, and without WATCHDOG_USEC
    no supervisor thread runs.
    """

    def __init__(self, environ: Mapping[str, str], board: HeartbeatBoard | None = None) -> None:
        from appliance.sdnotify import SystemdNotifier, watchdog_interval_s

        self.board = board if board is not None else HeartbeatBoard()
        self.notifier = SystemdNotifier.from_environ(environ)
        interval = watchdog_interval_s(environ)
        self.supervisor = (WatchdogSupervisor(self.notifier, self.board, interval)
                           if interval is not None else None)

    def ready(self, status: str = "running") -> None:
        self.notifier.ready(status=status)
        if self.supervisor is not None:
            self.supervisor.start()

    def close(self) -> None:
        # The pings stop first, so none follows STOPPING=1 (the supervisor's loop stops within one turn).
        if self.supervisor is not None:
            self.supervisor.close()
        self.notifier.stopping()
        self.notifier.close()

    def __enter__(self) -> "ServiceSupervision":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
