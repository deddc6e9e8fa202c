"""Console users: roles, hashed passwords, lockout after wrong passwords; every change audited.

Roles:
- ``admin`` (chain admin): everything, including users;
- ``marketer``: members, segments and campaigns of every branch, no users;
- ``branch_manager``: members and devices of their own branches only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from cloud import audit
from cloud.db import Database
from cloud.db.schema import users
from cloud.errors import CloudError
from cloud.passwords import hash_password, password_problem, verify_password
from kiosk import protocol

ROLES = ("admin", "marketer", "branch_manager")
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


class UserError(CloudError):
    """A user command that cannot be carried out (unknown user, bad role, weak password...)."""


class LoginRefused(CloudError):
    """Wrong name or password, a disabled user, or a locked one (`locked_for` seconds)."""

    def __init__(self, message: str, locked_for: int = 0) -> None:
        super().__init__(message)
        self.locked_for = locked_for


@dataclass(frozen=True)
class User:
    user_id: int
    username: str
    role: str
    branches: frozenset[str]
    disabled: bool
    session_epoch: int

    @property
    def chain_wide(self) -> bool:
        return self.role in ("admin", "marketer")

    def sees_branch(self, branch: str | None) -> bool:
        return self.chain_wide or branch in self.branches

    @property
    def branch_filter(self) -> frozenset[str] | None:
        """The branches this user is limited to, or None for every branch."""
        return None if self.chain_wide else self.branches


def _user(row) -> User:  # noqa: ANN001 - a SQLAlchemy Row
    return User(row.user_id, row.username, row.role,
                frozenset(b for b in row.branches.split(",") if b), bool(row.disabled), row.session_epoch)


class UserStore:
    def __init__(self, db: Database, clock) -> None:  # noqa: ANN001 - Clock, as CloudStore's
        self.db = db
        self.clock = clock

    def _now(self) -> str:
        return protocol.format_time(self.clock())

    def add(self, username: str, password: str, role: str, branches: list[str] | None = None,
            *, actor: str = "kiosk-cloud") -> User:
        username = username.strip().lower()
        branch_list = sorted({b.strip() for b in branches or [] if b.strip()})
        if not username or len(username) > 64 or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise UserError("a user name is 1-64 letters, digits, '.', '-' or '_'")
        if role not in ROLES:
            raise UserError(f"role {role!r} is not known: use one of {', '.join(ROLES)}")
        if role == "branch_manager" and not branch_list:
            raise UserError("a branch manager needs at least one branch (--branch NAME)")
        if role != "branch_manager" and branch_list:
            raise UserError(f"a {role} sees every branch; give --branch only to a branch_manager")
        problem = password_problem(password)
        if problem:
            raise UserError(problem)
        with self.db.write() as conn:
            if conn.execute(select(users.c.user_id).where(users.c.username == username)).first():
                raise UserError(f"user {username!r} already exists; use `user passwd` to change the password")
            conn.execute(users.insert().values(
                username=username, password_hash=hash_password(password), role=role, branches=",".join(branch_list),
                created_at=self._now()))
            audit.record(conn, at=self._now(), actor=actor, action="user.add", target=username,
                         after={"role": role, "branches": branch_list})
        found = self.get(username)
        assert found is not None
        return found

    def get(self, username: str) -> User | None:
        with self.db.read() as conn:
            row = conn.execute(select(users).where(users.c.username == username.strip().lower())).first()
        return _user(row) if row else None

    def by_id(self, user_id: int) -> User | None:
        with self.db.read() as conn:
            row = conn.execute(select(users).where(users.c.user_id == user_id)).first()
        return _user(row) if row else None

    def all(self) -> list[User]:
        with self.db.read() as conn:
            return [_user(row) for row in conn.execute(select(users).order_by(users.c.username))]

    def set_password(self, username: str, password: str, *, actor: str = "kiosk-cloud") -> None:
        problem = password_problem(password)
        if problem:
            raise UserError(problem)
        self._change(username, actor, "user.passwd", password_hash=hash_password(password),
                     failed_logins=0, locked_until=None, session_epoch=users.c.session_epoch + 1)

    def set_disabled(self, username: str, disabled: bool, *, actor: str = "kiosk-cloud") -> None:
        self._change(username, actor, "user.disable" if disabled else "user.enable", disabled=int(disabled),
                     session_epoch=users.c.session_epoch + 1)

    def _change(self, username: str, actor: str, action: str, **values: object) -> None:
        username = username.strip().lower()
        with self.db.write() as conn:
            before = conn.execute(select(users.c.disabled).where(users.c.username == username)).first()
            if before is None:
                raise UserError(f"no user {username!r}; list them with `kiosk-cloud user list`")
            conn.execute(update(users).where(users.c.username == username).values(**values))
            audit.record(conn, at=self._now(), actor=actor, action=action, target=username,
                         before={"disabled": bool(before.disabled)},
                         after={"disabled": bool(values.get("disabled", before.disabled))})

    def login(self, username: str, password: str) -> User:
        """The user, or LoginRefused; wrong passwords count, and the fifth in a row locks for 15 minutes."""
        now = self.clock()
        refusal: LoginRefused | None = None
        with self.db.write() as conn:
            row = conn.execute(select(users).where(users.c.username == username.strip().lower())
                               .with_for_update()).first()
            if row is None:
                # Same work and the same answer as a wrong password: no probing for user names.
                verify_password(password, hash_password("not a user"))
                raise LoginRefused("wrong user name or password")
            if row.locked_until and protocol.parse_time(row.locked_until) > now:
                left = int((protocol.parse_time(row.locked_until) - now).total_seconds()) + 1
                raise LoginRefused("too many wrong passwords: this user is locked for a while", left)
            if verify_password(password, row.password_hash):
                conn.execute(update(users).where(users.c.user_id == row.user_id).values(
                    failed_logins=0, locked_until=None))
            else:
                failed = row.failed_logins + 1
                locked = failed >= MAX_FAILED_LOGINS
                conn.execute(update(users).where(users.c.user_id == row.user_id).values(
                    failed_logins=0 if locked else failed,
                    locked_until=protocol.format_time(now + LOCKOUT) if locked else None))
                if locked:
                    audit.record(conn, at=protocol.format_time(now), actor=row.username, action="user.locked",
                                 target=row.username)
                    refusal = LoginRefused("too many wrong passwords: this user is locked for a while",
                                           int(LOCKOUT.total_seconds()))
                else:
                    refusal = LoginRefused("wrong user name or password")
        if refusal is not None:
            raise refusal  # after the commit, so the count of wrong passwords is kept
        if row.disabled:
            raise LoginRefused("this user is disabled; ask a chain admin")
        return _user(row)
