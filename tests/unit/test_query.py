"""The one ``q``/``sort`` module: the grammar, and its translation run on real SQLite and
PostgreSQL databases (a term answers the same on both)."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, select

from harbor_api.errors import BadRequestError
from harbor_api.services.query import (
    INT,
    TEXT,
    TIME,
    Term,
    as_int,
    as_time,
    condition,
    filter_by_q,
    like_pattern,
    order_by,
    parse_q,
    parse_sort,
)
from tests.support.servers import postgres_database

META = MetaData()
ITEMS = Table(
    "items",
    META,
    Column("id", Integer, primary_key=True),
    Column("name", String(64)),
    Column("at", DateTime(timezone=True)),
)
T0 = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
ROWS = [
    (1, "alpha", T0),
    (2, "Beta", T0 + dt.timedelta(days=1)),
    (3, "50%_off", T0 + dt.timedelta(days=2)),
    (4, "500 off", T0 + dt.timedelta(days=3)),
    (5, r"back\slash", T0 + dt.timedelta(days=4)),
]
FIELDS = {"id": (ITEMS.c.id, INT), "name": (ITEMS.c.name, TEXT), "at": (ITEMS.c.at, TIME)}


# --- the grammar ---------------------------------------------------------------------------


def test_each_operator_parses_to_its_term():
    terms = parse_q("a=x,b=~y,c=[1~2],d={p q},e=(r s),f=[~3]")
    assert terms == {
        "a": Term("a", "exact", "x"),
        "b": Term("b", "fuzzy", "y"),
        "c": Term("c", "range", ("1", "2")),
        "d": Term("d", "or", ("p", "q")),
        "e": Term("e", "and", ("r", "s")),
        "f": Term("f", "range", (None, "3")),
    }


def test_commas_inside_brackets_do_not_split_and_the_query_is_url_decoded():
    assert parse_q("t=[2024-01-01 00:00:00~2024-01-02 00:00:00],n=%7Ba%20b%7D") == {
        "t": Term("t", "range", ("2024-01-01 00:00:00", "2024-01-02 00:00:00")),
        "n": Term("n", "or", ("a", "b")),
    }


@pytest.mark.parametrize("raw", ["novalue", "=x", "c=[1 2]"])
def test_malformed_terms_are_400(raw):
    with pytest.raises(BadRequestError):
        parse_q(raw)


def test_keys_and_sort_keys_outside_the_allowed_are_400():
    with pytest.raises(BadRequestError, match="unsupported query key 'x'"):
        parse_q("x=1", {"name"})
    with pytest.raises(BadRequestError, match="unsupported sort key 'x'"):
        parse_sort("name,-x", {"name"})
    assert parse_sort("name,-id", {"name", "id"}) == [("name", False), ("id", True)]


def test_values():
    assert as_int("42") == 42
    for bad in ("x", "2147483648", "-2147483648"):
        with pytest.raises(BadRequestError):
            as_int(bad)
    assert as_time("2024-01-02 03:04:05") == T0
    assert as_time("2024-01-02T03:04:05Z") == T0
    assert as_time("2024-01-02T05:04:05+02:00") == T0
    assert as_time(str(int(T0.timestamp()))) == T0
    for bad in ("x", "2024-13-01", "99999999999999999999"):
        with pytest.raises(BadRequestError, match="invalid time"):
            as_time(bad)


def test_like_pattern_takes_wildcards_literally():
    assert like_pattern(r"50%_\x") == r"%50\%\_\\x%"


def test_operators_follow_the_value_kind():
    with pytest.raises(BadRequestError, match="id takes exact, range"):
        condition(ITEMS.c.id, Term("id", "fuzzy", "1"), INT)
    with pytest.raises(BadRequestError, match="at takes exact, range"):
        condition(ITEMS.c.at, Term("at", "or", ("x",)), TIME)


# --- the translation, on both backends -----------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def engine(request):
    with contextlib.ExitStack() as stack:
        url = (
            stack.enter_context(postgres_database())
            if request.param == "postgresql"
            else "sqlite://"
        )
        engine = create_engine(url)
        META.create_all(engine)
        with engine.begin() as conn:
            conn.execute(ITEMS.insert(), [{"id": i, "name": n, "at": t} for i, n, t in ROWS])
        yield engine
        engine.dispose()


def _ids(engine, q: str | None, sort: str | None = None) -> list[int]:
    stmt = filter_by_q(select(ITEMS.c.id), q, FIELDS)
    stmt = stmt.order_by(*order_by(sort, {"name": ITEMS.c.name, "id": ITEMS.c.id}, [ITEMS.c.id]))
    with engine.connect() as conn:
        return list(conn.scalars(stmt))


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (None, [1, 2, 3, 4, 5]),
        ("name=alpha", [1]),
        ('name="alpha"', [1]),  # quotes are not part of the value
        ("name=beta", []),  # exact is exact
        ("name=~BET", [2]),  # fuzzy: case-insensitive substring
        ("name=~%", [3]),  # LIKE's wildcards are literal
        ("name=~0%_", [3]),
        ("name=~_", [3]),
        ("name=~\\", [5]),
        ("id=[2~4]", [2, 3, 4]),
        ("id=[~2]", [1, 2]),
        ("id=[4~]", [4, 5]),
        ("id=[~]", [1, 2, 3, 4, 5]),
        ("id={1 3 9}", [1, 3]),
        ("name={alpha Beta}", [1, 2]),
        ("name=(alpha Beta)", []),  # all-of on one column: only a lone value
        ("name=(alpha)", [1]),
        ("name={}", [1, 2, 3, 4, 5]),
        ("at=[2024-01-03 00:00:00~2024-01-04T12:00:00Z]", [2, 3]),
        ("at=2024-01-02 03:04:05", [1]),
        (f"at=[{int((T0 + dt.timedelta(days=3)).timestamp())}~]", [4, 5]),
        ("name=~a,id=[~2]", [1, 2]),
    ],
)
def test_terms_select_the_same_rows_on_both_backends(engine, q, expected):
    assert _ids(engine, q) == expected


def test_sort_then_tie_breaker(engine):
    assert _ids(engine, "id=[~4]", "-id") == [4, 3, 2, 1]
    assert order_by(None, {}, ["tie"], unsorted=["first"]) == ["first", "tie"]


@pytest.mark.parametrize("q", ["id=x", "id=99999999999", "at=[x~y]", "nope=1", "id=~1"])
def test_bad_values_are_400_on_both_backends(engine, q):
    with pytest.raises(BadRequestError):
        _ids(engine, q)
