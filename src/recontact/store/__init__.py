"""The contact store: schema, opening, and the atomic, idempotent import transaction."""

#: Environment variable naming the store file (``--db`` overrides it).
DB_ENV = "RECONTACT_DB"
#: The store file used when neither ``--db`` nor ``$RECONTACT_DB`` says otherwise.
DEFAULT_DB = "recontact.duckdb"
