"""LDAP filter construction, escaping, DN canonical form, scopes and URL parsing (pure)."""

import ldap3
import pytest

from harbor_api.auth.ldap import (
    IN_CHAIN_RULE,
    DirectoryConfigError,
    LdapSettings,
    and_filter,
    canonical_dn,
    in_chain_filter,
    members_filter,
    parse_url,
    scope_of,
    supports_in_chain,
    user_filter,
    wrap_filter,
)


def settings(**kw) -> LdapSettings:
    return LdapSettings(url="ldap://127.0.0.1", **kw)


@pytest.mark.parametrize(
    "username, expected",
    [
        ("alice", "(uid=alice)"),
        ("*", r"(uid=\2a)"),
        (")(uid=*", r"(uid=\29\28uid=\2a)"),
        ("admin*", r"(uid=admin\2a)"),
        ("jo(h)n*", r"(uid=jo\28h\29n\2a)"),
        ("back\\slash", r"(uid=back\5cslash)"),
        ("nul\x00", r"(uid=nul\00)"),
    ],
)
def test_user_input_is_escaped(username, expected):
    assert user_filter(settings(), username) == expected


def test_configured_filter_is_combined_and_parenthesised():
    assert (
        user_filter(
            settings(user_filter="objectClass=person", uid_attribute="sAMAccountName"), "bob"
        )
        == "(&(objectClass=person)(sAMAccountName=bob))"
    )
    assert user_filter(settings(user_filter="(|(a=1)(b=2))"), "x") == "(&(|(a=1)(b=2))(uid=x))"
    assert wrap_filter("  ") == ""
    assert and_filter() == "(objectClass=*)"


def test_in_chain_filter_uses_the_ad_matching_rule_and_escapes_the_dn():
    flt = in_chain_filter("(objectClass=group)", "CN=Jo (Admin)*,OU=Users,DC=corp,DC=example")
    assert flt == (
        f"(&(objectClass=group)(member:{IN_CHAIN_RULE}:="
        r"CN=Jo \28Admin\29\2a,OU=Users,DC=corp,DC=example))"
    )
    assert in_chain_filter("", "cn=a,dc=b") == f"(member:{IN_CHAIN_RULE}:=cn=a,dc=b)"


def test_members_filter_covers_member_and_unique_member():
    flt = members_filter("objectClass=groupOfNames", ["cn=g*,dc=x"])
    assert flt == (
        r"(&(objectClass=groupOfNames)"
        r"(|(member=cn=g\2a,dc=x)(uniqueMember=cn=g\2a,dc=x)))"
    )


@pytest.mark.parametrize(
    "value, scope", [(0, ldap3.BASE), (1, ldap3.LEVEL), (2, ldap3.SUBTREE), ("2", ldap3.SUBTREE)]
)
def test_scope_mapping(value, scope):
    assert scope_of(value) == scope


@pytest.mark.parametrize("value", [3, -1, "x", None])
def test_bad_scope_is_a_configuration_error(value):
    with pytest.raises(DirectoryConfigError):
        scope_of(value)


def test_canonical_dn_ignores_case_and_spacing():
    assert (
        canonical_dn("CN=Developers, OU=Groups,  DC=Example,DC=org")
        == "cn=developers,ou=groups,dc=example,dc=org"
    )
    assert canonical_dn("cn=a+uid=b,dc=x") == "cn=a+uid=b,dc=x"


@pytest.mark.parametrize(
    "url, expected",
    [
        ("ldap://ldap.example.org", ("ldap.example.org", 389, False)),
        ("ldaps://ldap.example.org", ("ldap.example.org", 636, True)),
        ("ldaps://127.0.0.1:1636", ("127.0.0.1", 1636, True)),
        ("ldap.example.org:1389", ("ldap.example.org", 1389, False)),
    ],
)
def test_url_parsing(url, expected):
    assert parse_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "",
        "http://x",
        "ldap://",
        "ldap://host:99999",
        "\u0081^\udad7\udc0e",
        "ldap://[::1",
        "ldap://" + "a" * 300,
    ],
)
def test_bad_urls_are_configuration_errors(url):
    with pytest.raises(DirectoryConfigError):
        parse_url(url)


def test_settings_from_configuration_keys():
    s = LdapSettings.from_config(
        {
            "ldap_url": "ldaps://h",
            "ldap_timeout": 0,
            "ldap_scope": 1,
            "ldap_verify_cert": False,
            "ldap_uid": "mail",
        }
    )
    assert (s.url, s.timeout, s.scope, s.verify_cert, s.uid_attribute) == (
        "ldaps://h",
        5,
        1,
        False,
        "mail",
    )


def test_canonical_dn_can_keep_the_case_for_storage():
    assert (
        canonical_dn("CN=Dev Team, OU=Groups,DC=corp", keep_case=True)
        == "CN=Dev Team,OU=Groups,DC=corp"
    )


def test_timeout_is_clamped():
    assert LdapSettings.from_config({"ldap_url": "ldap://h", "ldap_timeout": 10**9}).timeout == 300


def test_in_chain_is_used_only_where_the_root_dse_announces_active_directory():
    assert supports_in_chain(["1.2.840.113556.1.4.800", "1.2.840.113556.1.4.1670"])
    assert not supports_in_chain([])
    assert not supports_in_chain(["1.3.6.1.4.1.4203.1.5.1"])  # an OpenLDAP feature
