"""The odibi-localfs sample driver, against real directories and files."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from datetime import timezone
from pathlib import Path
from typing import Any

import pytest

from odibi_ext import ConnectionRegistry

try:
    import odibi_localfs
except ImportError:  # not installed: use the source tree
    sys.path.insert(
        0, str(Path(__file__).resolve().parents[1] / "sample_plugins" / "odibi-localfs" / "src")
    )
    import odibi_localfs

PEOPLE_CSV = """\
id,name,score,active,joined
1,ann,1.5,true,2024-01-05
2,bob,,false,2024-03-01
3,,2,TRUE,
4,dee,-0.5e1,false,2024-02-10
2,eve,9,true,2024-02-10
"""


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """A base directory with CSV, TSV, JSON lines and other files, nested two deep."""
    root = tmp_path / "base"
    (root / "sales" / "2024").mkdir(parents=True)
    (root / "people.csv").write_text(PEOPLE_CSV, encoding="utf-8")
    (root / "sales" / "q1.tsv").write_text("region\tamount\nnorth\t10\nsouth\t12.5\n")
    events = [{"id": 1, "kind": "click", "at": 1.5}, {"id": 2, "kind": None, "tags": ["a"]}]
    (root / "sales" / "2024" / "events.jsonl").write_text(
        "".join(json.dumps(event) + "\n" for event in events)
    )
    (root / "sales" / "2024" / "blob.parquet").write_bytes(b"PAR1\x00\x00PAR1")
    (root / "readme.txt").write_text("not a data file")
    (root / ".hidden.csv").write_text("a\n1\n")
    return root


@pytest.fixture
def conn(base: Path) -> Any:
    return odibi_localfs.create("landing", {"base_path": str(base)})


# -- config -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "error", "key"),
    [
        ({"base": "/data"}, ValueError, "'base'"),
        ({"base_path": "/data", "recursive": True}, ValueError, "'recursive'"),
        ({}, ValueError, "'base_path'"),
        ({"base_path": 7}, TypeError, "'base_path'"),
        ({"base_path": "  "}, ValueError, "'base_path'"),
        ({"base_path": "/data", "create": "sometimes"}, ValueError, "'create'"),
        ({"base_path": "/data", "create": 1}, TypeError, "'create'"),
    ],
)
def test_bad_config_is_refused_naming_the_key(
    config: dict[str, Any], error: type[Exception], key: str
) -> None:
    with pytest.raises(error, match=key) as raised:
        odibi_localfs.create("l", config)
    assert str(raised.value).startswith("odibi-localfs: ")


def test_constructor_touches_nothing_and_create_true_makes_the_directory(tmp_path: Path) -> None:
    target = tmp_path / "new" / "nested"
    conn = odibi_localfs.create("l", {"base_path": str(target), "create": "true"})
    assert not target.exists()
    conn.validate()
    assert target.is_dir()
    conn.validate()  # again, now that it exists


def test_validate_names_a_missing_base_path(tmp_path: Path) -> None:
    missing = tmp_path / "absent"
    conn = odibi_localfs.create("l", {"base_path": str(missing)})
    with pytest.raises(FileNotFoundError, match="does not exist") as raised:
        conn.validate()
    assert str(missing) in str(raised.value)
    assert not missing.exists()


def test_validate_refuses_a_file_as_base_path(base: Path) -> None:
    conn = odibi_localfs.create("l", {"base_path": str(base / "people.csv"), "create": True})
    with pytest.raises(NotADirectoryError, match=r"people\.csv"):
        conn.validate()


def test_relative_base_path_is_resolved_when_created(
    base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(base.parent)
    conn = odibi_localfs.create("l", {"base_path": "base"})
    monkeypatch.chdir("/")
    assert conn.get_path("people.csv") == str(base.resolve() / "people.csv")
    assert repr(conn) == f"<LocalConnection name='l' base_path={str(base.resolve())!r}>"


# -- get_path ---------------------------------------------------------------------------------


def test_get_path_accepts_nested_relative_paths(conn: Any, base: Path) -> None:
    root = base.resolve()
    assert conn.get_path("sales/2024/events.jsonl") == str(root / "sales/2024/events.jsonl")
    assert conn.get_path("sales/../people.csv") == str(root / "people.csv")
    assert conn.get_path("not/yet/written.csv") == str(root / "not/yet/written.csv")
    assert conn.get_path("") == str(root)


@pytest.mark.parametrize("path", ["../x", "sales/../../x", "/etc/passwd", "//etc/passwd"])
def test_get_path_refuses_paths_outside_base_path(conn: Any, path: str) -> None:
    # A PermissionError, not a ValueError: Odibi would replace a ValueError's message.
    with pytest.raises(odibi_localfs.PathOutsideBaseError, match="odibi-localfs") as raised:
        conn.get_path(path)
    assert isinstance(raised.value, PermissionError)
    assert not isinstance(raised.value, ValueError)


def test_get_path_refuses_a_nul_character(conn: Any) -> None:
    with pytest.raises(ValueError, match="odibi-localfs: cannot resolve"):
        conn.get_path("a\x00b")


def test_get_path_refuses_absolute_paths_even_inside_base_path(conn: Any, base: Path) -> None:
    with pytest.raises(PermissionError, match="is absolute"):
        conn.get_path(str(base.resolve() / "people.csv"))


def test_get_path_refuses_a_symlink_pointing_outside(conn: Any, base: Path) -> None:
    outside = base.parent / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text("a\n1\n")
    os.symlink(outside / "secret.csv", base / "link.csv")
    os.symlink(outside, base / "linkdir")
    for path in ("link.csv", "linkdir/secret.csv", "linkdir"):
        with pytest.raises(PermissionError, match="outside base_path"):
            conn.get_path(path)
    with pytest.raises(PermissionError, match="outside base_path"):
        conn.get_schema("link.csv")


def test_get_path_follows_a_symlink_that_stays_inside(conn: Any, base: Path) -> None:
    os.symlink(base / "people.csv", base / "alias.csv")
    assert conn.get_path("alias.csv") == str(base.resolve() / "people.csv")


def test_get_path_refuses_a_symlink_loop(conn: Any, base: Path) -> None:
    os.symlink(base / "loop_b", base / "loop_a")
    os.symlink(base / "loop_a", base / "loop_b")
    with pytest.raises(ValueError, match="loop_a"):
        conn.get_path("loop_a/x.csv")


# -- catalog ----------------------------------------------------------------------------------


def test_catalog_lists_data_files_with_sizes_and_times(conn: Any, base: Path) -> None:
    catalog = conn.discover_catalog()
    assert catalog["connection"] == "landing"
    assert catalog["type"] == "localfs"
    assert catalog["truncated"] is False
    listed = {d["name"]: d for d in catalog["datasets"]}
    assert list(listed) == [
        "people.csv",
        "sales/q1.tsv",
        "sales/2024/blob.parquet",
        "sales/2024/events.jsonl",
    ]  # no readme.txt (not data), no .hidden.csv
    for name, dataset in listed.items():
        status = (base / name).stat()
        assert dataset["kind"] == "file"
        assert dataset["size_bytes"] == status.st_size
        assert datetime.fromisoformat(dataset["modified"]) == datetime.fromtimestamp(
            status.st_mtime, tz=timezone.utc
        )
        assert dataset["modified"].endswith("+00:00")
    assert [d["format"] for d in listed.values()] == ["csv", "tsv", "parquet", "jsonl"]


def test_catalog_not_recursive_lists_only_the_top(conn: Any) -> None:
    names = [d["name"] for d in conn.discover_catalog(recursive=False)["datasets"]]
    assert names == ["people.csv"]


@pytest.mark.parametrize(
    ("limit", "count", "truncated"), [(0, 0, True), (2, 2, True), (4, 4, False), (9, 4, False)]
)
def test_catalog_limit_and_truncated(conn: Any, limit: int, count: int, truncated: bool) -> None:
    catalog = conn.discover_catalog(limit=limit)
    assert len(catalog["datasets"]) == count
    assert catalog["truncated"] is truncated


def test_catalog_with_schema_and_stats(conn: Any, base: Path) -> None:
    (base / "broken.jsonl").write_text('{"a": 1}\n[1, 2]\n')
    datasets = {
        d["name"]: d
        for d in conn.discover_catalog(include_schema=True, include_stats=True)["datasets"]
    }
    assert datasets["people.csv"]["row_count"] == 5
    assert [c["name"] for c in datasets["people.csv"]["columns"]] == [
        "id",
        "name",
        "score",
        "active",
        "joined",
    ]
    assert datasets["sales/q1.tsv"]["row_count"] == 2
    assert datasets["sales/2024/events.jsonl"]["row_count"] == 2
    assert "columns" not in datasets["sales/2024/blob.parquet"]
    assert "line 2" in datasets["broken.jsonl"]["error"]  # reported, and the rest still listed


def test_catalog_never_follows_symlinks_out_of_base_path(conn: Any, base: Path) -> None:
    outside = base.parent / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text("a\n1\n")
    os.symlink(outside / "secret.csv", base / "link.csv")
    os.symlink(outside, base / "linkdir")
    os.symlink(base / "people.csv", base / "alias.csv")
    os.symlink(base, base / "sales" / "loop")
    names = [d["name"] for d in conn.discover_catalog()["datasets"]]
    assert "link.csv" not in names
    assert not any(name.startswith(("linkdir/", "sales/loop/")) for name in names)
    assert "alias.csv" in names  # a link whose target is inside is fine


def test_catalog_of_a_missing_base_path_names_it(tmp_path: Path) -> None:
    conn = odibi_localfs.create("l", {"base_path": str(tmp_path / "gone")})
    with pytest.raises(FileNotFoundError, match="gone"):
        conn.discover_catalog()


# -- schema -----------------------------------------------------------------------------------


def test_csv_schema_infers_types(conn: Any) -> None:
    assert conn.get_schema("people.csv") == {
        "dataset": "people.csv",
        "format": "csv",
        "sampled_rows": 5,
        "columns": [
            {"name": "id", "type": "integer", "nullable": False},
            {"name": "name", "type": "string", "nullable": True},
            {"name": "score", "type": "float", "nullable": True},
            {"name": "active", "type": "boolean", "nullable": False},
            {"name": "joined", "type": "string", "nullable": True},
        ],
    }


def test_tsv_schema(conn: Any) -> None:
    columns = conn.get_schema("sales/q1.tsv")["columns"]
    assert [(c["name"], c["type"]) for c in columns] == [("region", "string"), ("amount", "float")]


def test_csv_schema_samples_100_rows(conn: Any, base: Path) -> None:
    rows = ["n"] + [str(i) for i in range(100)] + ["not a number"]
    (base / "long.csv").write_text("\n".join(rows) + "\n")
    schema = conn.get_schema("long.csv")
    assert schema["sampled_rows"] == 100
    assert schema["columns"] == [{"name": "n", "type": "integer", "nullable": False}]


def test_jsonl_schema_is_the_union_of_keys(conn: Any) -> None:
    assert conn.get_schema("sales/2024/events.jsonl") == {
        "dataset": "sales/2024/events.jsonl",
        "format": "jsonl",
        "sampled_rows": 2,
        "columns": [
            {"name": "id", "type": "integer", "nullable": False},
            {"name": "kind", "type": "string", "nullable": True},
            {"name": "at", "type": "number", "nullable": True},
            {"name": "tags", "type": "array", "nullable": True},
        ],
    }


def test_json_array_schema_and_mixed_types(conn: Any, base: Path) -> None:
    items = [{"v": 1, "w": {"x": 1}}, {"v": 2.5, "w": "text"}, {"v": None, "w": True}]
    (base / "items.json").write_text(json.dumps(items))
    columns = conn.get_schema("items.json")["columns"]
    assert columns == [
        {"name": "v", "type": "number", "nullable": True},
        {"name": "w", "type": "mixed", "nullable": False},
    ]


def test_schema_of_a_jsonl_line_that_is_not_an_object_names_the_line(
    conn: Any, base: Path
) -> None:
    (base / "bad.ndjson").write_text('{"a": 1}\n\n"text"\n')
    with pytest.raises(ValueError, match="line 3"):
        conn.get_schema("bad.ndjson")


@pytest.mark.parametrize(
    ("name", "what"), [("sales/2024/blob.parquet", "parquet"), ("readme.txt", r"'\.txt' files")]
)
def test_schema_of_unreadable_formats_is_not_implemented(conn: Any, name: str, what: str) -> None:
    with pytest.raises(NotImplementedError, match=what):
        conn.get_schema(name)


def test_schema_of_a_missing_file_names_it(conn: Any) -> None:
    with pytest.raises(FileNotFoundError, match=r"'nope\.csv'"):
        conn.get_schema("nope.csv")


def test_schema_of_a_directory_is_refused(conn: Any) -> None:
    with pytest.raises(IsADirectoryError, match="'sales'"):
        conn.get_schema("sales")


# -- profile ----------------------------------------------------------------------------------


def test_csv_profile_on_known_data(conn: Any) -> None:
    assert conn.profile("people.csv") == {
        "dataset": "people.csv",
        "row_count": 5,
        "sampled_rows": 5,
        "columns": {
            "id": {"type": "integer", "null_count": 0, "distinct_count": 4, "min": 1, "max": 4},
            "name": {
                "type": "string",
                "null_count": 1,
                "distinct_count": 4,
                "min": "ann",
                "max": "eve",
            },
            "score": {
                "type": "float",
                "null_count": 1,
                "distinct_count": 4,
                "min": -5.0,
                "max": 9.0,
            },
            "active": {
                "type": "boolean",
                "null_count": 0,
                "distinct_count": 2,
                "min": False,
                "max": True,
            },
            "joined": {
                "type": "string",
                "null_count": 1,
                "distinct_count": 3,
                "min": "2024-01-05",
                "max": "2024-03-01",
            },
        },
    }


def test_csv_profile_samples_and_restricts_columns(conn: Any) -> None:
    result = conn.profile("people.csv", sample_rows=2, columns=["score"])
    assert (result["row_count"], result["sampled_rows"]) == (5, 2)
    assert result["columns"] == {
        "score": {"type": "float", "null_count": 1, "distinct_count": 1, "min": 1.5, "max": 1.5}
    }


def test_profile_refuses_an_unknown_column_naming_it(conn: Any) -> None:
    with pytest.raises(ValueError, match="'salary'"):
        conn.profile("people.csv", columns=["salary"])


def test_profile_of_jsonl_is_not_implemented(conn: Any) -> None:
    with pytest.raises(NotImplementedError, match="jsonl"):
        conn.profile("sales/2024/events.jsonl")


# -- freshness --------------------------------------------------------------------------------


def test_freshness_is_the_file_modification_time(conn: Any, base: Path) -> None:
    moment = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc).timestamp()
    os.utime(base / "people.csv", (moment, moment))
    assert conn.get_freshness("people.csv") == {
        "dataset": "people.csv",
        "column": None,
        "latest": "2024-05-06T07:08:09+00:00",
        "latest_epoch": moment,
    }


def test_freshness_with_a_timestamp_column_is_not_implemented(conn: Any) -> None:
    with pytest.raises(NotImplementedError, match="timestamp_column"):
        conn.get_freshness("people.csv", timestamp_column="joined")


def test_freshness_of_a_path_outside_is_refused(conn: Any) -> None:
    with pytest.raises(PermissionError, match="outside base_path"):
        conn.get_freshness("../people.csv")


# -- as a driver ------------------------------------------------------------------------------


def test_factory_through_the_registry_gives_a_working_connection(base: Path) -> None:
    registry = ConnectionRegistry.from_factories({"localfs": odibi_localfs.create})
    with registry.create("localfs", "landing", {"base_path": str(base)}) as conn:
        assert isinstance(conn, odibi_localfs.LocalConnection)
        conn.validate()
        assert conn.get_schema("people.csv")["columns"][0]["type"] == "integer"
    doc = registry.info("localfs").doc
    assert doc is not None
    assert doc.startswith("Create a connection to the data files under a local directory")
