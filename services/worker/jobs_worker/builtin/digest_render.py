"""The digest email: unread messages grouped by channel, rendered as plain text and HTML (jinja2,
autoescaped HTML, so message content can never inject markup). Excerpts are cut to 280 characters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

import jinja2

from jobs_worker.builtin.nchat import User

EXCERPT = 280


@dataclass
class Line:
    author: str
    at: datetime
    text: str


@dataclass
class ChannelUnread:
    id: str
    name: str
    unread: int
    messages: list[Line] = field(default_factory=list)


@dataclass
class Unread:
    total: int
    channels: list[ChannelUnread]

    @classmethod
    def from_rows(cls, rows: list[Any]) -> Unread:
        """Rows of digest.UNREAD_SQL (newest first) → channels in order of their newest message."""
        channels: dict[str, ChannelUnread] = {}
        for row in rows:
            key = str(row["channel_id"])
            if key not in channels:
                channels[key] = ChannelUnread(key, row["channel_name"], int(row["channel_unread"]))
            channels[key].messages.append(Line(row["author"], row["created_at"], _excerpt(row["content"])))
        return cls(int(rows[0]["total_unread"]) if rows else 0, list(channels.values()))


def _excerpt(content: str | None) -> str:
    text = " ".join((content or "").split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("jobs_worker.builtin", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def render(
    user: User, unread: Unread, since: datetime, until: datetime, frequency: str
) -> tuple[str, str, str]:
    """(subject, text, html)."""
    noun = "message" if unread.total == 1 else "messages"
    subject = f"Your {frequency} nChat digest: {unread.total} unread {noun}"
    context = {"user": user, "unread": unread, "since": since, "until": until, "frequency": frequency}
    env = _environment()
    text = env.get_template("digest.txt").render(context)
    html = env.get_template("digest.html").render(context)
    return subject, text, html
