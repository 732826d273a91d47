"""Token service primitives: key id, scope parsing, issuing and refusing tokens."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from harbor_api.auth import tokens
from harbor_api.auth.keys import libtrust_kid, load_service_key
from harbor_api.auth.tokens import ResourceScope, covers, parse_scope, parse_scopes
from harbor_api.settings import ConfigError, Settings


def _b64(part: bytes) -> str:
    return base64.urlsafe_b64encode(part).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )


PULL = [ResourceScope("repository", "proj/app", ("pull",))]


# ----------------------------------------------------------------------------- key id
def test_kid_is_libtrust_format(key):
    assert re.fullmatch(r"([A-Z2-7]{4}:){11}[A-Z2-7]{4}", key.kid)
    der = key.public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    expected = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode()
    assert key.kid.replace(":", "") == expected


def test_kid_known_vector():
    """A fixed key gives a fixed id (computed independently of the implementation)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    raw = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode()
    assert libtrust_kid(private.public_key()) == ":".join(raw[i : i + 4] for i in range(0, 48, 4))


def test_key_is_generated_once_and_reused(tmp_path):
    first = load_service_key(Settings(data_dir=tmp_path))
    second = load_service_key(Settings(data_dir=tmp_path))
    assert first.kid == second.kid
    assert (tmp_path / "token" / "private_key.pem").stat().st_mode & 0o077 == 0


def test_configured_key_replaces_generated(tmp_path, key):
    pem = tmp_path / "k.pem"
    pem.write_bytes(
        key.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    loaded = load_service_key(Settings(data_dir=tmp_path / "d", token_private_key=pem))
    assert loaded.kid == key.kid
    with pytest.raises(ConfigError):
        load_service_key(Settings(data_dir=tmp_path, token_private_key=tmp_path / "missing"))


# ----------------------------------------------------------------------------- scopes
@pytest.mark.parametrize(
    "text,expected",
    [
        ("repository:library/app:pull", ("repository", "library/app", ("pull",))),
        ("repository:library/app:pull,push", ("repository", "library/app", ("pull", "push"))),
        (
            "repository:localhost:5000/team/app:pull",
            ("repository", "localhost:5000/team/app", ("pull",)),
        ),
        ("registry:catalog:*", ("registry", "catalog", ("*",))),
        ("repository(plugin):a/b:pull", ("repository(plugin)", "a/b", ("pull",))),
        ("repository:a/b:pull,pull", ("repository", "a/b", ("pull",))),
    ],
)
def test_parse_scope(text, expected):
    parsed = parse_scope(text)
    assert parsed is not None
    assert (parsed.type, parsed.name, parsed.actions) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "repository",
        "repository:",
        "repository:a/b",
        "repository:a/b:",
        ":a/b:pull",
        "repository::pull",
        "Repository:a/b:pull",
        "repository:a/b:pull,",
        "repository:a/b:,pull",
        "repository:a b:pull",
        "repository:/a:pull",
        "repository:a//b:pull",
        "repository:a/b/:pull",
        "repository:a/b:PULL",
        "x" * 600 + ":a:pull",
        "repository:a/b:pull;rm",
        "repository:a\x00b:pull",
    ],
)
def test_malformed_scopes_are_ignored(text):
    assert parse_scope(text) is None
    assert parse_scopes([text]) == []


def test_repeated_and_space_separated_scopes_merge():
    got = parse_scopes(
        [
            "repository:p/a:pull",
            "repository:p/a:push repository:p/b:pull",
            "garbage",
            "registry:catalog:*",
        ]
    )
    assert got == [
        ResourceScope("repository", "p/a", ("pull", "push")),
        ResourceScope("repository", "p/b", ("pull",)),
        ResourceScope("registry", "catalog", ("*",)),
    ]
    assert parse_scopes(None) == [] and parse_scopes("repository:p/a:pull")[0].name == "p/a"


# ----------------------------------------------------------------------------- tokens
def test_issued_token_has_spec_header_and_claims(key):
    issued = tokens.issue(key, "alice", PULL, 1800)
    header, claims, _ = _parts(issued.token)
    assert header["alg"] == "RS256" and header["kid"] == key.kid and header["x5c"]
    assert claims["iss"] == "harbor-token-issuer" and claims["aud"] == "harbor-registry"
    assert claims["sub"] == "alice" and claims["jti"]
    assert claims["exp"] - claims["iat"] == 1800 and claims["nbf"] == claims["iat"]
    assert claims["access"] == [{"type": "repository", "name": "proj/app", "actions": ["pull"]}]
    # x5c holds the certificate whose key verifies the token (newer Distribution releases)
    from cryptography import x509

    cert = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    jwt.decode(issued.token, cert.public_key(), algorithms=["RS256"], audience="harbor-registry")
    verified = tokens.verify(key, issued.token)
    assert verified is not None and verified.subject == "alice"
    assert covers(verified.access, "repository", "proj/app", "pull")


def test_access_covers_only_exact_repository_and_action(key):
    verified = tokens.verify(key, tokens.issue(key, "bob", PULL, 60).token)
    assert not covers(verified.access, "repository", "proj/app", "push")
    assert not covers(verified.access, "repository", "proj/other", "pull")
    assert not covers(verified.access, "repository", "proj/app/sub", "pull")
    assert not covers(verified.access, "registry", "catalog", "*")
    star = tokens.verify(
        key, tokens.issue(key, "adm", [ResourceScope("repository", "p/a", ("*",))], 60).token
    )
    assert covers(star.access, "repository", "p/a", "delete")


def test_the_projects_claim_binds_the_grant_to_project_ids(key):
    """The ids of the projects the access was granted in travel in the token (a project
    recreated under the name has another id); a token without them verifies as before."""
    bound = tokens.verify(key, tokens.issue(key, "bob", PULL, 60, projects={"proj": 7}).token)
    assert bound is not None and bound.projects == {"proj": 7}
    plain = tokens.verify(key, tokens.issue(key, "bob", PULL, 60).token)
    assert plain is not None and plain.projects is None


def test_expired_token_refused(key):
    issued = tokens.issue(key, "alice", PULL, 60, now=time.time() - 3600)
    assert tokens.verify(key, issued.token) is None


def test_not_yet_valid_token_refused(key):
    issued = tokens.issue(key, "alice", PULL, 3600, now=time.time() + 600)
    assert tokens.verify(key, issued.token) is None


def test_small_clock_skew_is_tolerated(key):
    issued = tokens.issue(key, "alice", PULL, 3600, now=time.time() + 5)
    assert tokens.verify(key, issued.token) is not None


def test_wrong_signature_refused(key, other_key):
    forged = tokens.issue(other_key, "alice", PULL, 60).token
    header, payload, _ = forged.split(".")
    # same kid as ours, signed by another key
    h = _parts(forged)[0] | {"kid": key.kid}
    relabelled = jwt.encode(
        _parts(forged)[1], other_key.private_key, algorithm="RS256", headers={"kid": h["kid"]}
    )
    assert tokens.verify(key, forged) is None
    assert tokens.verify(key, relabelled) is None


def test_wrong_kid_refused(key):
    claims = _parts(tokens.issue(key, "alice", PULL, 60).token)[1]
    token = jwt.encode(
        claims, key.private_key, algorithm="RS256", headers={"kid": "AAAA:" * 11 + "AAAA"}
    )
    assert tokens.verify(key, token) is None
    no_kid = jwt.encode(claims, key.private_key, algorithm="RS256")
    assert tokens.verify(key, no_kid) is None


@pytest.mark.parametrize(
    "claim,value",
    [
        ("aud", "other-registry"),
        ("iss", "someone-else"),
        ("aud", None),
        ("sub", None),
        ("exp", None),
        ("nbf", None),
        ("iat", None),
        ("access", "everything"),
        ("access", [{"type": "repository", "name": "p/a"}]),
        ("access", [["repository"]]),
    ],
)
def test_wrong_or_missing_claims_refused(key, claim, value):
    claims = _parts(tokens.issue(key, "alice", PULL, 60).token)[1]
    if value is None:
        claims.pop(claim)
    else:
        claims[claim] = value
    token = jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})
    assert tokens.verify(key, token) is None


def test_alg_none_refused(key):
    claims = _parts(tokens.issue(key, "admin", PULL, 60).token)[1]
    header = {"alg": "none", "typ": "JWT", "kid": key.kid}
    token = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."
    assert tokens.verify(key, token) is None


def test_hs256_with_public_key_refused(key):
    """The classic confusion: HMAC keyed with the (public) RSA key."""
    claims = _parts(tokens.issue(key, "admin", PULL, 60).token)[1]
    pem = key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    import hmac

    signature = _b64(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest())
    assert tokens.verify(key, f"{signing_input}.{signature}") is None


def test_tampered_claims_refused(key):
    token = tokens.issue(key, "alice", PULL, 60).token
    header, payload, signature = token.split(".")
    claims = _parts(token)[1]
    claims["access"][0]["actions"] = ["pull", "push"]
    tampered = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    assert tokens.verify(key, tampered) is None
    claims = _parts(token)[1] | {"sub": "admin"}
    assert tokens.verify(key, f"{header}.{_b64(json.dumps(claims).encode())}.{signature}") is None


@pytest.mark.parametrize(
    "garbage",
    ["", "abc", "a.b", "a.b.c", "..", "Bearer x.y.z", "eyJhbGciOiJSUzI1NiJ9.e30.", "x" * 10000],
)
def test_garbage_tokens_refused(key, garbage):
    assert tokens.verify(key, garbage) is None


def test_account_binding_round_trips_and_malformed_ones_are_refused(key):
    account = tokens.Account("robot", 7, "c2VhbA")
    verified = tokens.verify(key, tokens.issue(key, "robot$x", PULL, 60, account=account).token)
    assert verified.account == account
    assert tokens.verify(key, tokens.issue(key, "", PULL, 60).token).account is None
    claims = _parts(tokens.issue(key, "alice", PULL, 60).token)[1]
    for bad in (
        "user",
        {"kind": "group", "id": 1, "state": "s"},
        {"kind": "user", "id": "1", "state": "s"},
        {"kind": "user", "id": True, "state": "s"},
        {"kind": "user", "id": 1},
    ):
        forged = jwt.encode(
            claims | {tokens.ACCOUNT_CLAIM: bad},
            key.private_key,
            algorithm="RS256",
            headers={"kid": key.kid},
        )
        assert tokens.verify(key, forged) is None, bad


def test_account_state_seal_hides_the_stored_hash(key):
    from types import SimpleNamespace

    from harbor_api.services.tokens import robot_state, user_state

    row = SimpleNamespace(password_hash="scrypt$16384$8$1$salt$hash", sysadmin=False)
    sealed = user_state(key.state_key, row)
    assert "salt" not in sealed and len(sealed) == 22
    assert user_state(key.state_key, SimpleNamespace(**{**vars(row), "sysadmin": True})) != sealed
    robot = SimpleNamespace(secret_hash="h", permissions="[]", expires_at=-1)
    assert robot_state(key.state_key, robot) != robot_state(
        key.state_key, SimpleNamespace(**{**vars(robot), "permissions": "[{}]"})
    )
