"""What a stream decoder hands to the reader loop, and the shape of a decoder and transport."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Union

from drivers.errors import DriverError


@dataclass(frozen=True)
class Decoded:
    """A card id with the technology it was read as, for decoders that yield more than one kind."""

    uid: str
    tech: str

    def __repr__(self) -> str:  # keeps raw ids out of logs and tracebacks
        return f"Decoded(uid=<{len(self.uid)} chars>, tech={self.tech!r})"


# str: a card id of the reader's own tech. DriverError: a bad frame (reported, not raised),
# or a RefusedCardError, which becomes a CardRefused event.
DecodedItem = Union[str, Decoded, DriverError]


class Decoder(Protocol):
    def feed(self, data: bytes) -> list[DecodedItem]: ...


class Transport(Protocol):
    def read(self) -> bytes: ...

    def close(self) -> None: ...
