"""Reader URIs for NFC readers -> the path :class:`drivers.nfc_reader.NfcReader` opens.

==============================  ====================================================
URI in kiosk.toml               meaning
==============================  ====================================================
``pn532:tty:/dev/ttyS0``        PN532 on a serial port given by filesystem path
``nfc:tty:S0:pn532``            nfcpy search path ``tty:S0:pn532`` (``/dev/ttyS0``)
``nfc:usb`` / ``nfc:usb:072f:2200``  nfcpy USB path (ACR122U is 072f:2200)
``emulated:pn532``              :class:`drivers.emulate_pn532.Pn532Emulator`
==============================  ====================================================
"""
from __future__ import annotations

import re
from collections.abc import Callable

from .emulate_pn532 import Pn532Emulator
from .errors import ReaderURIError
from .nfc_reader import NfcReader

EMULATED = "emulated:pn532"

_NFCPY_TTY = re.compile(r"tty:[A-Za-z0-9-]+:(pn532|arygon)")
_NFCPY_USB = re.compile(r"usb(:[0-9a-fA-F]{4}(:[0-9a-fA-F]{4})?|:[0-9]{1,3}(:[0-9]{1,3})?)?")


def is_nfc_uri(uri: str) -> bool:
    """True for the URI schemes this module handles."""
    return uri == EMULATED or uri.startswith(("pn532:", "nfc:"))


def nfc_reader_path(uri: str) -> str | None:
    """The NfcReader path for ``uri``; None for ``emulated:pn532`` (use the emulator's port).

    Raises ReaderURIError naming what was wrong and the accepted forms.
    """
    if uri == EMULATED:
        return None
    if uri.startswith("pn532:"):
        rest = uri[len("pn532:"):]
        if rest.startswith("tty:/") and len(rest) > len("tty:/") and "\x00" not in rest:
            return rest[len("tty:"):]
        raise ReaderURIError(
            f"reader URI {uri!r}: a PN532 URI is pn532:tty:<absolute serial port path>, "
            "for example pn532:tty:/dev/ttyS0"
        )
    if uri.startswith("nfc:"):
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


def open_nfc_reader(
    uri: str,
    sink: Callable[[object], None],
    *,
    reader_id: str | None = None,
    debounce_s: float = 1.0,
    card_record_type: str | None = None,
) -> NfcReader:
    """The NfcReader a config URI names, not started; ``emulated:pn532`` brings its emulator.

    Raises ReaderURIError for a URI this module does not accept.
    """
    path = nfc_reader_path(uri)
    emulator = None
    if path is None:
        emulator = Pn532Emulator()
        path = emulator.port
    options = {} if card_record_type is None else {"card_record_type": card_record_type}
    return NfcReader(
        path,
        sink,
        reader_id=reader_id or uri,
        debounce_s=debounce_s,
        uri=uri,
        emulator=emulator,
        **options,
    )
