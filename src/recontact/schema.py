"""The canonical contact schema every importer produces (see DESIGN.md, "Contact").

Times are instants (``TIMESTAMP WITH TIME ZONE``); durations are whole or fractional seconds.
Unknown source columns are kept in ``extra`` as a JSON object of strings.
"""

from __future__ import annotations

from typing import Final

#: Canonical field name -> SQL type in the store. Order is the store's column order.
CONTACT_FIELDS: Final[dict[str, str]] = {
    "contact_id": "VARCHAR",
    "started_at": "TIMESTAMPTZ",
    "channel": "VARCHAR",
    "direction": "VARCHAR",
    "phone": "VARCHAR",
    "email": "VARCHAR",
    "account_id": "VARCHAR",
    "employee_id": "VARCHAR",
    "customer_name": "VARCHAR",
    "agent_id": "VARCHAR",
    "team": "VARCHAR",
    "queue": "VARCHAR",
    "category": "VARCHAR",
    "ticket_id": "VARCHAR",
    "wait_s": "DOUBLE",
    "talk_s": "DOUBLE",
    "hold_s": "DOUBLE",
    "wrap_s": "DOUBLE",
    "answered": "BOOLEAN",
    "abandoned": "BOOLEAN",
    "resolved": "BOOLEAN",
    "escalated": "BOOLEAN",
    "truck_roll": "BOOLEAN",
    "csat": "DOUBLE",
    "tags": "VARCHAR",
}

NUMERIC_FIELDS: Final = tuple(k for k, v in CONTACT_FIELDS.items() if v == "DOUBLE")
BOOLEAN_FIELDS: Final = tuple(k for k, v in CONTACT_FIELDS.items() if v == "BOOLEAN")

#: Accepted spellings of booleans (compared case-folded and trimmed).
TRUE_WORDS: Final = frozenset({"true", "t", "yes", "y", "1"})
FALSE_WORDS: Final = frozenset({"false", "f", "no", "n", "0"})

CHANNELS: Final = ("phone", "email", "chat", "web", "walk-in")
#: Other spellings seen in exports, mapped onto CHANNELS.
CHANNEL_SYNONYMS: Final[dict[str, str]] = {
    "call": "phone", "voice": "phone", "telephone": "phone", "ivr": "phone", "tel": "phone",
    "e-mail": "email", "mail": "email",
    "webchat": "chat", "live chat": "chat", "messaging": "chat", "sms": "chat",
    "portal": "web", "self service": "web", "self-service": "web", "form": "web",
    "walkin": "walk-in", "walk in": "walk-in", "in person": "walk-in", "in-person": "walk-in",
}

DIRECTIONS: Final = ("inbound", "outbound")
DIRECTION_SYNONYMS: Final[dict[str, str]] = {
    "in": "inbound", "incoming": "inbound", "i": "inbound",
    "out": "outbound", "outgoing": "outbound", "o": "outbound",
}

#: Identifier kinds as they appear in ``kind:value`` strings, in display order.
IDENTIFIER_KINDS: Final = ("phone", "extension", "email", "account", "employee")
