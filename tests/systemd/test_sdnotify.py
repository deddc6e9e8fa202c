from __future__ import annotations

import pytest

from kiosk.errors import KioskError
from appliance.sdnotify import NotifyError, SystemdNotifier, socket_address, watchdog_interval_s


def test_ready_with_a_status_arrives_as_one_datagram_on_a_path_socket(notify_socket):
    with SystemdNotifier(notify_socket.env_value) as notifier:
        assert notifier.ready(status="reading cards")
    assert notify_socket.receive() == {"READY": "1", "STATUS": "reading cards"}


def test_watchdog_status_and_stopping_are_sent_as_systemd_expects(notify_socket):
    with SystemdNotifier.from_environ({"NOTIFY_SOCKET": notify_socket.env_value}) as notifier:
        notifier.watchdog()
        notifier.status("syncing 3 events")
        notifier.stopping()
    assert notify_socket.receive() == {"WATCHDOG": "1"}
    assert notify_socket.receive() == {"STATUS": "syncing 3 events"}
    assert notify_socket.receive() == {"STOPPING": "1"}


def test_an_at_sign_means_the_abstract_namespace(abstract_notify_socket):
    with SystemdNotifier(abstract_notify_socket.env_value) as notifier:
        assert notifier.ready()
    assert abstract_notify_socket.receive() == {"READY": "1"}


def test_a_newline_in_a_status_cannot_forge_a_second_assignment(notify_socket):
    with SystemdNotifier(notify_socket.env_value) as notifier:
        notifier.status("reader lost\nREADY=1")
    assert notify_socket.receive() == {"STATUS": "reader lost READY=1"}


def test_without_notify_socket_every_call_is_a_harmless_no_op():
    with SystemdNotifier.from_environ({}) as notifier:
        assert not notifier.enabled
        assert notifier.ready() is False
        assert notifier.watchdog() is False


def test_a_vanished_socket_does_not_raise_into_the_service(tmp_path, notify_socket):
    notifier = SystemdNotifier(str(tmp_path / "gone"))
    assert notifier.watchdog() is False
    notifier.close()


def test_a_relative_notify_socket_is_refused_with_what_to_do():
    with pytest.raises(NotifyError, match="absolute path") as caught:
        socket_address("run/notify")
    assert isinstance(caught.value, KioskError)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"WATCHDOG_USEC": "30000000"}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "4242"}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({}, None),
    ],
)
def test_the_ping_interval_is_half_the_watchdog_timeout_and_only_for_our_pid(environ, expected):
    assert watchdog_interval_s(environ, pid=4242) == expected
