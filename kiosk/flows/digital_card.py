"""A digital card for a member without a plastic one: a card id bound like any card, shown as a signed QR.

The token format and its verification are the drivers' (drivers/digital_card.py, ``LC1.``); a kiosk's QR
scanner (drivers/barcode.py) turns a scanned token back into ``CardRead(card_id, "qrtoken")``, so a digital
card then behaves exactly like a tapped card. The key is derived from the chain secret, so every kiosk of
the chain verifies what any kiosk issued without another secret to distribute (kiosk.identity.digital_card_key).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from drivers.digital_card import issue_token
from drivers.events import Tech
from kiosk.errors import KioskError
from kiosk.identity import digital_card_key, mask_uid
from kiosk.qr import qr_data_uri
from kiosk.service import KioskService

VALID_DAYS = 730


class DigitalCardsOff(KioskError):
    """The chain switched digital cards off ([cards] digital_cards = false)."""


def token_key(service: KioskService) -> bytes:
    """The same key the readers verify tokens with (kiosk.identity.digital_card_key), so what we issue scans back."""
    if not service.settings.cards.digital_cards:
        raise DigitalCardsOff("digital cards are switched off on this kiosk ([cards] digital_cards = false); "
                              "please ask at the counter for a card")
    return digital_card_key(service.secrets.chain_secret)


@dataclass(frozen=True)
class DigitalCard:
    label: str
    token: str
    qr: str


def issue_digital_card(service: KioskService, member_id: str) -> DigitalCard:
    """Bind a fresh card id to the member and return its token as a QR for the phone's camera roll."""
    key = token_key(service)
    card_id = "D" + secrets.token_hex(8).upper()
    tech = Tech.QR_TOKEN.value
    card = service.store.bind_card(member_id, service.card_ref_for(tech, card_id), tech, mask_uid(card_id))
    token = issue_token(card_id, key, expires_at=service.now() + timedelta(days=VALID_DAYS))
    return DigitalCard(card.label, token, qr_data_uri(token))
