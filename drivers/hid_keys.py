"""Key codes from a USB keyboard-wedge device -> the characters it meant to type (pure).

Magstripe readers, keyboard-style RFID readers and barcode scanners "type" their
data as a US-layout keyboard: shift is pressed around '%', '^', '?' and capitals,
Enter ends a read. This module knows only Linux input key codes (evdev.ecodes).
"""
from __future__ import annotations

from evdev import ecodes as e

KEY_UP, KEY_DOWN, KEY_HOLD = 0, 1, 2

_PLAIN: dict[int, str] = {
    **{getattr(e, f"KEY_{d}"): d for d in "0123456789"},
    **{getattr(e, f"KEY_{c}"): c.lower() for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
    **{getattr(e, f"KEY_KP{d}"): d for d in "0123456789"},
    e.KEY_MINUS: "-", e.KEY_EQUAL: "=", e.KEY_LEFTBRACE: "[", e.KEY_RIGHTBRACE: "]",
    e.KEY_SEMICOLON: ";", e.KEY_APOSTROPHE: "'", e.KEY_GRAVE: "`", e.KEY_BACKSLASH: "\\",
    e.KEY_COMMA: ",", e.KEY_DOT: ".", e.KEY_SLASH: "/", e.KEY_SPACE: " ",
    e.KEY_KPMINUS: "-", e.KEY_KPPLUS: "+", e.KEY_KPASTERISK: "*", e.KEY_KPSLASH: "/",
    e.KEY_KPDOT: ".", e.KEY_ENTER: "\n", e.KEY_KPENTER: "\n", e.KEY_TAB: "\t",
}

_SHIFTED: dict[int, str] = {
    **{getattr(e, f"KEY_{c}"): c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
    **dict(zip((getattr(e, f"KEY_{d}") for d in "1234567890"), "!@#$%^&*()", strict=True)),
    e.KEY_MINUS: "_", e.KEY_EQUAL: "+", e.KEY_LEFTBRACE: "{", e.KEY_RIGHTBRACE: "}",
    e.KEY_SEMICOLON: ":", e.KEY_APOSTROPHE: '"', e.KEY_GRAVE: "~", e.KEY_BACKSLASH: "|",
    e.KEY_COMMA: "<", e.KEY_DOT: ">", e.KEY_SLASH: "?",
}

_SHIFT_KEYS = frozenset({e.KEY_LEFTSHIFT, e.KEY_RIGHTSHIFT})
_KEYPAD = frozenset(code for name, code in e.ecodes.items() if name.startswith("KEY_KP"))


def char_for(code: int, shift: bool, caps_lock: bool = False) -> str | None:
    """The character a key press types, or None for keys that type nothing."""
    if code in _KEYPAD:
        return _PLAIN.get(code)
    is_letter = code in _SHIFTED and _PLAIN.get(code, "").isalpha()
    if is_letter and caps_lock:
        shift = not shift
    if shift and code in _SHIFTED:
        return _SHIFTED[code]
    return _PLAIN.get(code)


class KeyTranslator:
    """Follows shift and caps-lock state across key events and yields typed characters."""

    def __init__(self) -> None:
        self._shift_down: set[int] = set()
        self._caps_lock = False

    def feed(self, code: int, value: int) -> str:
        if code in _SHIFT_KEYS:
            if value == KEY_UP:
                self._shift_down.discard(code)
            else:
                self._shift_down.add(code)
            return ""
        if value != KEY_DOWN:  # releases and auto-repeat type nothing new
            return ""
        if code == e.KEY_CAPSLOCK:
            self._caps_lock = not self._caps_lock
            return ""
        return char_for(code, bool(self._shift_down), self._caps_lock) or ""

    def translate(self, events: list[tuple[int, int]]) -> str:
        return "".join(self.feed(code, value) for code, value in events)


def key_events_for(text: str) -> list[tuple[int, int]]:
    """The (code, value) key events a US-layout wedge sends to type ``text`` (for tests/emulation)."""
    reverse_plain = {char: code for code, char in _PLAIN.items() if code not in _KEYPAD}
    reverse_shift = {char: code for code, char in _SHIFTED.items()}
    out: list[tuple[int, int]] = []
    for char in text:
        if char in reverse_plain:
            code = reverse_plain[char]
            out += [(code, KEY_DOWN), (code, KEY_UP)]
        elif char in reverse_shift:
            code = reverse_shift[char]
            out += [(e.KEY_LEFTSHIFT, KEY_DOWN), (code, KEY_DOWN), (code, KEY_UP), (e.KEY_LEFTSHIFT, KEY_UP)]
        else:
            raise ValueError(f"character {ord(char):#x} cannot be typed on a US keyboard wedge")
    return out
