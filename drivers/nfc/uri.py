"""Reader URIs for NFC readers -> the path :class:`drivers.nfc.reader.NfcReader` opens.

==============================  ====================================================
URI in kiosk.toml               meaning
==============================  ====================================================
``pn532:tty:/dev/ttyS0``        PN532 on a serial port given by filesystem path
``nfc:tty:S0:pn532``            nfcpy search path ``tty:S0:pn532`` (``/dev/ttyS0``)
``nfc:usb`` / ``nfc:usb:072f:2200``  nfcpy USB path (ACR122U is 072f:2200)
``emulated:pn532``              the emulator's pty (opened by drivers.registry)
==============================  ====================================================
"""
from __future__ import annotations

import re

from drivers.errors import ReaderURIError
from drivers.uri import ReaderURI, parse_reader_uri

EMULATED = "emulated:pn532"

_NFCPY_TTY = re.compile(r"tty:[A-Za-z0-9-]+:(pn532|arygon)")
_NFCPY_USB = re.compile(r"usb(:[0-9a-fA-F]{4}(:[0-9a-fA-F]{4})?|:[0-9]{1,3}(:[0-9]{1,3})?)?")


def nfc_reader_path(reader_uri: ReaderURI | str) -> str | None:
    """The NfcReader path for a URI; None for ``emulated:pn532`` (use the emulator's port).

    Raises ReaderURIError naming what was wrong and the accepted forms.
    """
    parsed = reader_uri if isinstance(reader_uri, ReaderURI) else parse_reader_uri(reader_uri)
    uri = parsed.text
    if uri == EMULATED:
        return None
    if parsed.kind == "pn532":
        if parsed.transport == "tty" and parsed.path.startswith("/") and len(parsed.path) > 1:
            return parsed.path
        raise ReaderURIError(
            f"reader URI {uri!r}: a PN532 URI is pn532:tty:<absolute serial port path>, "
            "for example pn532:tty:/dev/ttyS0"
        )
    if parsed.kind == "nfc":
        rest = uri[len("nfc:"):]
        if _NFCPY_TTY.fullmatch(rest) or _NFCPY_USB.fullmatch(rest):
            return rest
        raise ReaderURIError(
            f"reader URI {uri!r}: an nfcpy URI is nfc:tty:<port>:pn532 (e.g. nfc:tty:S0:pn532), "
            "nfc:usb or nfc:usb:<vendor>:<product> (e.g. nfc:usb:072f:2200 for an ACR122U)"
        )
    raise ReaderURIError(
        f"reader URI {uri!r} is not an NFC reader; use pn532:tty:/dev/..., nfc:tty:S0:pn532, "
        "nfc:usb:072f:2200 or emulated:pn532"
    )
