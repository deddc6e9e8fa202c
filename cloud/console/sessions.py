"""Console logins in a signed cookie: no session state in any process, so any cloud process serves any user.

The cookie holds the user id, the user's session epoch (bumped by a password change or disable, which
voids every older cookie) and two times: when the login happened (ended after MAX_AGE) and the last
request (ended after IDLE). The signing key is made once and kept in the database's settings table,
so every process behind a load balancer signs with the same key.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from functools import wraps
from typing import Any, Callable

from flask import abort, g, redirect, request, session, url_for
from sqlalchemy import select

from cloud.db import Database
from cloud.db.schema import settings
from cloud.users import User, UserStore

MAX_AGE = timedelta(hours=12)
IDLE = timedelta(minutes=30)


def shared_secret(db: Database, name: str = "console_session_key") -> str:
    """The value of `name`, made on first use; the first process to insert wins, the others read it."""
    with db.write() as conn:
        conn.execute(db.insert(settings).values(name=name, value=secrets.token_hex(32)).on_conflict_do_nothing())
        return conn.execute(select(settings.c.value).where(settings.c.name == name)).scalar_one()


def start(user: User, now_s: float) -> None:
    session.clear()
    session.permanent = True
    session.update({"uid": user.user_id, "epoch": user.session_epoch, "since": now_s, "seen": now_s})


def current_user(users: UserStore, now_s: float) -> User | None:
    """The logged-in user of this request, or None (no cookie, expired, idle, revoked, disabled)."""
    uid = session.get("uid")
    if uid is None:
        return None
    if now_s - session.get("since", 0) > MAX_AGE.total_seconds() or now_s - session.get("seen", 0) > IDLE.total_seconds():
        session.clear()
        return None
    user = users.by_id(int(uid))
    if user is None or user.disabled or user.session_epoch != session.get("epoch"):
        session.clear()
        return None
    session["seen"] = now_s
    return user


def login_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A view for logged-in users (of `roles`, when given): others go to the login page or get 403."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if g.get("user") is None:
                return redirect(url_for("console.login", next=request.full_path if request.query_string
                                        else request.path))
            if roles and g.user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate
