"""Reader URIs from the config -> Reader objects.

A URI is ``<scheme>:<rest>``. Each scheme has one builder; new reader types plug
in by adding a builder to ``READER_BUILDERS`` (issue 4: magstripe, barcode, ...).

    rdm6300:tty:/dev/ttyAMA0     an RDM6300 on a serial device
    emulated:rdm6300             an emulated RDM6300 on a pty (``reader.emulator`` taps it)
"""
from __future__ import annotations

from typing import Callable, Mapping

from drivers import rdm6300
from drivers.emulate import PtyEmulator
from drivers.errors import ReaderURIError
from drivers.events import Tech
from drivers.reader import Reader, Sink
from drivers.serial_transport import SerialTransport


def _rdm6300_on(path: str, uri: str, sink: Sink, reader_id: str, debounce_s: float,
                emulator: PtyEmulator | None = None) -> Reader:
    return Reader(
        reader_id=reader_id,
        uri=uri,
        tech=Tech.RFID_125K.value,
        open_transport=lambda: SerialTransport(path, baudrate=rdm6300.BAUDRATE),
        make_decoder=rdm6300.Rdm6300Decoder,
        sink=sink,
        debounce_s=debounce_s,
        emulator=emulator,
    )


def _build_rdm6300(rest: str, uri: str, sink: Sink, reader_id: str, debounce_s: float) -> Reader:
    transport, _, path = rest.partition(":")
    if transport != "tty" or not path.startswith("/"):
        raise _unknown(uri, "an rdm6300 reader needs a serial device: rdm6300:tty:/dev/ttyAMA0")
    return _rdm6300_on(path, uri, sink, reader_id, debounce_s)


#: How an emulated kind is wired: the reader builder to run on the emulator's pty.
_EMULATED: Mapping[str, Callable[..., Reader]] = {
    "rdm6300": _rdm6300_on,
}


def _build_emulated(rest: str, uri: str, sink: Sink, reader_id: str, debounce_s: float) -> Reader:
    builder = _EMULATED.get(rest)
    if builder is None:
        raise _unknown(uri, f"emulated kinds: {', '.join('emulated:' + k for k in sorted(_EMULATED))}")
    emulator = PtyEmulator(rest)
    try:
        return builder(emulator.port, uri, sink, reader_id, debounce_s, emulator=emulator)
    except BaseException:
        emulator.close()
        raise


#: scheme -> builder(rest, uri, sink, reader_id, debounce_s)
READER_BUILDERS: Mapping[str, Callable[[str, str, Sink, str, float], Reader]] = {
    "rdm6300": _build_rdm6300,
    "emulated": _build_emulated,
}

ACCEPTED_FORMS = (
    "rdm6300:tty:/dev/ttyAMA0",
    "emulated:rdm6300",
)


def open_reader(
    uri: str,
    sink: Callable[[object], None],
    *,
    reader_id: str | None = None,
    debounce_s: float = 1.0,
) -> Reader:
    """Build the reader a config URI names; it is not started (call ``start()``)."""
    scheme, sep, rest = uri.partition(":") if isinstance(uri, str) else ("", "", "")
    builder = READER_BUILDERS.get(scheme) if sep else None
    if builder is None:
        raise _unknown(uri)
    return builder(rest, uri, sink, reader_id or uri, debounce_s)


def _unknown(uri: object, hint: str = "") -> ReaderURIError:
    message = f"unknown reader URI {uri!r}"
    if hint:
        message += f" ({hint})"
    return ReaderURIError(f"{message}; accepted forms: {', '.join(ACCEPTED_FORMS)}")
