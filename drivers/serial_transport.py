"""A thin byte transport over pyserial, opened by device path."""
from __future__ import annotations

import serial

from drivers.errors import TransportError


class SerialTransport:
    """An open serial port; ``read`` returns what arrived (b"" after ``timeout_s`` of silence).

    Every failure is a TransportError so the reader loop has one thing to catch.
    Works the same on a UART, a USB-serial adapter and a pseudo-terminal.
    """

    def __init__(self, path: str, *, baudrate: int = 9600, timeout_s: float = 0.05) -> None:
        self.path = path
        try:
            # exclusive: a second process on the same reader would steal half the bytes.
            self._port = serial.Serial(path, baudrate=baudrate, timeout=timeout_s, exclusive=True)
        except (serial.SerialException, OSError, ValueError) as error:
            raise TransportError(
                f"cannot open serial device {path}: {error}; check it is plugged in and that "
                "the service user is in the 'dialout' group"
            ) from error

    def read(self) -> bytes:
        try:
            data = self._port.read(max(1, self._port.in_waiting))
            if data:
                # read(1) wakes on the first byte; take the rest of a burst in the same call
                # so a whole frame is decoded without another loop turn.
                waiting = self._port.in_waiting
                if waiting:
                    data += self._port.read(waiting)
            return data
        except (serial.SerialException, OSError) as error:
            raise TransportError(f"serial device {self.path} went away: {error}") from error

    def write(self, data: bytes) -> None:
        try:
            self._port.write(data)
        except (serial.SerialException, OSError) as error:
            raise TransportError(f"cannot write to serial device {self.path}: {error}") from error

    def close(self) -> None:
        try:
            self._port.close()
        except (serial.SerialException, OSError):
            pass  # the device is already gone; nothing left to release

    def __enter__(self) -> "SerialTransport":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
