"""The odibi-sqlite sample driver, against real SQLite databases."""

from __future__ import annotations

import sqlite3
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from odibi_ext import ConnectionRegistry

try:
    import odibi_sqlite
except ImportError:  # not installed: use the source tree
    sys.path.insert(
        0, str(Path(__file__).resolve().parents[1] / "sample_plugins" / "odibi-sqlite" / "src")
    )
    import odibi_sqlite

INJECTION = 'x"; drop table y; --'


def quoted(name: str) -> str:
    """An identifier quoted independently of the code under test."""
    return '"' + name.replace('"', '""') + '"'


def build(path: Path, script: str) -> Path:
    db = sqlite3.connect(path)
    try:
        db.executescript(script)
        db.commit()
    finally:
        db.close()
    return path


def table_names(path: Path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    finally:
        db.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """people (5 rows, known statistics), a view over it, and a table with AUTOINCREMENT."""
    return build(
        tmp_path / "shop.db",
        """
        CREATE TABLE people (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            age INT,
            score REAL,
            joined TEXT
        );
        INSERT INTO people VALUES
            (1, 'ann', 30, 1.5, '2024-01-05'),
            (2, 'bob', NULL, 2.5, '2024-03-01'),
            (3, 'cid', 30, NULL, '2023-12-31'),
            (4, 'dee', 41, 0.5, '2024-02-10'),
            (5, 'eve', 19, 9.0, NULL);
        CREATE VIEW adults AS SELECT id, name FROM people WHERE age >= 21;
        CREATE TABLE orders (n INTEGER PRIMARY KEY AUTOINCREMENT, amount REAL);
        INSERT INTO orders (amount) VALUES (10.0), (20.0);
        """,
    )


@pytest.fixture
def conn(db_path: Path) -> Any:
    connection = odibi_sqlite.create("shop", {"path": str(db_path)})
    yield connection
    connection.close()


# -- config -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "error", "key"),
    [
        ({"pth": "x.db"}, ValueError, "'pth'"),
        ({"path": "x.db", "read_only": True, "user": "me"}, ValueError, "'user'"),
        ({}, ValueError, "'path'"),
        ({"path": 3}, TypeError, "'path'"),
        ({"path": ""}, ValueError, "'path'"),
        ({"path": "x.db", "timeout": "soon"}, ValueError, "'timeout'"),
        ({"path": "x.db", "timeout": [1]}, TypeError, "'timeout'"),
        ({"path": "x.db", "timeout": True}, TypeError, "'timeout'"),
        ({"path": "x.db", "timeout": -1}, ValueError, "'timeout'"),
        ({"path": "x.db", "timeout": "nan"}, ValueError, "'timeout'"),
        ({"path": "x.db", "read_only": "maybe"}, ValueError, "'read_only'"),
        ({"path": "x.db", "read_only": 1}, TypeError, "'read_only'"),
        ({"path": ":memory:", "read_only": True}, ValueError, "'read_only'"),
    ],
)
def test_bad_config_is_refused_naming_the_key(
    config: dict[str, Any], error: type[Exception], key: str
) -> None:
    with pytest.raises(error, match=key) as raised:
        odibi_sqlite.create("w", config)
    assert str(raised.value).startswith("odibi-sqlite: ")


def test_unknown_key_message_lists_the_expected_keys() -> None:
    with pytest.raises(
        ValueError,
        match=r"expected path, timeout, read_only \(and Odibi's type, validation_mode\)",
    ):
        odibi_sqlite.create("w", {"pth": "x.db"})


@pytest.mark.parametrize(
    ("timeout", "read_only", "expected"),
    [
        ("2.5", "true", (2.5, True)),
        ("0", "FALSE", (0.0, False)),
        (7, False, (7.0, False)),
        (0.25, True, (0.25, True)),
    ],
)
def test_strings_and_scalars_parse(
    tmp_path: Path, timeout: Any, read_only: Any, expected: tuple[float, bool]
) -> None:
    config = {"path": str(tmp_path / "x.db"), "timeout": timeout, "read_only": read_only}
    settings = odibi_sqlite.create("w", config).settings
    assert (settings.timeout, settings.read_only) == expected


def test_defaults(tmp_path: Path) -> None:
    settings = odibi_sqlite.create("w", {"path": str(tmp_path / "x.db")}).settings
    assert (settings.timeout, settings.read_only) == (5.0, False)


def test_path_like_is_accepted(db_path: Path) -> None:
    with odibi_sqlite.create("w", {"path": db_path}) as conn:
        assert conn.settings.path == str(db_path)
        conn.validate()


# -- opening and validate ---------------------------------------------------------------------


def test_constructor_opens_nothing_and_validate_creates_a_new_file(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with odibi_sqlite.create("w", {"path": str(path)}) as conn:
        assert not path.exists()
        conn.validate()
        assert path.exists()
        assert conn.discover_catalog()["tables"] == []


def test_read_only_missing_file_fails_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    conn = odibi_sqlite.create("w", {"path": str(path), "read_only": True})
    with pytest.raises(odibi_sqlite.SQLiteConnectionError) as raised:
        conn.validate()
    assert isinstance(raised.value, ConnectionError)
    assert str(raised.value) == (
        f"cannot open SQLite database {str(path)!r} read-only: file does not exist"
    )
    assert raised.value.path == str(path)
    assert not path.exists()


def test_read_only_quotes_the_path_in_the_uri(tmp_path: Path) -> None:
    # Unquoted, "?" would start the URI's query and "#" its fragment: another file would open.
    path = build(tmp_path / "odd ?name#%20.db", "CREATE TABLE t (a);")
    with odibi_sqlite.create("w", {"path": str(path), "read_only": "true"}) as conn:
        conn.validate()
        assert names(conn.discover_catalog()) == ["t"]


def test_read_only_connection_does_not_create_the_file(tmp_path: Path) -> None:
    path = tmp_path / "never.db"
    conn = odibi_sqlite.create("w", {"path": str(path), "read_only": True})
    with pytest.raises(ConnectionError):
        conn.discover_catalog()
    assert not path.exists()


def test_validate_names_a_missing_directory(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "dir" / "x.db"
    conn = odibi_sqlite.create("w", {"path": str(path)})
    with pytest.raises(ConnectionError, match="does not exist") as raised:
        conn.validate()
    assert str(path) in str(raised.value)
    assert str(path.parent) in str(raised.value)


def test_validate_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are not the pages you are looking for " * 20)
    conn = odibi_sqlite.create("w", {"path": str(path)})
    with pytest.raises(ConnectionError, match="file is not a database") as raised:
        conn.validate()
    assert str(path) in str(raised.value)
    conn.close()


def test_validate_refuses_a_directory(tmp_path: Path) -> None:
    conn = odibi_sqlite.create("w", {"path": str(tmp_path)})
    with pytest.raises(ConnectionError, match="is a directory"):
        conn.validate()


def test_memory_database_validates() -> None:
    with odibi_sqlite.create("w", {"path": ":memory:"}) as conn:
        conn.validate()
        assert conn.discover_catalog()["tables"] == []


# -- catalog ----------------------------------------------------------------------------------


def names(catalog: dict[str, Any]) -> list[str]:
    return [table["name"] for table in catalog["tables"]]


def test_catalog_lists_tables_and_views_by_name(conn: Any) -> None:
    catalog = conn.discover_catalog()
    generated = catalog.pop("generated_at")
    assert catalog == {
        "connection_name": "shop",
        "connection_type": "sqlite",
        "schemas": ["main"],
        "tables": [
            {
                "name": name,
                "namespace": "main",
                "kind": kind,
                "path": f"main.{name}",
                "format": None,
                "size_bytes": None,
                "row_count": None,
                "modified_at": None,
            }
            for name, kind in [("adults", "view"), ("orders", "table"), ("people", "table")]
        ],
        "folders": None,
        "files": None,
        "total_datasets": 3,
        "formats": {},
        "next_step": "Use get_table_info() for a table's columns, preview() for its rows",
        "suggestions": ["Found 3 tables and views in schema 'main'"],
    }  # sqlite_sequence (created by AUTOINCREMENT) is SQLite's own, left out
    assert datetime.fromisoformat(generated).tzinfo is not None


def test_catalog_with_stats_counts_rows(conn: Any) -> None:
    tables = {
        d["name"]: d
        for d in conn.discover_catalog(include_schema=True, include_stats=True)["tables"]
    }
    assert tables["people"]["row_count"] == 5
    assert tables["adults"]["row_count"] == 3
    assert tables["orders"]["row_count"] == 2


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("*", ["adults", "orders", "people"]),
        ("p*", ["people"]),
        ("*s", ["adults", "orders"]),
        ("People", []),
        ("x", []),
    ],
)
def test_catalog_pattern_filters_names(conn: Any, pattern: str, expected: list[str]) -> None:
    catalog = conn.discover_catalog(pattern=pattern)
    assert names(catalog) == expected
    assert catalog["total_datasets"] == len(expected)


@pytest.mark.parametrize(("path", "expected"), [("", 3), ("main", 3), ("sales", 0)])
def test_catalog_path_is_a_schema(conn: Any, path: str, expected: int) -> None:
    catalog = conn.discover_catalog(path=path)
    assert len(catalog["tables"]) == expected
    if not expected:
        assert "Schema 'sales' not found" in catalog["next_step"]


@pytest.mark.parametrize(
    ("limit", "expected", "more"),
    [
        (0, [], True),
        (2, ["adults", "orders"], True),
        (3, ["adults", "orders", "people"], False),
        (50, ["adults", "orders", "people"], False),
    ],
)
def test_catalog_limit_says_when_there_are_more(
    conn: Any, limit: int, expected: list[str], more: bool
) -> None:
    catalog = conn.discover_catalog(limit=limit)
    assert names(catalog) == expected
    assert any("raise limit" in text for text in catalog["suggestions"]) is more


@pytest.mark.parametrize(("limit", "error"), [(-1, ValueError), ("5", TypeError)])
def test_catalog_refuses_a_bad_limit(conn: Any, limit: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="limit"):
        conn.discover_catalog(limit=limit)


def test_a_broken_view_does_not_hide_the_other_datasets(tmp_path: Path) -> None:
    path = build(
        tmp_path / "b.db",
        "CREATE TABLE gone (a); CREATE VIEW broken AS SELECT a FROM gone; "
        "CREATE TABLE kept (b); INSERT INTO kept VALUES (1); DROP TABLE gone;",
    )
    with odibi_sqlite.create("w", {"path": str(path)}) as conn:
        catalog = conn.discover_catalog(include_stats=True)
    tables = {d["name"]: d for d in catalog["tables"]}
    assert tables["kept"]["row_count"] == 1
    assert tables["broken"]["row_count"] is None
    assert any("'broken'" in s and "no such table" in s for s in catalog["suggestions"])


# -- schema -----------------------------------------------------------------------------------


def test_get_schema_reports_declared_types_nullability_and_keys(conn: Any) -> None:
    assert conn.get_schema("people") == {
        "dataset": "people",
        "columns": [
            {"name": "id", "type": "INTEGER", "nullable": False, "primary_key": True},
            {"name": "name", "type": "TEXT", "nullable": False, "primary_key": False},
            {"name": "age", "type": "INT", "nullable": True, "primary_key": False},
            {"name": "score", "type": "REAL", "nullable": True, "primary_key": False},
            {"name": "joined", "type": "TEXT", "nullable": True, "primary_key": False},
        ],
    }


def test_get_schema_of_composite_and_untyped_keys(tmp_path: Path) -> None:
    path = build(
        tmp_path / "k.db",
        "CREATE TABLE pair (a TEXT, b INTEGER, c, PRIMARY KEY (a, b));"
        "CREATE TABLE strict_keys (k TEXT PRIMARY KEY, v) WITHOUT ROWID;",
    )
    with odibi_sqlite.create("w", {"path": str(path)}) as conn:
        pair = conn.get_schema("pair")["columns"]
        strict = conn.get_schema("strict_keys")["columns"]
    # In a rowid table SQLite lets a non-INTEGER key column hold NULL.
    assert [(c["type"], c["nullable"], c["primary_key"]) for c in pair] == [
        ("TEXT", True, True),
        ("INTEGER", True, True),
        ("", True, False),
    ]
    assert [(c["nullable"], c["primary_key"]) for c in strict] == [(False, True), (True, False)]


def test_get_schema_of_an_unknown_table_names_it(conn: Any) -> None:
    with pytest.raises(LookupError, match="'nope'"):
        conn.get_schema("nope")


# -- profile ----------------------------------------------------------------------------------


def test_profile_on_known_data(conn: Any) -> None:
    assert conn.profile("people") == {
        "dataset": "people",
        "row_count": 5,
        "sampled_rows": 5,
        "columns": {
            "id": {"null_count": 0, "distinct_count": 5, "min": 1, "max": 5},
            "name": {"null_count": 0, "distinct_count": 5, "min": "ann", "max": "eve"},
            "age": {"null_count": 1, "distinct_count": 3, "min": 19, "max": 41},
            "score": {"null_count": 1, "distinct_count": 4, "min": 0.5, "max": 9.0},
            "joined": {
                "null_count": 1,
                "distinct_count": 4,
                "min": "2023-12-31",
                "max": "2024-03-01",
            },
        },
    }


def test_profile_samples_only_the_first_rows(conn: Any) -> None:
    result = conn.profile("people", sample_rows=3, columns=["age", "score"])
    assert result["row_count"] == 5
    assert result["sampled_rows"] == 3
    assert result["columns"] == {
        "age": {"null_count": 1, "distinct_count": 1, "min": 30, "max": 30},
        "score": {"null_count": 1, "distinct_count": 2, "min": 1.5, "max": 2.5},
    }


def test_profile_with_zero_sample_rows(conn: Any) -> None:
    result = conn.profile("people", sample_rows=0, columns=["age"])
    assert (result["row_count"], result["sampled_rows"]) == (5, 0)
    assert result["columns"]["age"] == {
        "null_count": 0,
        "distinct_count": 0,
        "min": None,
        "max": None,
    }


def test_profile_of_a_view(conn: Any) -> None:
    result = conn.profile("adults", columns=["id"])
    assert result["row_count"] == 3
    assert result["columns"]["id"] == {"null_count": 0, "distinct_count": 3, "min": 1, "max": 4}


def test_profile_refuses_an_unknown_column_naming_it(conn: Any) -> None:
    with pytest.raises(ValueError, match="'salary'"):
        conn.profile("people", columns=["age", "salary"])


def test_profile_refuses_a_bare_string_of_columns(conn: Any) -> None:
    with pytest.raises(TypeError, match="list of column names"):
        conn.profile("people", columns="age")


def test_profile_refuses_negative_sample_rows(conn: Any) -> None:
    with pytest.raises(ValueError, match="sample_rows"):
        conn.profile("people", sample_rows=-1)


def test_profile_of_a_wide_table_spans_several_queries(tmp_path: Path) -> None:
    # 4 aggregates per column would pass SQLite's 2000 result columns in one query.
    names = [f"c{i}" for i in range(600)]
    path = build(
        tmp_path / "wide.db",
        f"CREATE TABLE wide ({', '.join(names)});"
        f"INSERT INTO wide VALUES ({', '.join(str(i) for i in range(600))});",
    )
    with odibi_sqlite.create("w", {"path": str(path)}) as conn:
        columns = conn.profile("wide")["columns"]
    assert len(columns) == 600
    assert columns["c599"] == {"null_count": 0, "distinct_count": 1, "min": 599, "max": 599}


# -- freshness --------------------------------------------------------------------------------


def test_freshness_is_the_largest_value(conn: Any) -> None:
    assert conn.get_freshness("people", "joined") == {
        "dataset": "people",
        "column": "joined",
        "latest": "2024-03-01",
    }


def test_freshness_of_an_empty_table_is_none(tmp_path: Path) -> None:
    path = build(tmp_path / "e.db", "CREATE TABLE e (ts TEXT);")
    with odibi_sqlite.create("w", {"path": str(path)}) as conn:
        assert conn.get_freshness("e", timestamp_column="ts")["latest"] is None


def test_freshness_needs_a_timestamp_column(conn: Any) -> None:
    with pytest.raises(ValueError, match="timestamp_column"):
        conn.get_freshness("people")


def test_freshness_refuses_an_unknown_column_naming_it(conn: Any) -> None:
    with pytest.raises(ValueError, match="'updated_at'"):
        conn.get_freshness("people", "updated_at")


# -- identifiers ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["people", 'my "table"', "main.people", INJECTION])
def test_get_path_returns_the_name_unchanged_for_odibi_to_split(conn: Any, name: str) -> None:
    assert conn.get_path(name) == name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("people", '"people"'),
        ('my "table"', '"my ""table"""'),
        ("main.people", '"main.people"'),
        (INJECTION, '"x""; drop table y; --"'),
    ],
)
def test_quote_identifier_quotes_the_whole_name(conn: Any, name: str, expected: str) -> None:
    assert conn.quote_identifier(name) == expected
    assert conn.qualify_table(name) == f'"main".{expected}'


def test_get_path_refuses_a_nul_character(conn: Any) -> None:
    with pytest.raises(ValueError, match="NUL"):
        conn.get_path("a\x00b")


def test_injection_table_name_is_just_a_name(tmp_path: Path) -> None:
    quoted_name = quoted(INJECTION)
    path = build(
        tmp_path / "i.db",
        f"CREATE TABLE y (keep INTEGER); INSERT INTO y VALUES (1);"
        f"CREATE TABLE {quoted_name} (ts TEXT, v INTEGER);"
        f"INSERT INTO {quoted_name} VALUES ('2024-01-01', 1), ('2024-06-30', 2), (NULL, 2);",
    )
    with odibi_sqlite.create("w", {"path": str(path)}) as conn:
        assert [c["name"] for c in conn.get_schema(INJECTION)["columns"]] == ["ts", "v"]
        profile = conn.profile(INJECTION)
        freshness = conn.get_freshness(INJECTION, "ts")
        catalog = conn.discover_catalog(include_schema=True, include_stats=True)
        info = conn.get_table_info(INJECTION)
        preview = conn.preview(INJECTION, rows=2)
    assert profile["row_count"] == 3
    assert profile["columns"]["v"] == {"null_count": 0, "distinct_count": 2, "min": 1, "max": 2}
    assert freshness["latest"] == "2024-06-30"
    assert {d["name"]: d["row_count"] for d in catalog["tables"]} == {INJECTION: 3, "y": 1}
    assert [c["name"] for c in info["columns"]] == ["ts", "v"]
    assert preview["rows"] == [{"ts": "2024-01-01", "v": 1}, {"ts": "2024-06-30", "v": 2}]
    assert table_names(path) == {INJECTION, "y"}


def test_column_names_with_quotes_and_spaces(tmp_path: Path) -> None:
    odd = ['we"ird', "with space", 'x"); drop table y; --']
    columns = ", ".join(quoted(name) for name in odd)
    path = build(
        tmp_path / "c.db",
        f"CREATE TABLE y (a); CREATE TABLE odd ({columns});"
        f"INSERT INTO odd VALUES (1, 'a', NULL), (2, 'b', 'z'), (2, NULL, 'z');",
    )
    with odibi_sqlite.create("w", {"path": str(path)}) as conn:
        assert [c["name"] for c in conn.get_schema("odd")["columns"]] == odd
        stats = conn.profile("odd", columns=odd)["columns"]
        freshness = conn.get_freshness("odd", odd[2])
    assert stats == {
        odd[0]: {"null_count": 0, "distinct_count": 2, "min": 1, "max": 2},
        odd[1]: {"null_count": 1, "distinct_count": 2, "min": "a", "max": "b"},
        odd[2]: {"null_count": 1, "distinct_count": 1, "min": "z", "max": "z"},
    }
    assert freshness["latest"] == "z"
    assert table_names(path) == {"odd", "y"}


# -- lifecycle --------------------------------------------------------------------------------


def test_with_closes_and_a_closed_connection_refuses_work(db_path: Path) -> None:
    with odibi_sqlite.create("shop", {"path": str(db_path)}) as conn:
        conn.validate()
        assert not repr(conn).endswith(" closed>")
    assert repr(conn).endswith(" closed>")
    for use in (conn.validate, conn.discover_catalog, lambda: conn.get_schema("people")):
        with pytest.raises(odibi_sqlite.SQLiteConnectionError, match=r"'shop'.* is closed"):
            use()
    conn.close()  # idempotent


def test_one_connection_is_opened_once_and_shared_by_threads(conn: Any) -> None:
    barrier = threading.Barrier(8)

    def work(_: int) -> dict[str, Any]:
        barrier.wait()
        return conn.profile("people")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(8)))
    assert all(result == results[0] for result in results)
    assert results[0]["row_count"] == 5


def test_repr_shows_name_and_path_only(tmp_path: Path) -> None:
    path = str(tmp_path / "r.db")
    conn = odibi_sqlite.create("reporting", {"path": path, "timeout": 1.5, "read_only": True})
    assert repr(conn) == f"<SQLiteConnection name='reporting' path={path!r} read_only>"


# -- as a driver ------------------------------------------------------------------------------


def test_factory_through_the_registry_gives_a_working_connection(db_path: Path) -> None:
    registry = ConnectionRegistry.from_factories({"sqlite": odibi_sqlite.create})
    conn = registry.create("sqlite", "w", {"path": str(db_path)})
    try:
        assert isinstance(conn, odibi_sqlite.SQLiteConnection)
        conn.validate()
        assert conn.get_freshness("people", "joined")["latest"] == "2024-03-01"
        info = registry.info("sqlite")
        assert info.status == "loaded"
        assert info.doc is not None
        assert info.doc.startswith("Create a connection to a SQLite database file")
    finally:
        conn.close()


def test_factory_errors_propagate_through_the_registry() -> None:
    registry = ConnectionRegistry.from_factories({"sqlite": odibi_sqlite.create})
    with pytest.raises(ValueError, match="'pth'"):
        registry.create("sqlite", "w", {"pth": "x.db"})
