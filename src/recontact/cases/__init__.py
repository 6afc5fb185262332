"""Cases: the work on a flag, kept in an operational store (SQLAlchemy; SQLite beside the DuckDB
store by default, PostgreSQL by ``RECONTACT_DATABASE_URL``).

Modules: ``db`` (engine, URL, schema upgrade), ``models`` (tables), ``migrations`` (Alembic),
``hooks`` (what other layers are told when a case opens or changes hands), ``sync`` (cases from
flag episodes), ``workflow`` (states, notes, outreach, escalation, audit), ``routing`` (owners and
priority), ``service`` (the functions interfaces call).
"""

#: What opening cases after an import loads (SQLAlchemy and the outbox's listener: about half a
#: second; Alembic too for a new cases store): an import has them imported while DuckDB reads its
#: file (``desk.import_contacts``).
IMPORT_HOOK_MODULES = ("recontact.cases.service", "recontact.notify.listener")
NEW_STORE_MODULES = ("recontact.cases.migrations",)
