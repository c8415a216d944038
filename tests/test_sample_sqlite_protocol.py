"""odibi-sqlite's side of Odibi's protocol, without Odibi: the calling convention,
eager validation, the DataFrame methods and the discovery shapes.

Real SQLite files throughout; pandas (the driver's ``pandas`` extra) for the
DataFrame methods. Odibi itself is exercised in test_odibi_sqlite_pipeline.py.
"""

from __future__ import annotations

import enum
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

try:
    import odibi_sqlite
except ImportError:  # not installed: use the source tree
    sys.path.insert(
        0, str(Path(__file__).resolve().parents[1] / "sample_plugins" / "odibi-sqlite" / "src")
    )
    import odibi_sqlite

HOSTILE = 'x"; drop table y; --'


class OdibiStyleEnum(str, enum.Enum):  # enum.StrEnum's str() is the value
    """Shaped like Odibi's ValidationMode and ConnectionType: str() is not the value."""

    EAGER = "eager"
    LAZY = "lazy"
    SQLITE = "sqlite"


def rows(path: Path, query: str) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(query).fetchall()
    finally:
        db.close()


def people() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3],
            "name": ["ada", None, "linus"],
            "score": [1.5, float("nan"), 3.0],
            "joined": pd.to_datetime(["2024-01-01", "2024-02-01", None]),
            "active": [True, False, True],
        }
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "w.db"


@pytest.fixture
def conn(db: Path) -> Any:
    with odibi_sqlite.create("wh", {"path": str(db)}) as connection:
        yield connection


# -- the calling convention -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sqlite", OdibiStyleEnum.SQLITE])
@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("lazy", "lazy"),
        ("EAGER", "eager"),
        (OdibiStyleEnum.EAGER, "eager"),
        (OdibiStyleEnum.LAZY, "lazy"),
    ],
)
def test_odibis_keys_are_accepted_as_str_or_enum(
    db: Path, kind: Any, mode: Any, expected: str
) -> None:
    conn = odibi_sqlite.create("wh", {"type": kind, "validation_mode": mode, "path": str(db)})
    assert conn.settings.validation_mode == expected
    assert db.exists() is (expected == "eager")  # eager opens (and creates) the file now
    conn.close()


@pytest.mark.parametrize(
    ("config", "error", "words"),
    [
        ({"validation_mode": "strict"}, ValueError, "'validation_mode' must be lazy or eager"),
        ({"validation_mode": 1}, TypeError, "'validation_mode' must be lazy or eager"),
        ({"type": 3}, TypeError, "'type' must be a str"),
        ({"typ": "sqlite"}, ValueError, "unknown config key 'typ'"),
    ],
)
def test_bad_odibi_keys_are_refused_naming_the_key(
    db: Path, config: dict[str, Any], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words) as raised:
        odibi_sqlite.create("wh", {"path": str(db), **config})
    assert str(raised.value).startswith("odibi-sqlite: ")


def test_unknown_keys_name_every_allowed_key(db: Path) -> None:
    with pytest.raises(ValueError, match="unknown config key 'host'") as raised:
        odibi_sqlite.create("wh", {"type": "sqlite", "path": str(db), "host": "x"})
    for key in ("path", "timeout", "read_only", "type", "validation_mode"):
        assert key in str(raised.value)


def test_eager_validation_of_a_bad_path_fails_at_creation(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "w.db"
    with pytest.raises(odibi_sqlite.SQLiteConnectionError, match="does not exist") as raised:
        odibi_sqlite.create("wh", {"path": str(path), "validation_mode": "eager"})
    assert str(path.parent) in str(raised.value)


def test_lazy_creation_of_a_bad_path_succeeds_and_validate_fails(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "w.db"
    conn = odibi_sqlite.create("wh", {"path": str(path), "validation_mode": "lazy"})
    with pytest.raises(odibi_sqlite.SQLiteConnectionError, match="does not exist"):
        conn.validate()


def test_sql_attributes_are_sqlites() -> None:
    conn = odibi_sqlite.create("wh", {"path": ":memory:"})
    assert (conn.sql_dialect, conn.default_schema) == ("sqlite", "main")
    assert conn.build_select_query("t", where="a > 1", limit=3) == (
        'SELECT * FROM "main"."t" WHERE a > 1 LIMIT 3'
    )


# -- writing and reading DataFrames -----------------------------------------------------------


def test_write_replace_creates_typed_columns_and_reads_back(conn: Any, db: Path) -> None:
    written = conn.write_table(
        df=people(), table_name="people", schema="main", if_exists="replace"
    )

    assert written == 3
    assert rows(db, "SELECT name, type FROM pragma_table_info('people')") == [
        ("id", "INTEGER"),
        ("name", "TEXT"),
        ("score", "REAL"),
        ("joined", "TIMESTAMP"),
        ("active", "INTEGER"),
    ]
    assert rows(db, "SELECT * FROM people ORDER BY id") == [
        (1, "ada", 1.5, "2024-01-01 00:00:00", 1),
        (2, None, None, "2024-02-01 00:00:00", 0),
        (3, "linus", 3.0, None, 1),
    ]
    back = conn.read_table(table_name="people", schema="main")
    assert list(back.columns) == ["id", "name", "score", "joined", "active"]
    assert back["id"].tolist() == [1, 2, 3]


def test_replace_replaces_and_append_appends(conn: Any, db: Path) -> None:
    conn.write_table(df=people(), table_name="p", if_exists="replace")
    conn.write_table(df=people().head(1), table_name="p", if_exists="replace")
    assert rows(db, "SELECT count(*) FROM p") == [(1,)]

    conn.write_table(df=people(), table_name="p", if_exists="append")
    assert rows(db, "SELECT count(*), sum(id) FROM p") == [(4, 7)]


def test_append_creates_a_missing_table(conn: Any, db: Path) -> None:
    conn.write_table(df=people(), table_name="fresh", if_exists="append")
    assert rows(db, "SELECT count(*) FROM fresh") == [(3,)]


def test_fail_refuses_an_existing_table_and_leaves_it(conn: Any, db: Path) -> None:
    conn.write_table(df=people(), table_name="p", if_exists="fail")
    with pytest.raises(ValueError, match=r"main\.p already exists"):
        conn.write_table(df=people().head(1), table_name="p", if_exists="fail")
    assert rows(db, "SELECT count(*) FROM p") == [(3,)]


@pytest.mark.parametrize("chunksize", [1, 2, 1000, None])
def test_chunksize_changes_nothing_in_the_result(conn: Any, db: Path, chunksize: Any) -> None:
    frame = pd.DataFrame({"n": range(7)})
    conn.write_table(df=frame, table_name="n", if_exists="replace", chunksize=chunksize)
    assert rows(db, "SELECT count(*), sum(n) FROM n") == [(7, 21)]


def test_a_failed_append_leaves_the_table_as_it_was(conn: Any, db: Path) -> None:
    conn.write_table(df=people(), table_name="p", if_exists="replace")
    wrong = pd.DataFrame({"id": [9], "no_such_column": [1]})
    with pytest.raises(sqlite3.OperationalError, match="no_such_column"):
        conn.write_table(df=wrong, table_name="p", if_exists="append", chunksize=1)
    assert rows(db, "SELECT count(*) FROM p") == [(3,)]


def test_a_failed_replace_keeps_the_old_table(conn: Any, db: Path) -> None:
    conn.write_table(df=people(), table_name="p", if_exists="replace")
    # A duplicate column fails before anything is dropped.
    with pytest.raises(ValueError, match="duplicate columns"):
        conn.write_table(
            df=pd.DataFrame([[1, 2]], columns=["a", "a"]), table_name="p", if_exists="replace"
        )
    assert rows(db, "SELECT count(*) FROM p") == [(3,)]


@pytest.mark.parametrize(
    ("arguments", "error", "words"),
    [
        ({"if_exists": "merge"}, ValueError, "if_exists must be one of replace, append, fail"),
        ({"chunksize": 0}, ValueError, "chunksize"),
        ({"df": [1, 2]}, TypeError, "needs a pandas DataFrame, not list"),
        ({"schema": "sales"}, ValueError, "no schema 'sales'"),
    ],
)
def test_bad_write_arguments_are_refused_clearly(
    conn: Any, arguments: dict[str, Any], error: type[Exception], words: str
) -> None:
    call = {"df": people(), "table_name": "p", "if_exists": "replace", **arguments}
    with pytest.raises(error, match=words):
        conn.write_table(**call)


def test_the_older_engines_dbo_names_main_in_every_call_they_make(conn: Any, db: Path) -> None:
    # Odibi's pandas engines before 3.4.4 qualify unqualified tables with SQL
    # Server's dbo, in read_table/write_table and in a filtered read's SQL text.
    conn.write_table(df=people(), table_name="p", schema="dbo", if_exists="replace")
    conn.write_table(df=people().head(1), table_name="p", schema="dbo", if_exists="append")

    assert rows(db, "SELECT id FROM main.p ORDER BY id") == [(1,), (1,), (2,), (3,)]
    assert conn.read_table(table_name="p", schema="dbo")["id"].tolist() == [1, 2, 3, 1]
    filtered = "SELECT * FROM [dbo].[p] WHERE id >= 2"
    assert conn.read_sql_query(filtered)["id"].tolist() == [2, 3]
    assert conn.read_sql(filtered)["id"].tolist() == [2, 3]
    assert rows(db, "PRAGMA database_list") == [(0, "main", str(db))]  # nothing attached


def test_dbo_elsewhere_in_sql_is_left_to_sqlite(conn: Any) -> None:
    conn.write_table(df=people(), table_name="p", if_exists="replace")
    with pytest.raises(pd.errors.DatabaseError, match=r"no such table: dbo\.p"):
        conn.read_sql_query("SELECT count(*) FROM [dbo].[p]")


def test_a_view_is_not_overwritten(conn: Any, db: Path) -> None:
    conn.write_table(df=people(), table_name="p", if_exists="replace")
    sqlite3.connect(db).execute("CREATE VIEW v AS SELECT * FROM p").connection.close()
    with pytest.raises(ValueError, match="is a view"):
        conn.write_table(df=people(), table_name="v", if_exists="replace")


def test_hostile_table_and_column_names_are_only_names(conn: Any, db: Path) -> None:
    sqlite3.connect(db).executescript("CREATE TABLE y (keep); INSERT INTO y VALUES (1);").close()
    frame = pd.DataFrame({HOSTILE: [1, 2], 'a"b': ["'; --", None]})

    conn.write_table(df=frame, table_name=HOSTILE, if_exists="replace")
    conn.write_table(df=frame, table_name=HOSTILE, if_exists="append")

    back = conn.read_table(table_name=HOSTILE, schema="main")
    assert back.columns.tolist() == [HOSTILE, 'a"b']
    assert back[HOSTILE].tolist() == [1, 2, 1, 2]
    assert rows(db, "SELECT keep FROM y") == [(1,)]
    query = conn.build_select_query(HOSTILE, "main", where='"a""b" = ?')
    assert conn.read_sql_query(query, params=["'; --"])[HOSTILE].tolist() == [1, 1]


def test_read_sql_and_read_sql_query_bind_parameters(conn: Any) -> None:
    conn.write_table(df=people(), table_name="p", if_exists="replace")
    assert conn.read_sql("SELECT id FROM p WHERE name = ?", ["ada"])["id"].tolist() == [1]
    assert conn.read_sql_query("SELECT id FROM p WHERE id > :n ORDER BY id", {"n": 1})[
        "id"
    ].tolist() == [2, 3]
    empty = conn.read_sql(conn.build_select_query("p", limit=0))
    assert empty.columns.tolist() == ["id", "name", "score", "joined", "active"]
    assert len(empty) == 0


def test_a_read_only_connection_refuses_writes_and_keeps_the_data(db: Path) -> None:
    with odibi_sqlite.create("wh", {"path": str(db)}) as writer:
        writer.write_table(df=people(), table_name="p", if_exists="replace")
    with odibi_sqlite.create("wh", {"path": str(db), "read_only": True}) as reader:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.write_table(df=people(), table_name="p", if_exists="replace")
        assert len(reader.read_table("p")) == 3


def test_without_pandas_the_dataframe_methods_name_the_extra(db: Path) -> None:
    # A real interpreter in which importing pandas fails, as it does when it is not installed.
    script = f"""
import sys
sys.modules["pandas"] = None
sys.path.insert(0, {str(Path(odibi_sqlite.__file__).parents[1])!r})
import odibi_sqlite
conn = odibi_sqlite.create("wh", {{"path": {str(db)!r}, "validation_mode": "eager"}})
print(conn.discover_catalog()["total_datasets"])
try:
    conn.read_table("t")
except ImportError as exc:
    print(exc)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "0",
        "odibi-sqlite: read_table() needs pandas, which is not installed; "
        "install the driver's extra: pip install 'odibi-sqlite[pandas]'",
    ]


# -- discovery shapes -------------------------------------------------------------------------


def test_get_table_info_describes_columns_and_key(conn: Any, db: Path) -> None:
    sqlite3.connect(db).executescript(
        "CREATE TABLE o (id INTEGER PRIMARY KEY, total REAL NOT NULL, note);"
        "INSERT INTO o VALUES (1, 2.5, NULL), (2, 3.5, 'x');"
    ).close()

    info = conn.get_table_info("o")

    assert info["dataset"]["name"] == "o"
    assert info["dataset"]["path"] == "main.o"
    assert info["dataset"]["row_count"] == 2
    assert [(c["name"], c["dtype"], c["nullable"]) for c in info["columns"]] == [
        ("id", "INTEGER", False),
        ("total", "REAL", False),
        ("note", "", True),
    ]
    assert info["primary_key"] == ["id"]
    by_path = conn.get_table_info("main.o")  # a catalog entry's path names the table too
    assert {k: v for k, v in by_path.items() if k != "generated_at"} == {
        k: v for k, v in info.items() if k != "generated_at"
    }
    with pytest.raises(LookupError, match="'nope'"):
        conn.get_table_info("nope")


def test_a_table_named_with_a_dot_is_found_by_its_own_name(conn: Any, db: Path) -> None:
    sqlite3.connect(db).executescript(
        'CREATE TABLE "main.t" (dotted); CREATE TABLE t (plain);'
    ).close()
    assert [c["name"] for c in conn.get_table_info("main.t")["columns"]] == ["dotted"]
    assert conn.preview("main.t")["columns"] == ["dotted"]
    assert conn.preview("t")["columns"] == ["plain"]


def test_preview_gives_the_first_rows_of_the_chosen_columns(conn: Any) -> None:
    conn.write_table(df=people(), table_name="p", if_exists="replace")

    preview = conn.preview("p", rows=2, columns=["name", "id"])

    assert preview["columns"] == ["name", "id"]
    assert preview["rows"] == [{"name": "ada", "id": 1}, {"name": None, "id": 2}]
    assert (preview["total_rows"], preview["truncated"]) == (3, True)
    assert conn.preview("p", rows=500)["truncated"] is False
    assert conn.preview("main.p", rows=1)["rows"][0]["name"] == "ada"
    with pytest.raises(ValueError, match="'salary'"):
        conn.preview("p", columns=["salary"])
