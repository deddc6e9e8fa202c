"""The leak check itself can fail: each kind of leftover is seen, and what ends in time is not."""
from __future__ import annotations

import subprocess
import sys
import threading
import time

from tests.support import leaks


def test_a_thread_left_running_is_named_as_a_leak():
    before = leaks.snapshot()
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="forgotten-worker")
    thread.start()
    try:
        assert leaks.leaks_after(before, grace_s=0.2) == ["thread 'forgotten-worker'"]
    finally:
        stop.set()
        thread.join()
    assert leaks.leaks_after(before, grace_s=1) == []


def test_a_child_process_never_waited_for_is_a_leak():
    before = leaks.snapshot()
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        found = leaks.leaks_after(before, grace_s=0.2)
        assert len(found) == 1 and found[0].startswith(f"child process {child.pid}")
    finally:
        child.wait()
    assert leaks.leaks_after(before, grace_s=1) == []


def test_a_listening_socket_and_an_open_test_file_are_leaks(tmp_path):
    import socket

    before = leaks.snapshot()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    handle = (tmp_path / "kiosk.db").open("w")
    try:
        found = leaks.leaks_after(before, grace_s=0.2)
        assert any(f.startswith("listening socket") for f in found)
        assert f"open file {tmp_path / 'kiosk.db'}" in found
    finally:
        server.close()
        handle.close()
    assert leaks.leaks_after(before, grace_s=1) == []


def test_a_thread_that_ends_within_the_grace_time_is_not_a_leak():
    before = leaks.snapshot()
    threading.Thread(target=time.sleep, args=(0.2,), name="finishing").start()
    assert leaks.leaks_after(before, grace_s=3) == []
