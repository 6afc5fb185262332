"""``recontact notifications list|retry`` and ``worker`` through the CLI; the ``[notifications]``
settings and the SMTP URL forms."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from notify_support import OWNER, OpStore, case, queue_cases, settings_for
from receivers import HttpReceiver
from recontact.cases.models import AuditEntry
from recontact.cli.main import app
from recontact.config import load_settings
from recontact.errors import ConfigError
from recontact.notify import outbox
from recontact.notify.channels.email import SmtpServer, parse_smtp_url

runner = CliRunner()


def cli(opstore: OpStore, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    if "RECONTACT_DATABASE_URL" in opstore.env:
        monkeypatch.setenv("RECONTACT_DATABASE_URL", opstore.env["RECONTACT_DATABASE_URL"])
    result = runner.invoke(app, [*args, "--db", str(opstore.db)])
    return result.exit_code, result.stdout, result.stderr


def test_list_dead_and_retry_from_the_cli(opstore: OpStore, webhook: HttpReceiver, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    webhook.ledger.script = ["refuse"]  # 404: dead at the first attempt
    cfg = tmp_path / "recontact.toml"
    cfg.write_text(f'[notifications]\nwebhook_url = "{webhook.url}"\nbackoff = "0s"\n', encoding="utf-8")
    queue_cases(opstore.engine, settings_for(webhook_url=webhook.url), 2)

    code, out, err = cli(opstore, monkeypatch, "worker", "--once", "--config", str(cfg), "-o", "json")
    assert code == 0, err
    assert {k: v for k, v in json.loads(out).items() if k != "worker"} == {"delivered": 0, "retried": 0, "dead": 2,
                                                                          "lost": 0, "waiting": 0, "next_due": None}
    code, out, _ = cli(opstore, monkeypatch, "notifications", "list", "--dead", "-o", "json")
    dead = json.loads(out)
    assert code == 0 and [r["state"] for r in dead] == ["dead", "dead"]
    row = dead[0]
    assert set(row) == {"id", "key", "state", "event", "audience", "channel", "recipient", "case_id", "subject",
                        "attempts", "created_at", "next_attempt_at", "lease_until", "worker", "delivered_at",
                        "last_error"}
    assert row["channel"] == "webhook" and row["attempts"] == 1 and "HTTP 404" in row["last_error"]
    assert row["created_at"].endswith("+00:00")

    code, out, _ = cli(opstore, monkeypatch, "notifications", "list")
    assert code == 0 and "2 notifications" in out and "dead" in out

    code, out, _ = cli(opstore, monkeypatch, "notifications", "retry", str(row["id"]), "--as", "root", "-o", "json")
    assert code == 0 and json.loads(out)["state"] == "pending" and json.loads(out)["attempts"] == 0
    with Session(opstore.engine) as s:
        (audit,) = s.scalars(select(AuditEntry).where(AuditEntry.entity == "notification")).all()
    assert (audit.actor, audit.action, audit.entity_id) == ("root", "retried", row["id"])
    assert audit.before is not None and audit.before["state"] == "dead" and audit.after == {"state": "pending",
                                                                                              "attempts": 0}
    code, out, err = cli(opstore, monkeypatch, "worker", "--once", "--config", str(cfg), "-o", "json")
    assert code == 0 and json.loads(out)["delivered"] == 1, err
    assert webhook.ledger.accepted == {row["key"]: 1}

    code, _, err = cli(opstore, monkeypatch, "notifications", "retry", str(row["id"]))
    assert code == 1 and "error:" in err and "not sent twice" in err and "Traceback" not in err
    code, _, err = cli(opstore, monkeypatch, "notifications", "list", "--state", "lost")
    assert code == 1 and "unknown state lost" in err


_LOADED = """
import sys
from recontact.cli.main import app
try:
    app(sys.argv[1:], prog_name="recontact")
except SystemExit:
    pass
print(sorted({m.partition(".")[0] for m in sys.modules} & {"sqlalchemy", "httpx", "jinja2", "duckdb", "aiosmtpd"}),
      file=sys.stderr)
"""


@pytest.mark.parametrize("args", [("worker", "--help"), ("notifications", "list", "--help"),
                                  ("notifications", "retry", "--help")])
def test_worker_and_notifications_help_load_no_database_or_http_library(args: tuple[str, ...]) -> None:
    proc = subprocess.run([sys.executable, "-c", _LOADED, *args], capture_output=True, text=True, timeout=60)
    assert "Usage" in proc.stdout and proc.stderr.strip().splitlines()[-1] == "[]", proc.stderr


def test_settings_defaults_and_validation(tmp_path: Path) -> None:
    cfg = load_settings(None).notifications
    assert (cfg.max_attempts, cfg.backoff, cfg.lease, cfg.tell_customer.rules) == (8, timedelta(seconds=30),
                                                                                   timedelta(minutes=5), ())
    assert [cfg.delay_after(n).total_seconds() for n in (1, 2, 3, 8, 9, 60)] == [30, 60, 120, 3600, 3600, 3600]
    assert [cfg.delay_after(n, 0.0).total_seconds() for n in (1, 2, 60)] == [15, 30, 1800]  # jitter's floor
    assert cfg.delay_after(3, 0.5).total_seconds() == 90
    assert cfg.attempt_deadline() == timedelta(minutes=2, seconds=30)  # half the lease
    bad = tmp_path / "bad.toml"
    bad.write_text('[notifications.tell_customer]\nrules = ["nope"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"tell_customer\.rules names no rule: nope"):
        load_settings(bad)
    bad.write_text('[notifications]\ntimeout = "10s"\nlease = "20s"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"lease .* at least 3 x timeout"):
        load_settings(bad)
    bad.write_text('[notifications]\nwebhook_url = "hooks.example.com/x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="not an http:// or https:// URL"):
        load_settings(bad)


def test_webhook_url_from_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = settings_for(webhook_url="https://a.example/x").notifications
    assert cfg.webhook() == "https://a.example/x"
    monkeypatch.setenv("RECONTACT_WEBHOOK_URL", "https://b.example/y")
    assert cfg.webhook() == "https://b.example/y"


@pytest.mark.parametrize(("url", "server"), [
    ("smtp://127.0.0.1:2525", SmtpServer("127.0.0.1", 2525, "plain")),
    ("smtp://mail.example.com", SmtpServer("mail.example.com", 25, "plain")),
    ("smtp://mail.example.com:587?starttls=true", SmtpServer("mail.example.com", 587, "starttls")),
    ("smtp+starttls://alerts%40desk.example:p%40ss@mail.example.com",
     SmtpServer("mail.example.com", 587, "starttls", "alerts@desk.example", "p@ss")),
    ("smtps://u:p@mail.example.com", SmtpServer("mail.example.com", 465, "tls", "u", "p")),
])
def test_smtp_url_forms(url: str, server: SmtpServer) -> None:
    assert parse_smtp_url(url) == server


@pytest.mark.parametrize(("url", "problem"), [("http://mail.example.com", "scheme"), ("smtp://", "no host"),
                                              ("smtp://h:port", "not a number")])
def test_bad_smtp_urls_say_why(url: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        parse_smtp_url(url)


def test_a_template_override_by_file_name(opstore: OpStore, webhook: HttpReceiver, tmp_path: Path) -> None:
    (tmp_path / "case_opened.txt.j2").write_text(
        "{% block subject %}S{{ case.case_id }}{% endblock %}{% block body %}B{% endblock %}"
        "{% block chat %}New case {{ case.case_id }} for {{ owner.name }}{% endblock %}", encoding="utf-8")
    settings = settings_for(webhook_url=webhook.url, templates_dir=str(tmp_path))
    with Session(opstore.engine) as s:
        (n,) = outbox.case_opened(s, settings, case(5), OWNER)
        assert (n.subject, n.body) == ("S5", "New case 5 for Ann Lee")
        broken = tmp_path / "broken"
        broken.mkdir()
        (broken / "case_opened.txt.j2").write_text("{% block subject %}{% endblock %}{% block body %}{% endblock %}"
                                                   "{% block chat %}{{ case.nope }}{% endblock %}", encoding="utf-8")
        with pytest.raises(ConfigError, match=r"case_opened\.txt\.j2"):
            outbox.case_opened(s, settings_for(webhook_url=webhook.url, templates_dir=str(broken)), case(6), OWNER)
        with pytest.raises(ConfigError, match="not a folder"):
            outbox.case_opened(s, settings_for(webhook_url=webhook.url, templates_dir=str(tmp_path / "none")),
                               case(6), OWNER)
