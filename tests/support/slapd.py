"""A real OpenLDAP ``slapd`` for tests: throwaway cn=config, loopback ports, a test directory.

``running_slapd(tmp)`` starts ``/usr/sbin/slapd`` with an mdb database for ``dc=example,dc=org``
and the ``memberof`` overlay (so users get ``memberOf`` from ``groupOfNames``/``member``),
listening on ``ldap://`` and ``ldaps://`` (a self-signed certificate made with
``cryptography``). The directory (see :data:`USERS` and :data:`GROUPS`) has users in nested OUs,
nested groups, a cycle between two groups, an admin group and a user whose name needs escaping.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.servers import free_port

SLAPD = "/usr/sbin/slapd"
MODULE_PATH = "/usr/lib/ldap"
SCHEMA_DIR = "/etc/ldap/schema"
BASE_DN = "dc=example,dc=org"
ROOT_DN = f"cn=root,{BASE_DN}"
ROOT_PASSWORD = "r00t-secret"
SEARCH_DN = f"cn=harbor-search,ou=service,{BASE_DN}"
SEARCH_PASSWORD = "S3archPass"
GROUP_BASE_DN = f"ou=groups,{BASE_DN}"
PEOPLE = {"eng": f"ou=people,ou=eng,{BASE_DN}", "sales": f"ou=people,ou=sales,{BASE_DN}"}


def _escape_rdn(value: str) -> str:
    out = []
    for i, ch in enumerate(value):
        if ch in ',+"\\<>;=' or (ch in " #" and i == 0):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


@dataclass(frozen=True)
class DirUser:
    uid: str
    ou: str
    password: str
    mail: str
    display: str

    @property
    def dn(self) -> str:
        return f"uid={_escape_rdn(self.uid)},{PEOPLE[self.ou]}"


USERS = {
    u.uid: u
    for u in [
        DirUser("alice", "eng", "Alice-Pass1", "alice@example.org", "Alice Developer"),
        DirUser("bob", "sales", "Bob-Pass1", "bob@example.org", "Bob Guest"),
        DirUser("carol", "eng", "Carol-Pass1", "carol@example.org", "Carol Platform"),
        DirUser("dave", "eng", "Dave-Pass1", "dave@example.org", "Dave Admin"),
        DirUser("erin", "eng", "Erin-Pass1", "erin@example.org", "Erin Ops"),
        DirUser("frank", "sales", "Frank-Pass1", "frank@example.org", "Frank Loop"),
        DirUser("jo(h)n*", "sales", "John-Pass1", "john@example.org", "John Special"),
        DirUser("nogroup", "sales", "Nogroup-Pass1", "nogroup@example.org", "No Group"),
    ]
}


def group_dn(cn: str) -> str:
    return f"cn={cn},{GROUP_BASE_DN}"


# group cn -> member DNs. developers ⊃ platform ⊃ carol; harbor-admins ⊃ ops ⊃ erin;
# loop-a and loop-b contain each other (a cycle) and frank.
GROUPS: dict[str, list[str]] = {
    "platform": [USERS["carol"].dn],
    "developers": [USERS["alice"].dn, group_dn("platform")],
    "guests": [USERS["bob"].dn, USERS["jo(h)n*"].dn],
    "ops": [USERS["erin"].dn],
    "harbor-admins": [USERS["dave"].dn, group_dn("ops")],
    "loop-a": [USERS["frank"].dn],
    "loop-b": [group_dn("loop-a")],
}
GROUP_CYCLE = ("loop-a", "loop-b")  # loop-a is added to loop-b after both exist


@dataclass
class Slapd:
    directory: Path
    port: int
    tls_port: int
    cert_path: Path
    proc: subprocess.Popen | None = None
    log_path: Path | None = None
    users: dict[str, DirUser] = field(default_factory=lambda: dict(USERS))

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def tls_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.tls_port}"

    def ldap_config(self, url: str | None = None, **overrides) -> dict:
        """Harbor configuration keys pointing at this directory."""
        values = {
            "auth_mode": "ldap_auth",
            "ldap_url": url or self.url,
            "ldap_search_dn": SEARCH_DN,
            "ldap_search_password": SEARCH_PASSWORD,
            "ldap_base_dn": BASE_DN,
            "ldap_filter": "(objectClass=inetOrgPerson)",
            "ldap_uid": "uid",
            "ldap_scope": 2,
            "ldap_timeout": 3,
            "ldap_verify_cert": False,
            "ldap_group_base_dn": GROUP_BASE_DN,
            "ldap_group_search_filter": "(objectClass=groupOfNames)",
            "ldap_group_attribute_name": "cn",
            "ldap_group_search_scope": 2,
            "ldap_group_admin_dn": group_dn("harbor-admins"),
            "ldap_group_membership_attribute": "memberof",
        }
        values.update(overrides)
        return values

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, timeout: float = 10) -> None:
        self.log_path = self.directory / "slapd.log"
        log = open(self.log_path, "ab")
        urls = f"{self.url}/ {self.tls_url}/"
        self.proc = subprocess.Popen(
            [SLAPD, "-d", "0", *self._config_args(), "-h", urls],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"slapd exited early:\n{self.log_tail()}")
            if _port_open(self.port) and _port_open(self.tls_port):
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"slapd did not listen in {timeout}s:\n{self.log_tail()}")

    def _config_args(self) -> list[str]:
        """The first start converts slapd.conf into the cn=config directory; later starts
        (after :meth:`stop`) reuse that directory."""
        config_dir = self.directory / "slapd.d"
        if any(config_dir.iterdir()):
            return ["-F", str(config_dir)]
        return ["-f", str(self.directory / "slapd.conf"), "-F", str(config_dir)]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.proc = None

    def pause(self) -> None:
        """Freeze slapd (SIGSTOP): connections are accepted by the kernel, never answered."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGCONT)

    def log_tail(self, n: int = 40) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    # -- content -----------------------------------------------------------------------------
    def admin_connection(self):
        import ldap3

        server = ldap3.Server("127.0.0.1", port=self.port, connect_timeout=5)
        return ldap3.Connection(server, ROOT_DN, ROOT_PASSWORD, auto_bind=True, receive_timeout=5)

    def populate(self) -> None:
        conn = self.admin_connection()
        try:
            for dn, attrs in _entries():
                if not conn.add(dn, attributes=attrs):
                    raise RuntimeError(f"adding {dn} failed: {conn.result}")
            import ldap3

            a, b = GROUP_CYCLE
            conn.modify(group_dn(a), {"member": [(ldap3.MODIFY_ADD, [group_dn(b)])]})
            if conn.result["result"] != 0:
                raise RuntimeError(f"closing the group cycle failed: {conn.result}")
        finally:
            conn.unbind()


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _entries() -> list[tuple[str, dict]]:
    entries: list[tuple[str, dict]] = [
        (BASE_DN, {"objectClass": ["dcObject", "organization"], "dc": "example", "o": "Example"}),
    ]
    for ou in ("eng", "sales", "service", "groups"):
        entries.append((f"ou={ou},{BASE_DN}", {"objectClass": "organizationalUnit", "ou": ou}))
    for dn in PEOPLE.values():
        entries.append((dn, {"objectClass": "organizationalUnit", "ou": "people"}))
    entries.append(
        (
            SEARCH_DN,
            {
                "objectClass": ["person", "simpleSecurityObject"],
                "cn": "harbor-search",
                "sn": "search",
                "userPassword": SEARCH_PASSWORD,
            },
        )
    )
    for user in USERS.values():
        entries.append(
            (
                user.dn,
                {
                    "objectClass": ["inetOrgPerson"],
                    "uid": user.uid,
                    "cn": user.display,
                    "sn": user.display.split()[-1],
                    "displayName": user.display,
                    "mail": user.mail,
                    "userPassword": user.password,
                },
            )
        )
    for cn, members in GROUPS.items():  # dict order puts members before their groups
        entries.append((group_dn(cn), {"objectClass": "groupOfNames", "cn": cn, "member": members}))
    return entries


def _slapd_conf(directory: Path, cert: Path, key: Path) -> str:
    schemas = "\n".join(
        f"include {SCHEMA_DIR}/{name}.schema" for name in ("core", "cosine", "inetorgperson", "nis")
    )
    return f"""{schemas}
pidfile {directory}/slapd.pid
argsfile {directory}/slapd.args
modulepath {MODULE_PATH}
moduleload back_mdb
moduleload memberof
moduleload refint
TLSCertificateFile {cert}
TLSCertificateKeyFile {key}
loglevel none

database config
rootdn "cn=config"

database mdb
maxsize 67108864
suffix "{BASE_DN}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PASSWORD}
directory {directory}/db
index objectClass eq
index uid,cn,mail eq,sub
index member,memberOf eq
access to attrs=userPassword by anonymous auth by * none
access to * by dn.exact="{SEARCH_DN}" read by self read by * none
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE
overlay refint
refint_attributes member
"""


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost, written as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def prepare(directory: Path) -> Slapd:
    """Write the certificate and slapd.conf (slapd converts it to cn=config on start)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "db").mkdir(exist_ok=True)
    (directory / "slapd.d").mkdir(exist_ok=True)
    cert, key = self_signed_cert(directory)
    (directory / "slapd.conf").write_text(_slapd_conf(directory, cert, key))
    return Slapd(directory=directory, port=free_port(), tls_port=free_port(), cert_path=cert)


@contextmanager
def running_slapd(directory: Path):
    """Start slapd with the test directory loaded; stop it and leave nothing running."""
    slapd = prepare(directory)
    slapd.start()
    try:
        slapd.populate()
        yield slapd
    finally:
        if slapd.proc and slapd.proc.poll() is None:
            try:
                slapd.resume()
            except ProcessLookupError:
                pass
        slapd.stop()
