"""Virtual readers on pseudo-terminals, speaking each device's real byte format.

The demo, the tests and a developer without hardware run the same driver code
as the Pi: the driver opens ``emulator.port`` through pyserial exactly as it
would open ``/dev/ttyAMA0``.

``port`` is a stable symlink in a private temp dir pointing at the current pty
slave, so ``unplug()`` / ``replug()`` can swap the pty underneath and the
reader finds the device again at the same path, like a udev by-id link.
"""
from __future__ import annotations

import os
import select
import shutil
import tempfile
import threading
import time
import tty
from pathlib import Path
from typing import Callable, Mapping

from drivers import barcode, em4100, magstripe, rdm6300
from drivers.errors import DriverError

_WRITE_TIMEOUT_S = 1.0


#: Emulated device kinds: the bytes the device sends when ``data`` is presented.
#: rdm6300 / em4100-hex: 10 hex card id; em4100-dec: 10-digit card number;
#: magstripe: the swipe line (sentinels included); barcode: the scanned code.
FRAME_ENCODERS: Mapping[str, Callable[[str], bytes]] = {
    "rdm6300": rdm6300.encode_frame,
    "em4100-hex": em4100.encode_hex_line,
    "em4100-dec": em4100.encode_decimal_line,
    "magstripe": magstripe.encode_swipe_line,
    "barcode": barcode.encode_scan,
}


class PtyEmulator:
    """A virtual serial reader of ``kind`` on a pseudo-terminal."""

    def __init__(self, kind: str = "rdm6300") -> None:
        if kind not in FRAME_ENCODERS:
            raise DriverError(
                f"no emulator for device kind {kind!r}; known kinds: {', '.join(sorted(FRAME_ENCODERS))}"
            )
        self.kind = kind
        self._encode = FRAME_ENCODERS[kind]
        self._lock = threading.Lock()
        self._dir = Path(tempfile.mkdtemp(prefix=f"emulated-{kind}-"))
        #: Stable path the driver opens; survives unplug/replug.
        self.port = str(self._dir / f"tty-{kind}")
        self._master: int | None = None
        self._slave: int | None = None
        self._closed = False
        self._plug_in()

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def tap(self, uid: str) -> None:
        """Send the bytes the device sends when card ``uid`` is presented (swiped, scanned)."""
        self.write(self._encode(uid))

    def write(self, raw: bytes) -> None:
        """Send arbitrary bytes (for malformed frames, noise, partial frames)."""
        with self._lock:
            if self._master is None:
                raise DriverError(f"emulated {self.kind} reader is unplugged; call replug() first")
            view = memoryview(raw)
            deadline = time.monotonic() + _WRITE_TIMEOUT_S
            while view:
                try:
                    view = view[os.write(self._master, view):]
                except BlockingIOError:
                    # Nobody is draining the port: fail clearly instead of hanging the demo.
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or not select.select([], [self._master], [], remaining)[1]:
                        raise DriverError(
                            f"the emulated {self.kind} reader's line is full: no reader is reading "
                            f"{self.port}; start the reader first"
                        ) from None

    def unplug(self) -> None:
        """Make the device vanish: the reader's reads fail and the port path disappears."""
        with self._lock:
            self._unplug_locked()

    def replug(self) -> None:
        """Plug a fresh device in at the same ``port`` path."""
        with self._lock:
            if self._closed:
                raise DriverError("emulator is closed; create a new one")
            self._unplug_locked()
            self._plug_in_locked()

    def close(self) -> None:
        with self._lock:
            self._unplug_locked()
            self._closed = True
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> "PtyEmulator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PtyEmulator(kind={self.kind!r}, port={self.port!r}, plugged={self.plugged})"

    def _plug_in(self) -> None:
        with self._lock:
            self._plug_in_locked()

    def _plug_in_locked(self) -> None:
        master, slave = os.openpty()
        # Raw on both ends: no echo, no CR/LF translation, bytes exactly as the device sends them.
        tty.setraw(master)
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        link_tmp = self._dir / "link.tmp"
        link_tmp.unlink(missing_ok=True)
        os.symlink(os.ttyname(slave), link_tmp)
        os.replace(link_tmp, self.port)

    def _unplug_locked(self) -> None:
        Path(self.port).unlink(missing_ok=True)
        # Holding the slave open until now keeps the master writable before the driver
        # opens the port; closing both hangs up the line so the driver's read fails.
        for fd in (self._slave, self._master):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None
