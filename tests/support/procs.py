"""Processes read from /proc, for tests and benchmarks that watch what a server started."""
from __future__ import annotations

from pathlib import Path


def children_of(pid: int) -> list[int]:
    """The pids of the live processes whose parent is ``pid``."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # the name may hold spaces and parentheses
        except OSError:
            continue  # ended while we looked
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children
