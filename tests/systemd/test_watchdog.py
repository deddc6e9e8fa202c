from __future__ import annotations

import pytest

from appliance.sdnotify import SystemdNotifier
from appliance.watchdog import (
    BeatState,
    HeartbeatBoard,
    WatchdogError,
    WatchdogSupervisor,
    stale_heartbeats,
)


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return ManualClock()


def test_stale_heartbeats_are_those_older_than_their_own_limit():
    states = {
        "reader:door": BeatState(last_beat=90.0, max_age_s=5.0),
        "db-writer": BeatState(last_beat=99.0, max_age_s=5.0),
        "sync": BeatState(last_beat=50.0, max_age_s=60.0),
    }
    assert stale_heartbeats(states, now=100.0) == ["reader:door"]


def test_pings_while_every_loop_beats_and_stops_when_one_is_stuck(notify_socket, clock):
    board = HeartbeatBoard(clock=clock)
    reader = board.register("reader:pn532", max_age_s=5)
    writer = board.register("db-writer", max_age_s=5)
    with SystemdNotifier(notify_socket.env_value) as notifier:
        supervisor = WatchdogSupervisor(notifier, board, interval_s=1)

        clock.now += 4
        reader.beat()
        writer.beat()
        assert supervisor.tick() is True
        assert notify_socket.receive() == {"WATCHDOG": "1"}

        clock.now += 4
        writer.beat()  # the reader loop is stuck from here on
        clock.now += 2
        assert supervisor.tick() is False
        assert notify_socket.receive() == {"STATUS": "stuck: reader:pn532"}
        assert supervisor.tick() is False
        assert notify_socket.nothing_waiting()  # no ping, and the status is not repeated

        reader.beat()
        writer.beat()
        assert supervisor.tick() is True
        assert notify_socket.receive() == {"STATUS": "running"}
        assert notify_socket.receive() == {"WATCHDOG": "1"}


def test_a_loop_that_ended_on_purpose_no_longer_blocks_the_ping(notify_socket, clock):
    board = HeartbeatBoard(clock=clock)
    removed = board.register("reader:old", max_age_s=1)
    board.register("db-writer", max_age_s=100)
    removed.close()
    clock.now += 10
    with SystemdNotifier(notify_socket.env_value) as notifier:
        assert WatchdogSupervisor(notifier, board, interval_s=1).tick() is True
    assert notify_socket.receive() == {"WATCHDOG": "1"}


def test_the_supervisor_thread_pings_on_its_own_and_stops_on_close(notify_socket):
    board = HeartbeatBoard()
    board.register("db-writer", max_age_s=60)
    with SystemdNotifier(notify_socket.env_value) as notifier:
        with WatchdogSupervisor(notifier, board, interval_s=0.05):
            first = notify_socket.receive(timeout_s=2)
            second = notify_socket.receive(timeout_s=2)
        assert first == second == {"WATCHDOG": "1"}


def test_registering_the_same_loop_twice_is_refused_with_a_hint(clock):
    board = HeartbeatBoard(clock=clock)
    board.register("reader:door", max_age_s=5)
    with pytest.raises(WatchdogError, match="already registered"):
        board.register("reader:door", max_age_s=5)
    with pytest.raises(WatchdogError, match="must be > 0"):
        board.register("reader:window", max_age_s=0)


def test_service_supervision_says_ready_pings_while_healthy_and_says_stopping(notify_socket):
    import os

    from appliance.watchdog import ServiceSupervision

    environ = {"NOTIFY_SOCKET": notify_socket.env_value, "WATCHDOG_USEC": "100000",
               "WATCHDOG_PID": str(os.getpid())}
    with ServiceSupervision(environ) as supervision:
        supervision.board.register("db-writer", max_age_s=60)
        supervision.ready("serving on http://127.0.0.1:8080/")
        assert notify_socket.receive() == {"READY": "1", "STATUS": "serving on http://127.0.0.1:8080/"}
        assert notify_socket.receive(timeout_s=2) == {"WATCHDOG": "1"}
    # Pings sent before close may still be queued ahead of STOPPING=1; none comes after it.
    for _ in range(100):
        message = notify_socket.receive(timeout_s=2)
        if message != {"WATCHDOG": "1"}:
            break
    assert message == {"STOPPING": "1"}
    assert notify_socket.nothing_waiting()  # the supervisor thread stopped before it


def test_service_supervision_outside_systemd_does_nothing_and_runs_no_thread():
    from appliance.watchdog import ServiceSupervision

    with ServiceSupervision({}) as supervision:
        supervision.ready()
        assert supervision.supervisor is None and not supervision.notifier.enabled
