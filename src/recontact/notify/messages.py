"""Messages rendered from Jinja2 templates: the ones shipped in ``recontact/notify/templates``,
each overridable by a file of the same name in ``[notifications] templates_dir``.

A template is plain text with named blocks: ``subject`` and ``body`` (e-mail), ``chat`` (the
webhook's ``text``) or ``short`` (SMS / call script). Times print in the desk's time zone.
Rendering happens when the notification is queued, so what is sent is what was true then.

Templates see customer-controlled text (categories, identifiers) and users' text (names,
reasons), so rendering is safe by construction: a sandboxed environment (a template, or a value,
cannot reach Python internals), values are inserted as text and never evaluated (a category
``{{ 7*7 }}`` prints as typed), HTML templates (``.html``/``.htm``/``.xml`` in the name) escape
what they insert, the ``chat`` block escapes every inserted value for the chat tool
(``[notifications] chat_format``: Slack's ``&``, ``<``, ``>`` entities, so ``<!channel>`` is shown,
not obeyed; or Markdown's backslash escapes for Teams, Mattermost, Rocket.Chat), and a subject or
short text never carries a line break.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, StrictUndefined, TemplateError, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from recontact.errors import ConfigError

#: The blocks that are one line: a line break in a value would end a mail header or an SMS.
_ONE_LINE = ("subject", "short")
#: Template names that are HTML (and escape what they insert): ``*.html.j2`` and the like.
_HTML = tuple(f"{ext}{j2}" for ext in ("html", "htm", "xml") for j2 in ("", ".j2", ".jinja"))
_MARKDOWN_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation mark (CommonMark escapes them all)


def slack_text(value: str) -> str:
    """``value`` as Slack shows it literally: ``&``, ``<``, ``>`` as entities (so ``<!channel>``,
    ``<@U123>`` and ``<http://x|label>`` are text, not a mention or a link)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_text(value: str) -> str:
    """``value`` as Markdown chat (Teams, Mattermost, Rocket.Chat) shows it literally: every ASCII
    punctuation mark backslash-escaped (no link, emphasis, heading, HTML or mention), line breaks
    as spaces."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(value.splitlines()))


CHAT_ESCAPES: dict[str, Callable[[str], str]] = {"slack": slack_text, "markdown": markdown_text}


def _finalize(escape: Callable[[str], str] | None) -> Callable[[Any], Any]:
    def finalize(value: Any) -> Any:
        if value is None or escape is None:
            return value
        return escape(str(value))

    return finalize


@lru_cache(maxsize=16)
def _environment(templates_dir: Path | None, timezone: str, chat_format: str | None) -> SandboxedEnvironment:
    """The environment that renders ``templates_dir``'s (then the shipped) templates; with
    ``chat_format`` set, every inserted value is escaped for that chat tool."""
    loaders: list[Any] = [PackageLoader("recontact.notify", "templates")]
    if templates_dir is not None:
        if not templates_dir.is_dir():
            raise ConfigError(f"notifications.templates_dir: {templates_dir} is not a folder")
        loaders.insert(0, FileSystemLoader(str(templates_dir)))
    # StrictUndefined: a typo in an override fails loudly when the message is queued instead of
    # sending a blank. Plain-text templates (.txt.j2) are not HTML-escaped: a mail body shows the
    # text as typed; an HTML one (.html.j2) is.
    escape = None if chat_format is None else CHAT_ESCAPES[chat_format]
    env = SandboxedEnvironment(loader=ChoiceLoader(loaders), undefined=StrictUndefined, keep_trailing_newline=False,
                               autoescape=select_autoescape(enabled_extensions=_HTML,
                                                            default_for_string=False, default=False),
                               finalize=_finalize(escape))
    zone = ZoneInfo(timezone)

    def when(value: datetime | None) -> str:
        return "" if value is None else value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")

    env.filters["when"] = when
    return env


def render(name: str, blocks: tuple[str, ...], context: dict[str, Any], *, templates_dir: Path | None,
           timezone: str, chat_format: str = "slack") -> dict[str, str]:
    """The text of each of ``blocks`` of template ``name`` (e.g. ``case_opened.txt.j2``), stripped;
    the ``chat`` block with its values escaped for ``chat_format``; ``subject`` and ``short`` on
    one line."""
    try:
        out = {}
        for block in blocks:
            env = _environment(templates_dir, timezone, chat_format if block == "chat" else None)
            template = env.get_template(name)
            render_block = template.blocks.get(block)
            if render_block is None:
                raise ConfigError(f"template {template.filename or name}: no block {block!r}")
            text = "".join(render_block(template.new_context(context))).strip()
            out[block] = " ".join(text.split()) if block in _ONE_LINE else text
        return out
    except TemplateError as e:
        raise ConfigError(f"template {name}: {e}") from None
