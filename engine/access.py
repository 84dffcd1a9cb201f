"""Who may do what (issue 11, part 3): users, roles, passwords, pages.

Declared once as data so the navigation, the data layer and the tests read
the same rules. Users live in `.streamlit/secrets.toml` under `[users.NAME]`
(Streamlit keeps `[auth]` for its own OIDC login); with no user configured
there is no login and the one reader is `LOCAL`, with every right, as before.

Passwords are stored as scrypt hashes with a salt of their own, made by
`python -m engine hash-password`, and compared in constant time.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Mapping

ROLES = ("admin", "manager", "rep")

# Action -> roles allowed to do it. A manager does everything but the
# destructive or shared-settings writes; a rep reads and logs follow-ups for
# their own customers only (OWNER_SCOPED).
PERMISSIONS: dict[str, frozenset[str]] = {
    "import": frozenset({"admin"}),
    "undo": frozenset({"admin"}),
    "reset": frozenset({"admin"}),
    "restore": frozenset({"admin"}),
    "backup": frozenset({"admin"}),
    "edit_playbook": frozenset({"admin"}),
    "edit_presets": frozenset({"admin"}),
    "choose_database": frozenset({"admin"}),
    "see_audit": frozenset({"admin"}),
    "log_followup": frozenset(ROLES),
}
OWNER_SCOPED = frozenset({"rep"})

# Pages by url path. A rep sees only pages that can be cut down to their own
# customers; every other page draws the whole base (KPIs, mixes, k-means,
# month reviews, risk and value lists across owners).
REP_PAGES = ("customers", "profile", "plan")
ADMIN_PAGES = ("audit",)

# scrypt cost: n=2**14, r=8 needs 16 MiB and about 50 ms; the RFC 7914 advice for interactive logins.
SCRYPT = dict(n=2 ** 14, r=8, p=1)
HASH_FORMAT = re.compile(r"scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)")


class AccessConfigError(ValueError):
    """The users in the secrets file are not usable; the message says which and why."""


@dataclass(frozen=True)
class User:
    """A reader: login name, role, the `customers.owner` value a rep looks after, e-mail for OIDC."""
    name: str
    role: str
    owner: str | None = None
    email: str | None = None
    password_hash: str | None = None

    @property
    def scope(self) -> str | None:
        """The owner whose customers this reader may see; None for all customers."""
        return self.owner if self.role in OWNER_SCOPED else None


LOCAL = User("local", "admin")   # the reader when no login is configured


def allowed(role: str, action: str) -> bool:
    """True when `role` may do `action` (a key of PERMISSIONS)."""
    return role in PERMISSIONS[action]


def may_open(role: str, page: str) -> bool:
    """True when the navigation offers page `page` (its url path) to `role`."""
    if page in ADMIN_PAGES:
        return role == "admin"
    return role != "rep" or page in REP_PAGES


def load_users(config: Mapping) -> dict[str, User]:
    """{name: User} from the `[users]` table of the secrets file; AccessConfigError when unusable."""
    users = {}
    for name, entry in config.items():
        if not isinstance(entry, Mapping):
            raise AccessConfigError(f"[users.{name}] must be a table with role = ... .")
        role = entry.get("role")
        if role not in ROLES:
            raise AccessConfigError(
                f"[users.{name}]: role must be one of {', '.join(ROLES)}, got {role!r}.")
        owner = entry.get("owner")
        if role in OWNER_SCOPED and not (isinstance(owner, str) and owner.strip()):
            raise AccessConfigError(
                f"[users.{name}]: a {role} needs owner = the customers.owner value they look after.")
        stored = entry.get("password_hash")
        if stored is not None and not HASH_FORMAT.fullmatch(str(stored)):
            raise AccessConfigError(
                f"[users.{name}]: password_hash is not one made by python -m engine hash-password.")
        email = entry.get("email")
        if stored is None and not email:
            raise AccessConfigError(f"[users.{name}]: needs a password_hash or an email (OIDC).")
        users[str(name)] = User(str(name), role, owner.strip() if owner else None,
                                str(email).strip().lower() if email else None, stored)
    return users


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """"scrypt$n$r$p$salt$hash" (base64) of `password` with a fresh 16-byte salt."""
    if not password:
        raise ValueError("an empty password cannot be hashed")
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${_b64(salt)}${_b64(digest)}"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def verify_password(password: str, stored: str) -> bool:
    """True when `password` hashes to `stored` (constant-time compare)."""
    match = HASH_FORMAT.fullmatch(stored or "")
    if match is None:
        return False
    n, r, p = (int(g) for g in match.groups()[:3])
    salt, expected = (base64.b64decode(g) for g in match.groups()[3:])
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                            dklen=len(expected), maxmem=2 ** 26)
    return hmac.compare_digest(digest, expected)


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Checked for an unknown name, so a wrong name costs as long as a wrong password."""
    return hash_password("not a password", salt=b"\0" * 16)


def authenticate(users: Mapping[str, User], name: str, password: str) -> User | None:
    """The user when `name` and `password` match, else None (never says which part was wrong)."""
    user = users.get((name or "").strip())
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    ok = verify_password(password or "", stored)
    return user if ok and user is not None and user.password_hash else None


@dataclass
class Throttle:
    """Back-off of password logins (issue 19, part 6), kept per key: a user name and an
    address, so that neither one guesser on many names nor many guessers on one name
    gets far.

    After `free` failures within `forget_s`, each further try of that key must wait
    `base_s` seconds, doubling with each failure, up to `most_s` (a lockout): 50
    wrong passwords in a row leave the name and the address locked for 5 minutes, and
    then one guess per 5 minutes. While a key must wait, its password is not even
    checked; a success forgets the user name's failures. `now` is monotonic seconds,
    given by the caller so that tests can state the time.
    """
    free: int = 3
    base_s: float = 1.0
    most_s: float = 300.0
    forget_s: float = 900.0
    _failures: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, keys, now: float) -> float:
        """Seconds until these keys may try again (0: now)."""
        with self._lock:
            return max((self._wait(key, now) for key in keys), default=0.0)

    def _wait(self, key: str, now: float) -> float:
        recent = [t for t in self._failures.get(key, []) if now - t < self.forget_s]
        self._failures[key] = recent
        if len(recent) < self.free:
            return 0.0
        delay = min(self.base_s * 2 ** (len(recent) - self.free), self.most_s)
        return max(recent[-1] + delay - now, 0.0)

    def failed(self, keys, now: float) -> None:
        with self._lock:
            for key in keys:
                self._failures.setdefault(key, []).append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


LOGINS = Throttle()   # the dashboard's, shared by all its sessions (threads of one process)


def user_for_email(users: Mapping[str, User], email: str | None) -> User | None:
    """The configured user whose `email` is the OIDC login's e-mail (case-insensitive), else None."""
    if not email:
        return None
    email = email.strip().lower()
    return next((u for u in users.values() if u.email == email), None)
