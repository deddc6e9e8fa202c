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


class CardIdError(DriverError, ValueError):
    """A card id that the device's format cannot carry (e.g. wrong length or non-hex)."""


class EmulatorControlError(DriverError):
    """The tap control socket of a running demo could not be reached or refused a request."""


class RefusedCardError(DriverError):
    """A well-formed read that must be refused (payment card, forged or expired token).

    Readers turn it into a CardRefused event; its message is shown to the shopper
    and logged, so it never carries card data.
    """
