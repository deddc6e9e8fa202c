"""The cloud client's total deadline per request: one watcher thread cuts the requests that outlive theirs."""

from __future__ import annotations

import socket
import threading
from types import SimpleNamespace

from kiosk.sync.deadline import DeadlineWatch
from tests.conftest import wait_until

WATCHER = "http-deadlines"


def watchers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == WATCHER]


def connection_pair():
    """A request's connection as the adapter sees it (an object with its socket as .sock), and the far end."""
    near, far = socket.socketpair()
    near.settimeout(10)  # a watcher that never cuts fails the test instead of hanging it
    return SimpleNamespace(sock=near), far


def assert_a_silent_request_is_cut_off(watch: DeadlineWatch) -> None:
    connection, far = connection_pair()
    try:
        with watch.opened() as deadline:
            deadline.watch(connection)
            # Nothing is ever sent: only the cut ends this read, with an empty one as a reset connection does.
            assert connection.sock.recv(1) == b""
        assert deadline.expired
    finally:
        watch.close()
        connection.sock.close()
        far.close()


def test_a_request_that_outlives_its_deadline_has_its_read_cut_off_and_is_marked_expired():
    assert_a_silent_request_is_cut_off(DeadlineWatch(0.2))


def test_a_request_finished_in_time_is_never_cut_even_once_its_deadline_has_passed():
    watch = DeadlineWatch(0.2)
    finished, finished_far = connection_pair()
    slow, slow_far = connection_pair()
    try:
        with watch.opened() as early:
            early.watch(finished)
        with watch.opened() as late:
            late.watch(slow)
            assert slow.sock.recv(1) == b""  # cut: so the earlier deadline's moment has passed too
        assert late.expired and not early.expired
        finished_far.sendall(b"x")
        assert finished.sock.recv(1) == b"x"  # its connection still works, for the pool to use again
    finally:
        watch.close()
        for sock in (finished.sock, finished_far, slow.sock, slow_far):
            sock.close()


def test_a_burst_of_requests_shares_one_watcher_thread_which_leaves_once_the_client_is_idle():
    # 2 s of linger: a loaded machine may stall between two requests of the burst for longer than a short one.
    watch = DeadlineWatch(30.0, linger_s=2.0)
    seen = set()
    for _ in range(50):
        with watch.opened():
            seen.update(t.ident for t in watchers())
    assert len(seen) == 1
    wait_until(lambda: not watchers(), timeout_s=15, what="the idle watcher to leave")


def test_closing_stops_the_watcher_at_once_and_a_later_request_is_watched_again():
    watch = DeadlineWatch(0.2, linger_s=60.0)
    with watch.opened():
        pass
    assert watchers()
    watch.close()
    assert not watchers()
    assert_a_silent_request_is_cut_off(watch)
