"""Messages rendered from Jinja2 templates: the ones shipped in ``recontact/notify/templates``,
each overridable by a file of the same name in ``[notifications] templates_dir``.

A template is plain text with named blocks: ``subject`` and ``body`` (e-mail), ``chat`` (the
webhook's ``text``) or ``short`` (SMS / call script). Times print in the desk's time zone.
Rendering happens when the notification is queued, so what is sent is what was true then.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined, TemplateError

from recontact.errors import ConfigError


@lru_cache(maxsize=8)
def _environment(templates_dir: Path | None, timezone: str) -> Environment:
    loaders: list[Any] = [PackageLoader("recontact.notify", "templates")]
    if templates_dir is not None:
        if not templates_dir.is_dir():
            raise ConfigError(f"notifications.templates_dir: {templates_dir} is not a folder")
        loaders.insert(0, FileSystemLoader(str(templates_dir)))
    # Plain text, never HTML: nothing to escape. StrictUndefined: a typo in an override fails
    # loudly when the message is queued instead of sending a blank.
    env = Environment(loader=ChoiceLoader(loaders), autoescape=False, undefined=StrictUndefined,
                      keep_trailing_newline=False)
    zone = ZoneInfo(timezone)

    def when(value: datetime | None) -> str:
        return "" if value is None else value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")

    env.filters["when"] = when
    return env


def render(name: str, blocks: tuple[str, ...], context: dict[str, Any], *, templates_dir: Path | None,
           timezone: str) -> dict[str, str]:
    """The text of each of ``blocks`` of template ``name`` (e.g. ``case_opened.txt.j2``), stripped."""
    env = _environment(templates_dir, timezone)
    try:
        template = env.get_template(name)
        ctx = template.new_context(context)
        out = {}
        for block in blocks:
            render_block = template.blocks.get(block)
            if render_block is None:
                raise ConfigError(f"template {template.filename or name}: no block {block!r}")
            out[block] = "".join(render_block(ctx)).strip()
        return out
    except TemplateError as e:
        raise ConfigError(f"template {name}: {e}") from None
