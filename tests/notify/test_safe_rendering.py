"""Safe rendering (issue 23, item 5): customer-controlled text (a category, an identifier) and
users' text (names, reasons) arrive as text in the e-mail and the chat message the real loopback
receivers get — never evaluated as a template, never a chat mention or link; templates render in a
sandbox; HTML templates escape what they insert."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from notify_support import OpStore, case, settings_for
from receivers import HttpReceiver, SmtpReceiver
from recontact.errors import ConfigError
from recontact.notify import outbox, worker
from recontact.notify.messages import markdown_text, render, slack_text
from recontact.notify.outbox import Person

HOSTILE = "{{ 7*7 }} <b>x</b> <!channel>"


def unmarkdown(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


@pytest.mark.parametrize(("chat_format", "decode"), [("slack", html.unescape), ("markdown", unmarkdown)])
def test_hostile_text_arrives_literally_in_mail_and_chat(opstore: OpStore, smtp: SmtpReceiver, webhook: HttpReceiver,
                                                         monkeypatch: pytest.MonkeyPatch, chat_format: str,
                                                         decode) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RECONTACT_SMTP_URL", smtp.url)
    settings = settings_for(webhook_url=webhook.url, chat_format=chat_format)
    owner = Person(name=HOSTILE, email="ann@desk.example")
    with Session(opstore.engine) as s:
        outbox.case_opened(s, settings, case(1, category=HOSTILE,
                                             identifiers=("phone:+14155550134", "email:x@example.com")), owner)
        outbox.case_escalated(s, settings, case(1), owner, level="senior", by="sam", reason=HOSTILE)
        s.commit()
    report = worker.run(opstore.engine, settings, once=True)
    assert (report.delivered, report.dead) == (4, 0)

    for msg in smtp.messages.values():
        content = msg.get_content()
        assert f"Hello {HOSTILE}," in content  # as typed: not evaluated (no 49), not escaped (plain text)
        assert "49" not in content
    opened = next(m for m in smtp.messages.values() if "opened" in str(m["Subject"]))
    assert f"Category:    {HOSTILE}" in opened.get_content()

    texts = {r.body["event"]: r.body["text"] for r in webhook.ledger.received}
    for text in texts.values():
        assert "<!channel>" not in text and "<b>" not in text  # no mention, no markup reaches the chat tool
        assert "49" not in decode(text)
    assert f", {HOSTILE}), owner: {HOSTILE}" in decode(texts["case_opened"])
    assert decode(texts["case_escalated"]).endswith(f"escalated to {HOSTILE} (senior): {HOSTILE}")
    assert texts["case_opened"].startswith(":rotating_light: Case 1 opened")  # the template's own text stays
    opened_body = next(r.body for r in webhook.ledger.received if r.body["event"] == "case_opened")
    assert opened_body["case"]["category"] == HOSTILE  # structured fields carry the value itself


def test_chat_escapes() -> None:
    assert slack_text("a & <!here> <http://evil|click>") == "a &amp; &lt;!here&gt; &lt;http://evil|click&gt;"
    assert markdown_text("[click](http://evil) **b** @all\nnext") == (
        r"\[click\]\(http\:\/\/evil\) \*\*b\*\* \@all next")
    assert unmarkdown(markdown_text(HOSTILE)) == HOSTILE and html.unescape(slack_text(HOSTILE)) == HOSTILE


def test_templates_render_in_a_sandbox(tmp_path: Path) -> None:
    (tmp_path / "case_opened.txt.j2").write_text(
        "{% block subject %}{{ case.__class__.__mro__ }}{% endblock %}{% block body %}{% endblock %}"
        "{% block chat %}{% endblock %}", encoding="utf-8")
    with pytest.raises(ConfigError, match="unsafe"):
        render("case_opened.txt.j2", ("subject",), {"case": case(1)}, templates_dir=tmp_path, timezone="UTC")


def test_html_templates_escape_and_one_line_blocks_stay_one_line(tmp_path: Path) -> None:
    (tmp_path / "note.html.j2").write_text("{% block body %}<p>{{ name }}</p>{% endblock %}", encoding="utf-8")
    (tmp_path / "note.txt.j2").write_text("{% block subject %}Case for {{ name }}{% endblock %}"
                                          "{% block body %}{{ name }}{% endblock %}", encoding="utf-8")
    got = render("note.html.j2", ("body",), {"name": HOSTILE}, templates_dir=tmp_path, timezone="UTC")
    assert got["body"] == "<p>{{ 7*7 }} &lt;b&gt;x&lt;/b&gt; &lt;!channel&gt;</p>"
    text = render("note.txt.j2", ("subject", "body"), {"name": "Ann\r\nBcc: all@desk.example"},
                  templates_dir=tmp_path, timezone="UTC")
    assert text == {"subject": "Case for Ann Bcc: all@desk.example", "body": "Ann\r\nBcc: all@desk.example"}
