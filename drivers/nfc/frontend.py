"""Open an nfcpy ContactlessFrontend for a reader path, with clear errors.

Two kinds of path:

* an nfcpy search path - ``tty:S0:pn532``, ``tty:serial0:pn532``, ``usb``,
  ``usb:072f:2200`` (ACR122U) - handed to ``ContactlessFrontend.open``;
* a filesystem path to a serial port with a PN532 on it - ``/dev/ttyS0``,
  ``/dev/serial0``, a pty from :mod:`drivers.emulated.pn532`. nfcpy's ``tty:``
  search only finds names directly under ``/dev`` (no ``/dev/pts/N``, no
  symlinks elsewhere), so for these we build nfcpy's own serial transport
  (``nfc.clf.transport.TTY``) and run nfcpy's own ``nfc.clf.pn532.init`` on it,
  exactly the two calls ``ContactlessFrontend.open("tty:...:pn532")`` makes.
"""
from __future__ import annotations

import errno
import logging
import os
from dataclasses import dataclass

import nfc
import nfc.clf
import nfc.clf.pn532
import nfc.clf.transport

from drivers.errors import TransportError

log = logging.getLogger(__name__)


@dataclass
class OpenFrontend:
    """A ready ContactlessFrontend and, for serial ports, the transport under it."""

    clf: nfc.ContactlessFrontend
    description: str
    transport: nfc.clf.transport.TTY | None = None

    def close(self) -> None:
        """Put the chip to sleep if it still answers, and always release the port."""
        try:
            self.clf.close()
        except Exception as error:  # noqa: BLE001 - the device may be gone half-way through nfcpy's close
            log.debug("closing %s: %s", self.description, type(error).__name__)
        if self.transport is not None:
            try:
                self.transport.close()
            except Exception as error:  # noqa: BLE001 - releasing the port must not raise
                log.debug("releasing the port of %s: %s", self.description, type(error).__name__)


def open_frontend(path: str) -> OpenFrontend:
    """Open the reader at ``path``; raise TransportError saying what to check."""
    if path.startswith("/"):
        return _open_pn532_serial(path)
    return _open_nfcpy_path(path)


def _open_pn532_serial(path: str) -> OpenFrontend:
    # Resolve symlinks (/dev/serial0 -> ttyS0) so nfcpy sees the real port
    # name: it keeps the Pi's mini UART (/dev/ttyS0) at 115200 baud.
    port = os.path.realpath(path)
    if not os.path.exists(port):
        raise TransportError(
            f"serial port {path} does not exist; check the reader URI, that the UART is enabled "
            "(enable_uart=1) or that the USB-serial adapter is plugged in"
        )
    transport = None
    try:
        transport = nfc.clf.transport.TTY(port)
        device = nfc.clf.pn532.init(transport)
    except Exception as error:  # noqa: BLE001 - nfcpy reports IOError, its own errors, or asserts
        if transport is not None:
            transport.close()
        raise TransportError(
            f"no PN532 answered on {path} ({_reason(error)}); check wiring (TX/RX crossed, 3.3 V), "
            "that the board's mode switches select HSU/UART, that the serial console is off on this "
            "port, and that the service user is in the dialout group"
        ) from None
    device._path = port  # what nfcpy's own connect() records, used by str(clf)
    clf = nfc.ContactlessFrontend()
    clf.device = device
    return OpenFrontend(clf, f"PN532 on {path}", transport)


def _open_nfcpy_path(path: str) -> OpenFrontend:
    clf = nfc.ContactlessFrontend()
    try:
        found = clf.open(path)
    except Exception as error:  # noqa: BLE001 - libusb and nfcpy errors alike mean "cannot open"
        raise TransportError(
            f"the reader on nfcpy path {path!r} could not be opened ({_reason(error)}); for USB "
            "readers check the udev rule gives the service user access and that pcscd or the "
            "kernel's pn533_usb driver does not hold the device"
        ) from None
    if not found:
        raise TransportError(
            f"no contactless reader found on nfcpy path {path!r}; check it is plugged in "
            "(lsusb shows 072f:2200 for an ACR122U) and the path in the reader URI"
        )
    return OpenFrontend(clf, f"{clf.device} ({path})")


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.errno is not None:
        return f"{errno.errorcode.get(error.errno, error.errno)}: {os.strerror(error.errno)}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
