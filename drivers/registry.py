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
    pn532:tty:/dev/ttyS0, nfc:usb:072f:2200 ...    NFC readers (drivers.nfc.reader, URIs in drivers.nfc.uri)
    wiegand:gpio:D0=17,D1=27                       Wiegand reader on GPIO (drivers.wiegand.reader)
    emulated:pn532, emulated:wiegand               their emulators (tap "04A1B2C3D4E5F6" / "123:45678")

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
from drivers.emulated.pty import PtyEmulator
from drivers.emulated.adapters import Pn532TapAdapter, WiegandTapAdapter
from drivers.errors import DriverError, ReaderURIError
from drivers.events import Tech
from drivers.line_decoder import LineDecoder
from drivers.magstripe import card_id_from_swipe
from drivers.reader import Reader, ReaderHandle, Sink
from drivers.serial_transport import SerialTransport
from drivers.uri import ReaderURI, parse_reader_uri, unknown_uri


@dataclass(frozen=True)
class DeviceKind:
    tech: str
    transports: frozenset[str]
    make_decoder: Callable[[CardFormats], Decoder]


_TRACK_GAP_S = 0.05  # longer than the gap between tracks of one swipe, far shorter than between swipes


def _lines(parse: Callable[[str], object], what: str, formats: CardFormats, *, join: bool = False) -> Decoder:
    return LineDecoder(
        parse, what=what, idle_timeout_s=formats.swipe_timeout_s,  # type: ignore[arg-type]
        join_lines_quiet_s=_TRACK_GAP_S if join else None,
    )


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
                         "magstripe", f, join=f.magstripe_enter_per_track),
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
    # Imported here so a serial-only kiosk does not need evdev installed.
    from drivers.evdev_transport import EvdevTransport

    return lambda: EvdevTransport(path)


TRANSPORTS: Mapping[str, Callable[[str], Callable[[], Transport]]] = {"tty": _tty, "hid": _hid}

def open_reader(
    uri: str,
    sink: Callable[[object], None],
    *,
    reader_id: str | None = None,
    debounce_s: float = 1.0,
    formats: CardFormats | None = None,
) -> Reader | ReaderHandle:
    """Build the reader a config URI names; it is not started (call ``start()``).

    ``formats`` carries the chain's card formats and the digital-card key (defaults:
    any 6-19 digit track 2 / 6-32 digit barcode, digital cards refused).
    """
    parsed = parse_reader_uri(uri)
    formats = formats or CardFormats()
    reader_id = reader_id or parsed.text
    other = OTHER_READERS.get(parsed.text if parsed.emulated else parsed.kind)
    if other is not None:
        return other(parsed, sink, reader_id, debounce_s)
    if parsed.emulated:
        return _open_emulated(parsed, sink, reader_id, debounce_s, formats)
    kind = DEVICE_KINDS.get(parsed.kind)
    if kind is None:
        raise unknown_uri(uri)
    if parsed.transport not in kind.transports or not parsed.path.startswith("/"):
        forms = " or ".join(f"{parsed.kind}:{t}:/dev/..." for t in sorted(kind.transports))
        raise unknown_uri(uri, f"a {parsed.kind} reader is opened as {forms}")
    try:
        open_transport = TRANSPORTS[parsed.transport](parsed.path)
    except ValueError as error:
        raise unknown_uri(uri, str(error)) from None
    return _reader(kind, open_transport, parsed.text, sink, reader_id, debounce_s, formats)


def _open_nfc(uri: ReaderURI, sink: Sink, reader_id: str, debounce_s: float) -> ReaderHandle:
    from drivers.nfc.reader import NfcReader
    from drivers.nfc.uri import nfc_reader_path

    try:
        path = nfc_reader_path(uri)
    except ReaderURIError as error:
        raise unknown_uri(uri.text, str(error)) from None
    return ReaderHandle(NfcReader(path, sink, reader_id=reader_id, debounce_s=debounce_s), uri=uri.text)


def _open_emulated_nfc(uri: ReaderURI, sink: Sink, reader_id: str, debounce_s: float) -> ReaderHandle:
    from drivers.emulated.pn532 import Pn532Emulator
    from drivers.nfc.reader import NfcReader

    emulator = Pn532TapAdapter(Pn532Emulator())
    try:
        reader = NfcReader(emulator.port, sink, reader_id=reader_id, debounce_s=debounce_s)
    except BaseException:
        emulator.close()
        raise
    return ReaderHandle(reader, uri=uri.text, emulator=emulator)


def _open_wiegand(uri: ReaderURI, sink: Sink, reader_id: str, debounce_s: float) -> ReaderHandle:
    from drivers.wiegand.reader import WiegandReader

    if uri.transport != "gpio":
        raise unknown_uri(uri.text, "a Wiegand reader is wiegand:gpio:D0=<BCM pin>,D1=<BCM pin>")
    try:
        reader = WiegandReader.from_pin_spec(uri.path, sink, reader_id=reader_id, debounce_s=debounce_s)
    except (DriverError, ValueError) as error:
        raise unknown_uri(uri.text, str(error)) from None
    return ReaderHandle(reader, uri=uri.text)


def _open_emulated_wiegand(uri: ReaderURI, sink: Sink, reader_id: str, debounce_s: float) -> ReaderHandle:
    from drivers.emulated.wiegand import open_emulated_wiegand

    reader = open_emulated_wiegand(sink, reader_id=reader_id, debounce_s=debounce_s)
    return ReaderHandle(reader, uri=uri.text, emulator=WiegandTapAdapter(reader.emulator))


#: Readers built by other modules, by scheme (or by full URI for their emulators).
OTHER_READERS: Mapping[str, Callable[[ReaderURI, Sink, str, float], ReaderHandle]] = {
    "pn532": _open_nfc,
    "nfc": _open_nfc,
    "emulated:pn532": _open_emulated_nfc,
    "wiegand": _open_wiegand,
    "emulated:wiegand": _open_emulated_wiegand,
}


def _open_emulated(uri: ReaderURI, sink: Sink, reader_id: str, debounce_s: float,
                   formats: CardFormats) -> Reader:
    kind = DEVICE_KINDS.get(uri.emulated_kind)
    if kind is None or uri.path:
        kinds = [*DEVICE_KINDS, "pn532", "wiegand"]
        raise unknown_uri(uri.text, f"emulated kinds: {', '.join('emulated:' + k for k in kinds)}")
    emulator = PtyEmulator(uri.emulated_kind)
    return _reader(kind, TRANSPORTS["tty"](emulator.port), uri.text, sink, reader_id, debounce_s, formats,
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
