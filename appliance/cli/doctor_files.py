"""`kioskctl doctor`'s check of the kiosk's private files: the database, its WAL and SHM, and logs.

They hold members' names and phones, so they must be 0600 (owner only). The kiosk creates them so
(kiosk/private_files.py `create_private`); a file copied in, restored from a backup or made before
that rule may still be looser, and this check names it with the command that fixes it.
"""
from __future__ import annotations

import stat
from pathlib import Path
from typing import NamedTuple

# The database is kiosk/config.py's Settings.database_path; SQLite adds -wal and -shm beside it.
DATABASE_FILES = ("kiosk.db", "kiosk.db-wal", "kiosk.db-shm")


class FileCheck(NamedTuple):
    """One check line, in the fields of appliance/cli/doctor.py's CheckResult."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def private_files(data_dir: Path) -> list[Path]:
    """The private files present in the data directory: the database trio and any log written there."""
    if not data_dir.is_dir():
        return []
    found = [data_dir / name for name in DATABASE_FILES if (data_dir / name).exists()]
    return found + sorted(data_dir.glob("*.log"))


def check_private_files(data_dir: Path) -> list[FileCheck]:
    """One line for the lot when all are 0600; otherwise one failed line per looser file, with its fix.

    No line at all before the kiosk has made any of them (a fresh data directory has nothing to check).
    """
    loose: list[FileCheck] = []
    checked = private_files(data_dir)
    for path in checked:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            continue  # SQLite removes -wal and -shm when the last connection closes
        except PermissionError:
            loose.append(FileCheck("private files", False, f"{path} cannot be read by this user",
                                   "run kioskctl doctor as root or as the kiosk user"))
            continue
        if mode & 0o077:
            loose.append(FileCheck("private files", False,
                                   f"{path} is {mode:04o}, open to other users (it holds members' data)",
                                   f"chmod 600 {path}"))
    if loose or not checked:
        return loose
    names = ", ".join(p.name for p in checked)
    return [FileCheck("private files", True, f"0600 in {data_dir}: {names}")]
