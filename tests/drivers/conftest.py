"""Fixtures for driver tests: an event sink that tests can wait on."""
from __future__ import annotations

import queue
import time
from typing import Callable, Iterator

import pytest

from drivers.emulated.pty import PtyEmulator
from drivers.events import CardRead, ReaderState, ReaderStatus


class EventLog:
    """Collects events from a reader thread; tests wait for the one they expect."""

    def __init__(self) -> None:
        self._queue: queue.Queue[object] = queue.Queue()
        self.seen: list[object] = []

    def __call__(self, event: object) -> None:
        self._queue.put(event)

    def wait_for(self, match: Callable[[object], bool], timeout_s: float = 3.0) -> object:
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no matching event within {timeout_s}s; saw {self.seen!r}")
            try:
                event = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append(event)
            if match(event):
                return event

    def wait_card(self, timeout_s: float = 3.0) -> CardRead:
        return self.wait_for(lambda e: isinstance(e, CardRead), timeout_s)  # type: ignore[return-value]

    def wait_status(self, state: ReaderState, timeout_s: float = 3.0) -> ReaderStatus:
        return self.wait_for(  # type: ignore[return-value]
            lambda e: isinstance(e, ReaderStatus) and e.state is state, timeout_s
        )

    def drain(self, settle_s: float = 0.0) -> list[object]:
        """Everything that arrives within ``settle_s`` (plus what is already queued)."""
        deadline = time.monotonic() + settle_s
        got: list[object] = []
        while True:
            try:
                event = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            got.append(event)
        self.seen.extend(got)
        return got

    def cards(self, events: list[object]) -> list[CardRead]:
        return [e for e in events if isinstance(e, CardRead)]


@pytest.fixture
def events() -> EventLog:
    return EventLog()


@pytest.fixture
def emulator() -> Iterator[PtyEmulator]:
    with PtyEmulator("rdm6300") as emu:
        yield emu
