"""Small files the kiosk keeps to itself: written atomically, secrets readable by the owner only."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from kiosk.errors import KioskError


def write_atomic(path: Path, text: str, mode: int = 0o600) -> None:
    """Write ``text`` so that a power cut leaves the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)  # an old tmp file may have had looser bits
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def create_private(path: Path, mode: int = 0o600) -> None:
    """Create ``path`` empty with ``mode`` if it does not exist, whatever the umask (an existing file is left alone).

    For files another library then opens by name (SQLite's database, logging's log file): made first here,
    they never exist with the umask's looser bits. SQLite gives its -wal and -shm files the mode of the
    database file, so making the database private makes them private too.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, mode)  # os.open's mode is filtered through the umask
    finally:
        os.close(fd)


def require_private(path: Path, what: str, error: type[KioskError] = KioskError) -> None:
    """Refuse a secret file that the group or others can read; FileNotFoundError is the caller's to explain."""
    mode = Path(path).stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise error(f"{what} {path} is open to other users (mode {stat.S_IMODE(mode):04o}); run `chmod 600 {path}`")
