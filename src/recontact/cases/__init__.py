"""Cases: the work on a flag, kept in an operational store (SQLAlchemy; SQLite beside the DuckDB
store by default, PostgreSQL by ``RECONTACT_DATABASE_URL``).

Modules: ``db`` (engine, URL, schema upgrade), ``models`` (tables), ``migrations`` (Alembic),
``hooks`` (what other layers are told when a case opens or changes hands), ``sync`` (cases from
flag episodes), ``workflow`` (states, notes, outreach, escalation, audit), ``routing`` (owners and
priority), ``service`` (the functions interfaces call).
"""
