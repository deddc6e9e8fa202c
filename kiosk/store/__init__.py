"""The SQLite ledger: the store (one writer), its outbox, the plain records it hands out, the migrations."""
from kiosk.store.database import CARD_STATES, LEDGER_KINDS, Store
from kiosk.store.records import (Balance, Bonus, Card, LedgerRow, Member, MemberSnapshot, NewCard, OutboxItem,
                                 Recorded, new_event_id)
from kiosk.clock import iso, parse_iso, utcnow

__all__ = [
    "Balance", "Bonus", "Card", "LedgerRow", "Member", "MemberSnapshot", "NewCard", "OutboxItem", "Recorded", "Store",
    "LEDGER_KINDS", "CARD_STATES", "iso", "new_event_id", "parse_iso", "utcnow",
]
