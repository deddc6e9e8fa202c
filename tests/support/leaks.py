"""What a test module may not leave behind: threads, child processes, listening sockets, open files.

Read from the process itself (threading, /proc/self), so nothing is installed for it. A snapshot is
taken before a module's fixtures are set up and compared after they are torn down; what is left
is a leak of that module, named with what it is.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

# Opened by the interpreter, pytest or the kernel on their own schedule, not by a test.
_FILE_PREFIXES_IGNORED = ("/dev/", "/proc/", "/sys/", "pipe:", "anon_inode:", "socket:")


@dataclass(frozen=True)
class Snapshot:
    threads: frozenset[tuple[int, str]]
    children: frozenset[int]
    listening: frozenset[int]  # socket inodes in LISTEN state owned by this process
    files: frozenset[str]

    def leaked_since(self, before: Snapshot) -> list[str]:
        found = [f"thread {name!r}" for ident, name in sorted(self.threads - before.threads, key=lambda t: t[1])]
        found += [f"child process {pid} ({_cmdline(pid)})" for pid in sorted(self.children - before.children)]
        found += [f"listening socket inode {inode}" for inode in sorted(self.listening - before.listening)]
        found += [f"open file {path}" for path in sorted(self.files - before.files)]
        return found


@dataclass
class Owned:
    """Threads, children and sockets that session-scoped fixtures own: not any one module's leak."""

    threads: set[tuple[int, str]] = field(default_factory=set)
    children: set[int] = field(default_factory=set)
    listening: set[int] = field(default_factory=set)

    def add(self, after: Snapshot, before: Snapshot) -> None:
        self.threads |= after.threads - before.threads
        self.children |= after.children - before.children
        self.listening |= after.listening - before.listening

    def remove_from(self, current: Snapshot) -> Snapshot:
        return Snapshot(current.threads - self.threads, current.children - self.children,
                        current.listening - self.listening, current.files)


def snapshot() -> Snapshot:
    return Snapshot(_threads(), _children(), _listening(), _files())


def leaks_after(before: Snapshot, *, owned: Owned | None = None, grace_s: float = 5.0) -> list[str]:
    """What is still there ``grace_s`` after ``before`` (threads and sockets may take a moment to end)."""
    deadline = time.monotonic() + grace_s
    while True:
        now = snapshot()
        leaked = (owned.remove_from(now) if owned else now).leaked_since(before)
        if not leaked or time.monotonic() >= deadline:
            return leaked
        time.sleep(0.05)


# Engine.IO's ping timer sleeps out its interval (25 s) in a plain time.sleep and then returns, because the
# session it pings is closed: it holds nothing, and nothing can wake it earlier.
_THREADS_THAT_END_ON_THEIR_OWN = ("(_send_ping)",)
# The session-wide Playwright event loop grows its default executor (asyncio_N) when a later module first
# needs it: those threads belong to the browser fixture, not to the module that happened to wake them.
_SESSION_THREAD_PREFIXES = ("asyncio_",)


def _threads() -> frozenset[tuple[int, str]]:
    return frozenset((t.ident or 0, t.name) for t in threading.enumerate()
                     if t.is_alive() and not t.name.endswith(_THREADS_THAT_END_ON_THEIR_OWN)
                     and not t.name.startswith(_SESSION_THREAD_PREFIXES))


def _children() -> frozenset[int]:
    pids: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        try:
            pids.update(int(p) for p in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return frozenset(pids)


def _socket_inodes() -> set[int]:
    inodes = set()
    for fd in _fd_targets():
        if fd.startswith("socket:["):
            inodes.add(int(fd[len("socket:["):-1]))
    return inodes


def _listening() -> frozenset[int]:
    mine = _socket_inodes()
    found = set()
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[9]) in mine:
                found.add(int(fields[9]))
    return frozenset(found)


def _files() -> frozenset[str]:
    return frozenset(t for t in _fd_targets() if not t.startswith(_FILE_PREFIXES_IGNORED) and "pytest-of-" in t)


def _fd_targets() -> list[str]:
    targets = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            targets.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue  # closed between listdir and readlink
    return targets


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()[:120]
    except OSError:
        return "gone"
