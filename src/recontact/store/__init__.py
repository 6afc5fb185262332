"""The contact store: schema, opening, and the atomic, idempotent import transaction."""
