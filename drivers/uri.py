"""The one grammar of reader URIs in kiosk.toml: ``<kind>:<transport>:<path>`` for a device, or
``emulated:<kind>`` for its emulator on a pseudo-terminal.

    rdm6300:tty:/dev/ttyAMA0          kind rdm6300, transport tty, path /dev/ttyAMA0
    nfc:usb:072f:2200                 kind nfc, transport usb, path 072f:2200
    wiegand:gpio:D0=17,D1=27          kind wiegand, transport gpio, path D0=17,D1=27
    emulated:pn532                    the PN532 emulator

Which kinds and transports exist, and what a path must look like, is each reader's business
(drivers.registry, drivers.nfc.uri); this module only splits, and words the refusal.
"""
from __future__ import annotations

from dataclasses import dataclass

from drivers.errors import ReaderURIError

EMULATED = "emulated"

ACCEPTED_FORMS = (
    "rdm6300:tty:/dev/ttyAMA0",
    "pn532:tty:/dev/ttyS0", "nfc:tty:S0:pn532", "nfc:usb:072f:2200", "wiegand:gpio:D0=17,D1=27",
    "em4100-hex:tty:<device>", "em4100-dec:tty:<device>", "em4100-dec:hid:/dev/input/by-id/<device>",
    "magstripe:tty:<device>", "magstripe:hid:/dev/input/by-id/<device>",
    "barcode:tty:<device>", "barcode:hid:/dev/input/by-id/<device>",
    *(f"emulated:{kind}" for kind in ("rdm6300", "em4100-hex", "em4100-dec", "magstripe", "barcode", "pn532",
                                     "wiegand")),
)


@dataclass(frozen=True)
class ReaderURI:
    text: str
    kind: str
    transport: str  # "" for an emulated reader
    path: str

    @property
    def emulated(self) -> bool:
        return self.kind == EMULATED

    @property
    def emulated_kind(self) -> str:
        """For ``emulated:<kind>``, the kind emulated."""
        return self.transport if self.emulated else ""


def parse_reader_uri(uri: object) -> ReaderURI:
    """Split a URI into kind, transport and path; ReaderURIError for anything that is not a URI at all."""
    if not isinstance(uri, str) or not uri.strip() or "\x00" in uri:
        raise unknown_uri(uri)
    kind, _, rest = uri.partition(":")
    transport, _, path = rest.partition(":")
    if not kind or not transport:
        raise unknown_uri(uri)
    return ReaderURI(uri, kind, transport, path)


def unknown_uri(uri: object, hint: str = "") -> ReaderURIError:
    message = f"unknown reader URI {uri!r}"
    if hint:
        message += f" ({hint})"
    return ReaderURIError(f"{message}; accepted forms: {', '.join(ACCEPTED_FORMS)}")
