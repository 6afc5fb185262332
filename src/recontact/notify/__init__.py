"""Notifications through a durable outbox: queued in the transaction of the case change that causes
them (``outbox``), rendered from Jinja2 templates (``messages``, ``templates/``), delivered by
``recontact worker`` (``worker``) over SMTP e-mail or JSON webhooks (``channels``), retried with
exponential backoff on a durable schedule, and dead-lettered after ``max_attempts``.
Settings: ``[notifications]`` (``settings``). Guide: docs/notifications.md."""
