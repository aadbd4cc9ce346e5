"""Development only: every email and SMS as its recipient would get it."""

from __future__ import annotations

from flask import Blueprint, abort, request
from sqlalchemy import select

from portal.core.extensions import db
from portal.core.htmx import render
from portal.models import Message

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.get("/outbox")
def outbox():
    channel = request.args.get("channel")
    query = select(Message).order_by(Message.id.desc()).limit(200)
    if channel in ("email", "sms"):
        query = query.where(Message.channel == channel)
    return render("dev/outbox.html", messages=db.session.scalars(query).all(), channel=channel)


@bp.get("/outbox/<int:message_id>")
def outbox_message(message_id: int):
    message = db.session.get(Message, message_id)
    if message is None:
        abort(404)
    return render("dev/message.html", message=message)


@bp.get("/outbox/<int:message_id>/html")
def outbox_message_html(message_id: int):
    message = db.session.get(Message, message_id)
    if message is None or not message.body_html:
        abort(404)
    return (
        message.body_html,
        200,
        {
            # Shown in the outbox page's sandboxed iframe: framed by this site only, no script.
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'",
            "X-Frame-Options": "SAMEORIGIN",
            "X-Content-Type-Options": "nosniff",
        },
    )
