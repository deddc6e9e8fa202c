"""Turning repeated sightings of a card into taps (pure, clock passed in)."""
from __future__ import annotations


class Debouncer:
    """Decides whether a sighting of a card id is a new tap.

    A reader repeats a card's frame for as long as it is held. A sighting within
    ``window_s`` of that card's previous sighting belongs to the same tap and
    refreshes it, so a held card is one tap however long it is held; a sighting
    after a longer gap is a new tap.
    """

    def __init__(self, window_s: float = 1.0) -> None:
        if window_s < 0:
            raise ValueError(f"debounce window must be >= 0 seconds, got {window_s}")
        self.window_s = window_s
        self._last_seen: dict[str, float] = {}

    def is_new_tap(self, uid: str, now: float) -> bool:
        previous = self._last_seen.get(uid)
        self._forget_older_than(now - self.window_s)
        self._last_seen[uid] = now
        return previous is None or now - previous > self.window_s

    def _forget_older_than(self, cutoff: float) -> None:
        # Keeps the table to the cards seen within one window (no unbounded growth
        # and no raw ids kept in memory longer than needed).
        stale = [uid for uid, seen in self._last_seen.items() if seen < cutoff]
        for uid in stale:
            del self._last_seen[uid]
