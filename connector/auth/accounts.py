"""Agent accounts, the login policy (SPEC AD-1, AD-3) and login sessions.

All functions take an open SQLAlchemy connection (inside the caller's transaction) and ``now``
from the app's clock, so lock-outs and expiries are testable without waiting.

Login failures never say whether an account exists: unknown user, wrong password, locked and
disabled accounts all get the same :class:`LoginFailed`, after the same amount of hashing work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from ..config import AuthSettings
from ..messages import Text
from ..schema import ROLES, agents, auth_sessions
from . import passwords, tokens

USERNAME_RE = re.compile(r"[A-Za-z0-9]{3,15}")
LANGUAGES = ("ja", "en")


class AccountError(Exception):
    """A refused account operation; ``code`` is stable, ``text`` and ``problems`` are for
    people (both languages: :mod:`connector.messages`)."""

    code = "account_error"
    status = 400

    def __init__(self, text: Text, problems: list[Text] | None = None) -> None:
        super().__init__(text.en)
        self.text = text
        self.problems = problems or []


LOGIN_FAILED = Text("ユーザーIDまたはパスワードが正しくないか、アカウントがロックされています。",
                    "Invalid user ID or password, or the account is locked.")
PASSWORD_EXPIRED = Text("パスワードの有効期限が切れています。新しいパスワードを設定してください。",
                        "The password has expired; set a new one.")
CANNOT_CREATE = Text("アカウントを作成できません。", "The account cannot be created.")
PASSWORD_REFUSED = Text("新しいパスワードがパスワードの規則を満たしていません。",
                        "The new password does not meet the password policy.")
BAD_REFRESH_TOKEN = Text("サインイン情報が無効です。もう一度サインインしてください。",
                         "Invalid refresh token; sign in again.")
REFRESH_TOKEN_REUSED = Text("サインイン情報が再利用されたため、安全のためサインインを終了しました。"
                            "もう一度サインインしてください。",
                            "The refresh token was reused; the session was ended. Sign in again.")
SESSION_UNKNOWN = Text("サインインが見つかりません。もう一度サインインしてください。",
                       "Unknown session; sign in again.")
SESSION_ENDED = Text("サインアウトされています。もう一度サインインしてください。",
                     "The session has ended; sign in again.")
SESSION_EXPIRED = Text("サインインの有効期限が切れました。もう一度サインインしてください。",
                       "The session has expired; sign in again.")
SESSION_IDLE = Text("しばらく操作がなかったためサインアウトしました。"
                    "もう一度サインインしてください。",
                    "Signed out after inactivity; sign in again.")
ACCOUNT_DISABLED = Text("このアカウントは無効です。管理者にお問い合わせください。",
                        "The account is disabled; ask your administrator.")
BAD_USERNAME = Text("username: ユーザーIDは3〜15文字の英数字（A-Z、a-z、0-9）です。",
                    "username: 3 to 15 letters or digits (A-Z, a-z, 0-9).")
BAD_ROLE = Text("role: {roles} のどれかです。", "role: one of {roles}.")
BAD_LANGUAGE = Text("language: {languages} のどれかです。", "language: one of {languages}.")
BAD_EMAIL = Text("email: メールアドレスの形式ではありません。", "email: not an e-mail address.")
NAME_REQUIRED = Text("display_name: 表示名を入力してください。", "display_name: required.")
USERNAME_TAKEN = Text("username: ユーザーID {username!r} は既に使われています。",
                      "username: {username!r} is already taken.")


class LoginFailed(AccountError):
    code = "invalid_credentials"
    status = 401

    def __init__(self, lockable_agent_id: int | None = None) -> None:
        super().__init__(LOGIN_FAILED)
        #: A usable account whose password was wrong: this failure counts toward its lock.
        self.lockable_agent_id = lockable_agent_id


class PasswordExpired(AccountError):
    code = "password_expired"
    status = 403


class PasswordRejected(AccountError):
    code = "password_rejected"
    status = 422


class SessionInvalid(AccountError):
    code = "invalid_session"
    status = 401


@dataclass(frozen=True)
class Agent:
    id: int
    username: str
    display_name: str
    nickname: str
    email: str
    extension: str
    role: str
    language: str
    active: bool
    locked_until: datetime | None
    failed_attempts: int
    password_changed_at: datetime

    @property
    def identity(self) -> str:
        """The Twilio client identity (``client:<identity>``); usernames are [a-z0-9] only."""
        return self.username

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "display_name": self.display_name,
                "nickname": self.nickname, "email": self.email, "extension": self.extension,
                "role": self.role, "language": self.language, "active": self.active,
                "identity": self.identity}


_AGENT_COLUMNS = [agents.c[name] for name in Agent.__dataclass_fields__]


def _agent(row: Any) -> Agent:
    return Agent(**{name: row._mapping[name] for name in Agent.__dataclass_fields__})


def normalize_username(username: str) -> str:
    return username.strip().lower()


def validate_profile(*, username: str | None = None, role: str | None = None,
                     language: str | None = None, email: str | None = None) -> list[Text]:
    problems = []
    if username is not None and not USERNAME_RE.fullmatch(username):
        problems.append(BAD_USERNAME)
    if role is not None and role not in ROLES:
        problems.append(BAD_ROLE.format(roles=", ".join(ROLES)))
    if language is not None and language not in LANGUAGES:
        problems.append(BAD_LANGUAGE.format(languages=", ".join(LANGUAGES)))
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        problems.append(BAD_EMAIL)
    return problems


def create_agent(conn: Connection, *, username: str, display_name: str, password: str,
                 policy: AuthSettings, now: datetime, role: str = "agent", email: str = "",
                 nickname: str = "", extension: str = "", language: str = "ja") -> Agent:
    problems = validate_profile(username=username, role=role, language=language, email=email)
    if not display_name.strip():
        problems.append(NAME_REQUIRED)
    username = normalize_username(username)
    problems += passwords.policy_problems(password, policy, username=username)
    if not problems and find_agent(conn, username) is not None:
        problems.append(USERNAME_TAKEN.format(username=username))
    if problems:
        raise PasswordRejected(CANNOT_CREATE, problems)
    conn.execute(insert(agents).values(
        username=username, display_name=display_name.strip(), nickname=nickname, email=email,
        extension=extension, role=role, language=language,
        password_hash=passwords.hash_password(password), password_changed_at=now,
        created_at=now, updated_at=now))
    agent = find_agent(conn, username)
    assert agent is not None
    return agent


def find_agent(conn: Connection, username: str) -> Agent | None:
    row = conn.execute(select(*_AGENT_COLUMNS).where(
        agents.c.username == normalize_username(username))).first()
    return _agent(row) if row else None


def get_agent(conn: Connection, agent_id: int) -> Agent | None:
    row = conn.execute(select(*_AGENT_COLUMNS).where(agents.c.id == agent_id)).first()
    return _agent(row) if row else None


def list_agents(conn: Connection) -> list[Agent]:
    return [_agent(r) for r in conn.execute(select(*_AGENT_COLUMNS).order_by(agents.c.username))]


def authenticate(conn: Connection, username: str, password: str, *, policy: AuthSettings,
                 now: datetime) -> Agent:
    """The agent, if ``password`` is right and the account usable; else :class:`LoginFailed`."""
    row = conn.execute(select(*_AGENT_COLUMNS, agents.c.password_hash).where(
        agents.c.username == normalize_username(username))).first()
    if row is None:
        passwords.burn_time(password)
        raise LoginFailed()
    agent = _agent(row)
    if not agent.active or agent.is_locked(now):
        passwords.burn_time(password)
        raise LoginFailed()
    if not passwords.verify_password(row.password_hash, password):
        _record_failure(conn, agent, now)
        raise LoginFailed(agent.id)
    if agent.failed_attempts or agent.locked_until:
        conn.execute(update(agents).where(agents.c.id == agent.id).values(
            failed_attempts=0, locked_until=None, updated_at=now))
    if password_expired(agent, policy, now):
        raise PasswordExpired(PASSWORD_EXPIRED)
    return agent


def _record_failure(conn: Connection, agent: Agent, now: datetime) -> None:
    # In SQL, not read-modify-write: concurrent failures all count. Shown to admins only;
    # whether to lock is decided by the sign-in throttle (connector.auth.throttle).
    conn.execute(update(agents).where(agents.c.id == agent.id).values(
        failed_attempts=agents.c.failed_attempts + 1, updated_at=now))


def lock(conn: Connection, agent_id: int, policy: AuthSettings, now: datetime) -> None:
    """Lock the account for ``lockout_minutes`` (SPEC AD-3); the failure count restarts."""
    conn.execute(update(agents).where(agents.c.id == agent_id).values(
        failed_attempts=0, locked_until=now + timedelta(minutes=policy.lockout_minutes),
        updated_at=now))


def password_expired(agent: Agent, policy: AuthSettings, now: datetime) -> bool:
    if not policy.password_expiry_days:
        return False
    return agent.password_changed_at + timedelta(days=policy.password_expiry_days) <= now


def set_password(conn: Connection, agent: Agent, new_password: str, *, policy: AuthSettings,
                 now: datetime) -> None:
    """Replace the password, enforcing the policy (including no reuse of the previous one)."""
    current_hash, previous_hash = conn.execute(
        select(agents.c.password_hash, agents.c.previous_password_hash).where(
            agents.c.id == agent.id)).one()
    problems = passwords.policy_problems(new_password, policy, username=agent.username,
                                         current_hash=current_hash, previous_hash=previous_hash)
    if problems:
        raise PasswordRejected(PASSWORD_REFUSED, problems)
    conn.execute(update(agents).where(agents.c.id == agent.id).values(
        password_hash=passwords.hash_password(new_password), previous_password_hash=current_hash,
        password_changed_at=now, failed_attempts=0, locked_until=None, updated_at=now))
    revoke_agent_sessions(conn, agent.id, now)


def set_active(conn: Connection, agent: Agent, active: bool, now: datetime) -> None:
    conn.execute(update(agents).where(agents.c.id == agent.id).values(active=active,
                                                                      updated_at=now))
    if not active:
        revoke_agent_sessions(conn, agent.id, now)


def unlock(conn: Connection, agent: Agent, now: datetime) -> None:
    conn.execute(update(agents).where(agents.c.id == agent.id).values(
        failed_attempts=0, locked_until=None, updated_at=now))


# -- login sessions --------------------------------------------------------------------------

def start_session(conn: Connection, agent: Agent, *, policy: AuthSettings, now: datetime,
                  user_agent: str = "") -> tuple[str, str]:
    """A new login session; returns ``(session_id, refresh_token)``."""
    session_id = tokens.new_session_id()
    refresh_token, refresh_hash = tokens.new_refresh_token(session_id)
    conn.execute(insert(auth_sessions).values(
        id=session_id, agent_id=agent.id, refresh_hash=refresh_hash, created_at=now,
        expires_at=now + timedelta(hours=policy.session_hours), last_used_at=now,
        user_agent=user_agent[:255]))
    return session_id, refresh_token


def refresh_session(conn: Connection, refresh_token: str, *, policy: AuthSettings,
                    now: datetime) -> tuple[Agent, str, str]:
    """Rotate ``refresh_token``; returns ``(agent, session_id, new_refresh_token)``."""
    try:
        session_id = tokens.split_refresh_token(refresh_token)
    except tokens.TokenError:
        raise SessionInvalid(BAD_REFRESH_TOKEN) from None
    session = conn.execute(select(auth_sessions).where(auth_sessions.c.id == session_id)).first()
    if session is None:
        raise SessionInvalid(BAD_REFRESH_TOKEN)
    if not tokens.same_hash(session.refresh_hash, tokens.hash_refresh_token(refresh_token)):
        # A rotated token came back: someone holds a copy. End the session for everyone.
        revoke_session(conn, session_id, now)
        raise SessionInvalid(REFRESH_TOKEN_REUSED)
    agent = _usable_session_agent(conn, session, policy, now)
    new_token, new_hash = tokens.new_refresh_token(session_id)
    # Compare-and-set on the old hash: of two concurrent refreshes with one token, exactly
    # one rotates it. The other is refused without ending the session (the winner's new
    # token stays good); a later reuse of the old token is caught above and ends it.
    rotated = conn.execute(update(auth_sessions).where(
        auth_sessions.c.id == session_id, auth_sessions.c.refresh_hash == session.refresh_hash,
        auth_sessions.c.revoked_at.is_(None)).values(refresh_hash=new_hash, last_used_at=now))
    if rotated.rowcount != 1:
        raise SessionInvalid(BAD_REFRESH_TOKEN)
    return agent, session_id, new_token


def session_agent(conn: Connection, session_id: str, agent_id: int, *, policy: AuthSettings,
                  now: datetime) -> Agent:
    """The agent of a live session (used for every authenticated request)."""
    session = conn.execute(select(auth_sessions).where(
        auth_sessions.c.id == session_id, auth_sessions.c.agent_id == agent_id)).first()
    if session is None:
        raise SessionInvalid(SESSION_UNKNOWN)
    return _usable_session_agent(conn, session, policy, now)


def _usable_session_agent(conn: Connection, session: Any, policy: AuthSettings,
                          now: datetime) -> Agent:
    if session.revoked_at is not None:
        raise SessionInvalid(SESSION_ENDED)
    if session.expires_at <= now:
        raise SessionInvalid(SESSION_EXPIRED)
    idle = timedelta(minutes=policy.idle_logout_minutes)
    if policy.idle_logout_minutes and session.last_used_at + idle <= now:
        raise SessionInvalid(SESSION_IDLE)
    agent = get_agent(conn, session.agent_id)
    if agent is None or not agent.active:
        raise SessionInvalid(ACCOUNT_DISABLED)
    return agent


def revoke_session(conn: Connection, session_id: str, now: datetime) -> None:
    conn.execute(update(auth_sessions).where(
        auth_sessions.c.id == session_id, auth_sessions.c.revoked_at.is_(None)).values(
        revoked_at=now))


def revoke_agent_sessions(conn: Connection, agent_id: int, now: datetime) -> None:
    conn.execute(update(auth_sessions).where(
        auth_sessions.c.agent_id == agent_id, auth_sessions.c.revoked_at.is_(None)).values(
        revoked_at=now))


def count_agents(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(agents)).scalar_one()
