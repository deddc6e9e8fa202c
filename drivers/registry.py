"""Reader URIs from the config -> Reader objects.

A URI is ``<kind>:<transport>:<path>`` for a real device or ``emulated:<kind>`` for
an emulated one on a pty. New reader types plug in by adding a DeviceKind to
``DEVICE_KINDS``; transports by adding to ``TRANSPORTS``.

    rdm6300:tty:/dev/ttyAMA0                       RDM6300 on the Pi's UART
    em4100-hex:tty:/dev/ttyUSB0                    EM4100 reader, hex lines (ID-12 style)
    em4100-dec:hid:/dev/input/by-id/...-kbd        USB reader typing 10-digit numbers + Enter
    magstripe:hid:/dev/input/by-id/...-kbd         keyboard-wedge magstripe reader
    magstripe:tty:/dev/ttyUSB0                     serial magstripe reader
    barcode:hid:/dev/input/by-id/...-kbd           keyboard-wedge barcode/QR scanner
    barcode:tty:/dev/ttyACM0                       serial (USB CDC) scanner
    emulated:<kind>                                any kind above on a pty; reader.emulator taps it

A ``tty`` path may end in ``?baud=N`` (default 9600).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable, Mapping

from drivers import em4100, rdm6300
from drivers.barcode import parse_scan
from drivers.card_formats import CardFormats
from drivers.decoding import Decoder, Transport
from drivers.emulate import PtyEmulator
from drivers.errors import ReaderURIError
from drivers.events import Tech
from drivers.evdev_transport import EvdevTransport
from drivers.line_decoder import LineDecoder
from drivers.magstripe import card_id_from_swipe
from drivers.reader import Reader, Sink
from drivers.serial_transport import SerialTransport


@dataclass(frozen=True)
class DeviceKind:
    tech: str
    transports: frozenset[str]
    make_decoder: Callable[[CardFormats], Decoder]


def _lines(parse: Callable[[str], object], what: str, formats: CardFormats) -> Decoder:
    return LineDecoder(parse, what=what, idle_timeout_s=formats.swipe_timeout_s)  # type: ignore[arg-type]


DEVICE_KINDS: Mapping[str, DeviceKind] = {
    "rdm6300": DeviceKind(Tech.RFID_125K.value, frozenset({"tty"}), lambda f: rdm6300.Rdm6300Decoder()),
    "em4100-hex": DeviceKind(
        Tech.RFID_125K.value, frozenset({"tty", "hid"}),
        lambda f: _lines(em4100.parse_hex_line, "EM4100", f),
    ),
    "em4100-dec": DeviceKind(
        Tech.RFID_125K.value, frozenset({"tty", "hid"}),
        lambda f: _lines(em4100.parse_decimal_line, "EM4100", f),
    ),
    "magstripe": DeviceKind(
        Tech.MAGSTRIPE.value, frozenset({"tty", "hid"}),
        lambda f: _lines(partial(card_id_from_swipe, card_format=f.magstripe, with_lrc=f.magstripe_lrc),
                         "magstripe", f),
    ),
    "barcode": DeviceKind(
        Tech.BARCODE.value, frozenset({"tty", "hid"}),
        lambda f: _lines(partial(parse_scan, card_format=f.barcode()), "scanner", f),
    ),
}


def _tty(path: str) -> Callable[[], Transport]:
    device, _, query = path.partition("?")
    baudrate = 9600
    if query:
        key, _, value = query.partition("=")
        if key != "baud" or not value.isdigit():
            raise ValueError("the only tty option is ?baud=N")
        baudrate = int(value)
    return lambda: SerialTransport(device, baudrate=baudrate)


def _hid(path: str) -> Callable[[], Transport]:
    return lambda: EvdevTransport(path)


TRANSPORTS: Mapping[str, Callable[[str], Callable[[], Transport]]] = {"tty": _tty, "hid": _hid}

ACCEPTED_FORMS = (
    "rdm6300:tty:/dev/ttyAMA0",
    "em4100-hex:tty:<device>", "em4100-dec:tty:<device>", "em4100-dec:hid:/dev/input/by-id/<device>",
    "magstripe:tty:<device>", "magstripe:hid:/dev/input/by-id/<device>",
    "barcode:tty:<device>", "barcode:hid:/dev/input/by-id/<device>",
    *(f"emulated:{kind}" for kind in DEVICE_KINDS),
)


def open_reader(
    uri: str,
    sink: Callable[[object], None],
    *,
    reader_id: str | None = None,
    debounce_s: float = 1.0,
    formats: CardFormats | None = None,
) -> Reader:
    """Build the reader a config URI names; it is not started (call ``start()``).

    ``formats`` carries the chain's card formats and the digital-card key (defaults:
    any 6-19 digit track 2 / 6-32 digit barcode, digital cards refused).
    """
    if not isinstance(uri, str):
        raise _unknown(uri)
    formats = formats or CardFormats()
    reader_id = reader_id or uri
    scheme, _, rest = uri.partition(":")
    if scheme == "emulated":
        return _open_emulated(rest, uri, sink, reader_id, debounce_s, formats)
    kind = DEVICE_KINDS.get(scheme)
    if kind is None:
        raise _unknown(uri)
    transport, _, path = rest.partition(":")
    if transport not in kind.transports or not path.startswith("/"):
        forms = " or ".join(f"{scheme}:{t}:/dev/..." for t in sorted(kind.transports))
        raise _unknown(uri, f"a {scheme} reader is opened as {forms}")
    try:
        open_transport = TRANSPORTS[transport](path)
    except ValueError as error:
        raise _unknown(uri, str(error)) from None
    return _reader(kind, open_transport, uri, sink, reader_id, debounce_s, formats)


def _open_emulated(rest: str, uri: str, sink: Sink, reader_id: str, debounce_s: float,
                   formats: CardFormats) -> Reader:
    kind = DEVICE_KINDS.get(rest)
    if kind is None:
        raise _unknown(uri, f"emulated kinds: {', '.join('emulated:' + k for k in DEVICE_KINDS)}")
    emulator = PtyEmulator(rest)
    return _reader(kind, TRANSPORTS["tty"](emulator.port), uri, sink, reader_id, debounce_s, formats,
                   emulator=emulator)


def _reader(kind: DeviceKind, open_transport: Callable[[], Transport], uri: str, sink: Sink,
            reader_id: str, debounce_s: float, formats: CardFormats,
            emulator: PtyEmulator | None = None) -> Reader:
    return Reader(
        reader_id=reader_id,
        uri=uri,
        tech=kind.tech,
        open_transport=open_transport,
        make_decoder=lambda: kind.make_decoder(formats),
        sink=sink,
        debounce_s=debounce_s,
        emulator=emulator,
    )


def _unknown(uri: object, hint: str = "") -> ReaderURIError:
    message = f"unknown reader URI {uri!r}"
    if hint:
        message += f" ({hint})"
    return ReaderURIError(f"{message}; accepted forms: {', '.join(ACCEPTED_FORMS)}")
