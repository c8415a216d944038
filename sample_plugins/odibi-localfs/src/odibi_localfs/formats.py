"""Data file formats: recognising them by extension, reading samples, inferring column types.

Standard library only, so CSV/TSV and JSON (lines or an array of objects)
can be read; Parquet, Avro and ORC are recognised but not read.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import json
import re
from collections.abc import Callable
from collections.abc import Generator
from pathlib import Path
from typing import Any
from typing import Final

#: File extension (lower case) -> format name.
FORMATS: Final = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".avro": "avro",
    ".orc": "orc",
}
DELIMITED: Final = {"csv": ",", "tsv": "\t"}
READABLE: Final = ("csv", "tsv", "json", "jsonl")
#: Rows (or objects) read to infer a schema.
SCHEMA_SAMPLE: Final = 100

_INTEGER: Final = re.compile(r"[+-]?\d+")
_FLOAT: Final = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_BOOLEANS: Final = {"true": True, "false": False}


def format_of(path: Path) -> str | None:
    """The format of ``path`` by its extension, or ``None`` when it is not a data file."""
    return FORMATS.get(path.suffix.lower())


def schema(path: Path, fmt: str) -> dict[str, Any]:
    """``{"format", "sampled_rows", "columns": [{"name", "type", "nullable"}]}`` of a file.

    ``fmt`` must be one of :data:`READABLE`.
    """
    if fmt in DELIMITED:
        header, rows = read_delimited(path, fmt, SCHEMA_SAMPLE)
        columns = [
            {"name": name, "type": infer_text_type(values), "nullable": "" in values}
            for name, values in zip(header, column_values(header, rows))
        ]
        return {"format": fmt, "sampled_rows": len(rows), "columns": columns}
    with contextlib.closing(read_records(path)) as stream:
        records = list(itertools.islice(stream, SCHEMA_SAMPLE))
    return {"format": fmt, "sampled_rows": len(records), "columns": json_columns(records)}


def row_count(path: Path, fmt: str) -> int:
    """Data rows (CSV/TSV, header excluded) or objects (JSON) in the whole file."""
    if fmt in DELIMITED:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            rows = sum(1 for row in csv.reader(stream, delimiter=DELIMITED[fmt]) if row)
        return max(rows - 1, 0)
    with contextlib.closing(read_records(path)) as records:
        return sum(1 for _ in records)


# -- CSV / TSV ------------------------------------------------------------------------------


def read_delimited(path: Path, fmt: str, limit: int) -> tuple[list[str], list[list[str]]]:
    """The header and up to ``limit`` data rows (blank lines skipped) of a CSV/TSV file."""
    with path.open(encoding="utf-8-sig", newline="") as stream:
        rows = (row for row in csv.reader(stream, delimiter=DELIMITED[fmt]) if row)
        header = next(rows, [])
        return header, list(itertools.islice(rows, limit))


def column_values(header: list[str], rows: list[list[str]]) -> list[list[str]]:
    """Each column's values, stripped; a short row's missing fields are ``""`` (null)."""
    return [
        [row[index].strip() if index < len(row) else "" for row in rows]
        for index in range(len(header))
    ]


def infer_text_type(values: list[str]) -> str:
    """``integer``, ``float``, ``boolean`` or ``string``: the narrowest fitting every
    non-empty value (``string`` when there is none)."""
    present = [value for value in values if value]
    if not present:
        return "string"
    if all(_INTEGER.fullmatch(value) for value in present):
        return "integer"
    if all(_FLOAT.fullmatch(value) for value in present):
        return "float"
    if all(value.lower() in _BOOLEANS for value in present):
        return "boolean"
    return "string"


def converter(type_name: str) -> Callable[[str], Any]:
    """Turns a non-empty text value of inferred type ``type_name`` into a Python value."""
    if type_name == "integer":
        return int
    if type_name == "float":
        return float
    if type_name == "boolean":
        return lambda value: _BOOLEANS[value.lower()]
    return str


# -- JSON ------------------------------------------------------------------------------------


def read_records(path: Path) -> Generator[dict[str, Any], None, None]:
    """The objects of a JSON lines file, or of a JSON file holding an array of objects.

    Raises ``ValueError`` naming the line (or array index) of anything that
    is not a JSON object.
    """
    with path.open(encoding="utf-8-sig") as stream:
        first = stream.read(1)
        while first.isspace():
            first = stream.read(1)
        stream.seek(0)
        if first == "[":  # a JSON array must be parsed whole
            for index, item in enumerate(json.load(stream)):
                yield _record(item, f"item {index}")
            return
        for number, line in enumerate(stream, start=1):
            if line.strip():
                yield _record(json.loads(line), f"line {number}")


def json_columns(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The union of the records' keys, in first-seen order, with their JSON types.

    ``nullable`` is true when a key is ``null`` or missing in some record; a
    key seen with several types is ``mixed`` (integers and floats make ``number``).
    """
    seen: dict[str, set[str]] = {}
    for record in records:
        for key, value in record.items():
            seen.setdefault(key, set()).add(json_type(value))
    columns = []
    for key, types in seen.items():
        present = types - {"null"}
        if present == {"integer", "number"}:
            present = {"number"}
        nullable = "null" in types or any(key not in record for record in records)
        kind = "null" if not present else present.pop() if len(present) == 1 else "mixed"
        columns.append({"name": key, "type": kind, "nullable": nullable})
    return columns


def json_type(value: object) -> str:
    """The JSON type name of a decoded value: ``string``, ``integer``, ``number``, ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _record(item: object, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValueError(f"{where} is a JSON {json_type(item)}, not an object")
    return item
