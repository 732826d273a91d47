"""The directory client: find a user with the service account, bind as the user, resolve groups.

Pure LDAP (ldap3), no database. Every value a client supplies is escaped before it reaches a
filter. Failures that are not "wrong credentials" raise :class:`DirectoryError` subclasses
with a precise, secret-free reason (unreachable, TLS, service credentials, base DN).

Nested groups: Active Directory resolves the transitive closure itself with the in-chain
matching rule (``LDAP_MATCHING_RULE_IN_CHAIN``); elsewhere (OpenLDAP) the groups containing
the user's groups are searched level by level, bounded and cycle-safe.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlparse

# ldap3 (about 4-5 MiB per worker, measured) is imported where a directory is used, not here: a
# server that does not sign in against LDAP never loads it
if TYPE_CHECKING:
    import ldap3

from harbor_api.errors import (  # the directory's errors live in the one hierarchy
    BaseDnError,
    DirectoryConfigError,
    DirectoryError,
    DirectoryTlsError,
    DirectoryUnreachableError,
    ServiceCredentialsError,
)

log = logging.getLogger(__name__)

IN_CHAIN_RULE = "1.2.840.113556.1.4.1941"
AD_CAPABILITY = "1.2.840.113556.1.4.800"  # LDAP_CAP_ACTIVE_DIRECTORY_OID in supportedCapabilities
MAX_NESTING_DEPTH = 10
MAX_GROUPS = 2000
MAX_TIMEOUT = 300  # seconds; ldap_timeout is clamped to it
Scope = Literal["BASE", "LEVEL", "SUBTREE"]
Entry = dict[str, Any]  # a search result: its "dn" and its attributes
_SCOPES: dict[int, Scope] = {0: "BASE", 1: "LEVEL", 2: "SUBTREE"}  # ldap3's names
_INVALID_CREDENTIALS = 49
_NO_SUCH_OBJECT = 32


@dataclass(frozen=True)
class LdapSettings:
    url: str
    search_dn: str = ""
    search_password: str = field(default="", repr=False)  # never in a log or a message
    base_dn: str = ""
    user_filter: str = ""
    uid_attribute: str = "uid"
    scope: int = 2
    timeout: int = 5
    verify_cert: bool = True
    group_base_dn: str = ""
    group_filter: str = ""
    group_name_attribute: str = "cn"
    group_scope: int = 2
    group_admin_dn: str = ""
    membership_attribute: str = "memberof"

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> LdapSettings:
        return cls(
            url=str(cfg.get("ldap_url") or ""),
            search_dn=str(cfg.get("ldap_search_dn") or ""),
            search_password=str(cfg.get("ldap_search_password") or ""),
            base_dn=str(cfg.get("ldap_base_dn") or ""),
            user_filter=str(cfg.get("ldap_filter") or ""),
            uid_attribute=str(cfg.get("ldap_uid") or "uid"),
            scope=int(cfg.get("ldap_scope", 2) or 0),
            timeout=min(MAX_TIMEOUT, max(1, int(cfg.get("ldap_timeout") or 5))),
            verify_cert=bool(cfg.get("ldap_verify_cert", True)),
            group_base_dn=str(cfg.get("ldap_group_base_dn") or ""),
            group_filter=str(cfg.get("ldap_group_search_filter") or ""),
            group_name_attribute=str(cfg.get("ldap_group_attribute_name") or "cn"),
            group_scope=int(cfg.get("ldap_group_search_scope", 2) or 0),
            group_admin_dn=str(cfg.get("ldap_group_admin_dn") or ""),
            membership_attribute=str(cfg.get("ldap_group_membership_attribute") or ""),
        )


@dataclass(frozen=True)
class DirectoryUser:
    dn: str
    username: str
    email: str = ""
    realname: str = ""
    group_dns: tuple[str, ...] = field(default_factory=tuple)  # transitive, canonical DNs
    is_admin: bool = False


@dataclass(frozen=True)
class DirectoryGroup:
    dn: str
    name: str


# --- pure helpers (unit-tested) ------------------------------------------------------------


def scope_of(value: int) -> Scope:
    """Harbor's 0/1/2 → ldap3's BASE/LEVEL/SUBTREE."""
    try:
        return _SCOPES[int(value)]
    except (KeyError, ValueError, TypeError):
        raise DirectoryConfigError(f"scope must be 0, 1 or 2, not {value!r}") from None


def _escape(value: str) -> str:
    from ldap3.utils.conv import escape_filter_chars

    return str(escape_filter_chars(value))


def wrap_filter(raw: str) -> str:
    """A configured filter, parenthesised if written bare (``objectClass=person``)."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    return raw if raw.startswith("(") else f"({raw})"


def and_filter(*parts: str) -> str:
    parts = tuple(p for p in parts if p)
    if not parts:
        return "(objectClass=*)"
    return parts[0] if len(parts) == 1 else "(&" + "".join(parts) + ")"


def user_filter(settings: LdapSettings, username: str) -> str:
    """The configured filter AND ``(<uid attribute>=<escaped username>)``."""
    return and_filter(
        wrap_filter(settings.user_filter),
        f"({settings.uid_attribute}={_escape(username)})",
    )


def in_chain_filter(group_filter: str, member_dn: str) -> str:
    """Every group containing ``member_dn`` directly or through nested groups (AD)."""
    return and_filter(wrap_filter(group_filter), f"(member:{IN_CHAIN_RULE}:={_escape(member_dn)})")


def members_filter(group_filter: str, member_dns: Iterable[str]) -> str:
    """Groups having any of ``member_dns`` as a ``member`` or ``uniqueMember``."""
    terms = "".join(
        f"({attr}={_escape(dn)})" for dn in member_dns for attr in ("member", "uniqueMember")
    )
    return and_filter(wrap_filter(group_filter), f"(|{terms})")


def supports_in_chain(root_dse_capabilities: Iterable[str]) -> bool:
    """Active Directory (which implements LDAP_MATCHING_RULE_IN_CHAIN) says so in the root
    DSE's ``supportedCapabilities``; OpenLDAP and others don't."""
    return AD_CAPABILITY in set(root_dse_capabilities)


def canonical_dn(dn: str, keep_case: bool = False) -> str:
    """DNs compare case-insensitively and ignore spacing: ``CN=X, dc=Y`` ≡ ``cn=x,dc=y``.
    ``keep_case`` only tidies the spacing (``CN=X,dc=Y``), for storing a DN as written."""
    from ldap3.core import exceptions as lexc
    from ldap3.utils.dn import parse_dn

    fold = (lambda v: v) if keep_case else str.lower
    try:
        parts = parse_dn(dn, escape=False, strip=True)
    except (lexc.LDAPInvalidDnError, ValueError, TypeError):
        return fold((dn or "").strip())
    out, rdn = [], []
    for attr, value, separator in parts:
        rdn.append(f"{fold(attr.strip())}={fold(value.strip())}")
        if separator != "+":
            out.append("+".join(rdn))
            rdn = []
    if rdn:
        out.append("+".join(rdn))
    return ",".join(out)


def parse_url(url: str) -> tuple[str, int, bool]:
    """``ldap[s]://host[:port]`` (scheme optional, defaults ldap://) → (host, port, use_ssl)."""
    url = (url or "").strip()
    if not url:
        raise DirectoryConfigError("ldap_url is empty")
    if "://" not in url:
        url = "ldap://" + url
    problem = DirectoryConfigError(
        "ldap_url must look like ldap://host[:port] or ldaps://host[:port]"
    )
    try:
        parsed = urlparse(url)
        if parsed.scheme not in ("ldap", "ldaps") or not parsed.hostname:
            raise problem
        parsed.hostname.encode("idna")  # a host name DNS can carry
    except (ValueError, UnicodeError):
        raise problem from None
    use_ssl = parsed.scheme == "ldaps"
    try:
        port = parsed.port or (636 if use_ssl else 389)
    except ValueError:
        raise DirectoryConfigError("ldap_url has an invalid port") from None
    return parsed.hostname, port, use_ssl


# --- the client ----------------------------------------------------------------------------


def _first(entry: Entry, name: str) -> str:
    for key, value in entry.items():
        if key.lower() == name.lower():
            if isinstance(value, list):
                return str(value[0]) if value else ""
            return str(value)
    return ""


def _all(entry: Entry, name: str) -> list[str]:
    for key, value in entry.items():
        if key.lower() == name.lower():
            return [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return []


class Directory:
    """One configured directory. Each method opens its own connections (thread-safe)."""

    def __init__(self, settings: LdapSettings) -> None:
        self.settings = settings
        self.address = parse_url(settings.url)

    # connections ---------------------------------------------------------------------------
    def _server(self) -> ldap3.Server:
        """A fresh ldap3 Server per connection: ldap3 remembers failed addresses on the
        Server object, which would keep failing for a while after the directory is back."""
        import ldap3

        host, port, use_ssl = self.address
        verify = ssl.CERT_REQUIRED if self.settings.verify_cert else ssl.CERT_NONE
        return ldap3.Server(
            host,
            port=port,
            use_ssl=use_ssl,
            tls=ldap3.Tls(validate=verify),
            connect_timeout=self.settings.timeout,
            get_info=ldap3.NONE,
        )

    def _connect(self, user: str | None, password: str | None) -> ldap3.Connection:
        """An open, bound connection; raises DirectoryError unless the bind is just refused
        (then returns an unbound connection: check ``conn.bound``)."""
        import ldap3
        from ldap3.core import exceptions as lexc

        conn = ldap3.Connection(
            self._server(),
            user=user or None,
            password=password or None,
            receive_timeout=self.settings.timeout,
            auto_referrals=False,
            read_only=True,
            raise_exceptions=False,
        )
        try:
            conn.open()
            conn.bind()
        except (
            lexc.LDAPSocketOpenError,
            lexc.LDAPSocketReceiveError,
            lexc.LDAPSocketSendError,
            lexc.LDAPSessionTerminatedByServerError,
            lexc.LDAPResponseTimeoutError,
            lexc.LDAPCommunicationError,
            OSError,
        ) as exc:
            _safe_unbind(conn)
            raise _communication_error(exc) from None
        except lexc.LDAPException as exc:
            _safe_unbind(conn)
            raise DirectoryError(type(exc).__name__) from None
        except (ValueError, UnicodeError) as exc:  # e.g. a DN or host the library refuses
            _safe_unbind(conn)
            raise DirectoryConfigError(_short(str(exc))) from None
        return conn

    def service_connection(self) -> ldap3.Connection:
        s = self.settings
        conn = self._connect(s.search_dn or None, s.search_password or None)
        if not conn.bound:
            result = conn.result or {}
            _safe_unbind(conn)
            if s.search_dn and not s.search_password:
                raise ServiceCredentialsError("ldap_search_password is empty")
            raise ServiceCredentialsError(result.get("description") or "bind refused")
        return conn

    def _search(
        self,
        conn: ldap3.Connection,
        base: str,
        flt: str,
        scope: Scope,
        attributes: list[str],
        size_limit: int = 0,
    ) -> list[Entry]:
        from ldap3.core import exceptions as lexc

        try:
            conn.search(
                base,
                flt,
                search_scope=scope,
                attributes=attributes,
                size_limit=size_limit,
                time_limit=self.settings.timeout,
            )
        except (lexc.LDAPCommunicationError, lexc.LDAPResponseTimeoutError, OSError) as exc:
            raise _communication_error(exc) from None
        except lexc.LDAPException as exc:
            raise DirectoryError(f"search failed: {type(exc).__name__}") from None
        except (ValueError, UnicodeError) as exc:  # a base DN or filter the library refuses
            raise DirectoryConfigError(_short(str(exc))) from None
        result = conn.result or {}
        code = result.get("result", 0)
        if code == _NO_SUCH_OBJECT:
            raise BaseDnError(base)
        if code not in (0, 4):  # 4: sizeLimitExceeded still returns entries
            raise DirectoryError(f"search failed: {result.get('description')}")
        return [
            {"dn": r["dn"], **dict(r.get("attributes") or {})}
            for r in conn.response or []
            if r.get("type") == "searchResEntry"
        ]

    # checks --------------------------------------------------------------------------------
    def ping(self) -> None:
        """Raise a precise DirectoryError unless the service account can read the base DN."""
        conn = self.service_connection()
        try:
            if not self.settings.base_dn:
                raise BaseDnError("ldap_base_dn is empty")
            self._search(conn, self.settings.base_dn, "(objectClass=*)", "BASE", [])
        finally:
            _safe_unbind(conn)

    # users ---------------------------------------------------------------------------------
    def _user_attributes(self) -> list[str]:
        attrs = [self.settings.uid_attribute, "mail", "cn", "displayName"]
        if self.settings.membership_attribute:
            attrs.append(self.settings.membership_attribute)
        return attrs

    def find_users(
        self, conn: ldap3.Connection, username: str | None, limit: int = 100
    ) -> list[Entry]:
        s = self.settings
        flt = user_filter(s, username) if username else and_filter(wrap_filter(s.user_filter))
        return self._search(
            conn, s.base_dn, flt, scope_of(s.scope), self._user_attributes(), size_limit=limit
        )

    def _to_user(self, entry: Entry, username: str, groups: tuple[str, ...] = ()) -> DirectoryUser:
        admin = canonical_dn(self.settings.group_admin_dn) if self.settings.group_admin_dn else ""
        return DirectoryUser(
            dn=entry["dn"],
            username=_first(entry, self.settings.uid_attribute) or username,
            email=_first(entry, "mail"),
            realname=_first(entry, "displayName") or _first(entry, "cn"),
            group_dns=groups,
            is_admin=bool(admin) and admin in groups,
        )

    def search_users(self, username: str | None) -> list[DirectoryUser]:
        conn = self.service_connection()
        try:
            return [self._to_user(e, username or "") for e in self.find_users(conn, username)]
        finally:
            _safe_unbind(conn)

    def authenticate(self, username: str, password: str) -> DirectoryUser | None:
        """The directory user if ``password`` is theirs; None for unknown user/bad password."""
        if not username or not password:
            return None  # never an anonymous or unauthenticated bind
        conn = self.service_connection()
        try:
            found = self.find_users(conn, username, limit=2)
            if len(found) != 1:
                if len(found) > 1:
                    log.warning("LDAP login refused: %d entries match the user", len(found))
                return None
            entry = found[0]
            user_conn = self._connect(entry["dn"], password)
            verified = user_conn.bound
            _safe_unbind(user_conn)
            if not verified:
                return None
            groups = self.groups_of(conn, entry)
            return self._to_user(entry, username, tuple(sorted(groups)))
        finally:
            _safe_unbind(conn)

    # groups --------------------------------------------------------------------------------
    def groups_of(self, conn: ldap3.Connection, entry: Entry) -> set[str]:
        """Canonical DNs of every group the user is in, directly or through nested groups."""
        s = self.settings
        base = s.group_base_dn or s.base_dn
        if self._supports_in_chain(conn):
            found = self._search(
                conn,
                base,
                in_chain_filter(s.group_filter, entry["dn"]),
                scope_of(s.group_scope),
                [],
                size_limit=MAX_GROUPS,
            )
            return {canonical_dn(g["dn"]) for g in found}
        direct = (
            {canonical_dn(v) for v in _all(entry, s.membership_attribute)}
            if s.membership_attribute
            else set()
        )
        if s.group_base_dn:
            direct |= {
                canonical_dn(g["dn"])
                for g in self._search(
                    conn,
                    base,
                    members_filter(s.group_filter, [entry["dn"]]),
                    scope_of(s.group_scope),
                    [],
                    size_limit=MAX_GROUPS,
                )
            }
        return self._expand_nested(conn, direct)

    def _expand_nested(self, conn: ldap3.Connection, direct: set[str]) -> set[str]:
        """Breadth-first: groups containing the frontier, until nothing new (cycles end it)
        or :data:`MAX_NESTING_DEPTH` levels."""
        s = self.settings
        base = s.group_base_dn or s.base_dn
        seen = set(direct)
        frontier = sorted(direct)
        for _depth in range(MAX_NESTING_DEPTH):
            if not frontier or len(seen) >= MAX_GROUPS:
                break
            parents: set[str] = set()
            for start in range(0, len(frontier), 50):
                chunk = frontier[start : start + 50]
                parents |= {
                    canonical_dn(g["dn"])
                    for g in self._search(
                        conn,
                        base,
                        members_filter(s.group_filter, chunk),
                        scope_of(s.group_scope),
                        [],
                        size_limit=MAX_GROUPS,
                    )
                }
            frontier = sorted(parents - seen)
            seen |= parents
        return seen

    def _supports_in_chain(self, conn: ldap3.Connection) -> bool:
        try:
            found = self._search(conn, "", "(objectClass=*)", "BASE", ["supportedCapabilities"])
        except DirectoryError:
            return False
        return bool(found) and supports_in_chain(_all(found[0], "supportedCapabilities"))

    def search_groups(
        self, name: str | None = None, dn: str | None = None, limit: int = 100
    ) -> list[DirectoryGroup]:
        s = self.settings
        attr = s.group_name_attribute or "cn"
        conn = self.service_connection()
        try:
            if dn:
                try:
                    found = self._search(
                        conn, dn, and_filter(wrap_filter(s.group_filter)), "BASE", [attr]
                    )
                except BaseDnError:
                    return []
            else:
                name_term = f"({attr}={_escape(name)})" if name else ""
                found = self._search(
                    conn,
                    s.group_base_dn or s.base_dn,
                    and_filter(wrap_filter(s.group_filter), name_term),
                    scope_of(s.group_scope),
                    [attr],
                    size_limit=limit,
                )
            return [DirectoryGroup(dn=g["dn"], name=_first(g, attr) or g["dn"]) for g in found]
        finally:
            _safe_unbind(conn)


def _communication_error(exc: BaseException) -> DirectoryError:
    text = str(exc)
    lowered = text.lower()
    if (
        isinstance(exc, ssl.SSLError)
        or "ssl" in lowered
        or "certificate" in lowered
        or "tls" in lowered
    ):
        return DirectoryTlsError(_short(text))
    if "timed out" in lowered or "timeout" in lowered:
        return DirectoryUnreachableError("timed out")
    return DirectoryUnreachableError(_short(text))


def _short(text: str) -> str:
    return text.replace("\n", " ")[:200]


def _safe_unbind(conn: ldap3.Connection) -> None:
    try:
        conn.unbind()
    except Exception:  # closing a broken socket must never mask the real outcome
        pass
