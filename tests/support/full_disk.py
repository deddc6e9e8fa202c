"""A real full disk for tests: a small tmpfs mounted on a test's folder, filled to the last block on demand.

SQLite then fails its writes with SQLITE_FULL and a file write with ENOSPC, exactly as on a Pi whose SD card
filled up; removing the filler gives the space back. Mounting needs root (the CI and the Pi image run as root);
elsewhere the test is skipped with the reason.
"""
from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

FILLER = ".filler"


class SmallDisk:
    def __init__(self, path: Path, size_kib: int = 4096) -> None:
        self.path = Path(path)
        self.size_kib = size_kib
        self._mounted = False

    def __enter__(self) -> "SmallDisk":
        if os.geteuid() != 0:
            pytest.skip("a real full disk needs a tmpfs mount, which needs root")
        self.path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.size_kib}k,mode=0700", "tmpfs", str(self.path)],
                       check=True, capture_output=True)
        self._mounted = True
        return self

    def fill(self) -> None:
        """Take every free block (big writes first, then small ones down to one byte)."""
        with open(self.path / FILLER, "ab", buffering=0) as fh:
            for chunk in (1 << 16, 1 << 12, 1 << 8, 1):
                while True:
                    try:
                        fh.write(b"\0" * chunk)
                    except OSError as exc:
                        if exc.errno != errno.ENOSPC:
                            raise
                        break
        assert os.statvfs(self.path).f_bavail == 0

    def free(self) -> None:
        (self.path / FILLER).unlink(missing_ok=True)

    def __exit__(self, *exc: object) -> None:
        if self._mounted:
            subprocess.run(["umount", str(self.path)], check=True, capture_output=True)
            self._mounted = False
