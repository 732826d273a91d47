"""User names: one Unicode form (NFKC) everywhere, and no invisible characters.

``admin\\u200b`` or ``ａｄｍｉｎ`` must not become a second account that looks like ``admin``,
nor slip past a lookup or a throttle counter: names are NFKC-normalised on the way in (user
creation, self-registration, LDAP onboarding) and at every login lookup, and names holding
control, format (zero-width, bidirectional), private-use, unassigned or separator characters
are refused.
"""

from __future__ import annotations

import unicodedata

# Cc control, Cf format (ZWSP, ZWJ, bidi marks), Cs surrogates, Co private use, Cn unassigned,
# Zs/Zl/Zp separators
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})


def normalise(name: str) -> str:
    return unicodedata.normalize("NFKC", name)


def invisible_characters(name: str) -> list[str]:
    """The refused characters of ``name`` as ``U+XXXX`` (empty when it is acceptable)."""
    return [f"U+{ord(c):04X}" for c in name if unicodedata.category(c) in _REFUSED_CATEGORIES]


def canonical_spacing(name: str) -> str:
    """``name`` without leading or trailing whitespace and with inner runs made one space:
    the name a directory matches (OpenLDAP's ``caseIgnoreMatch`` ignores such spacing), so
    the one a login is counted against. A login spelled otherwise is refused."""
    return " ".join(name.split())
