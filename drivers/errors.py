"""One exception root for the drivers, with specific leaves."""


class DriverError(Exception):
    """Root of every error raised by a reader, parser or transport."""


class FrameError(DriverError):
    """Bytes that do not form a valid frame of the device's protocol."""


class ChecksumError(FrameError):
    """A frame whose checksum does not match its payload."""


class TransportError(DriverError):
    """The device could not be opened, or went away while in use."""


class ReaderURIError(DriverError):
    """A reader URI in the config that names no known reader or transport."""
