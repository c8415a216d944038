"""The DataFrames Odibi really hands a driver, and how to tell whether one came back intact.

Odibi's pandas engine writes whatever the node produced: numpy integer
columns of any width, floats with NaN, text with None, pandas nullable
dtypes, ``Timestamp`` columns with NaT, booleans, unicode text, and an empty
frame when a filter matched nothing. A database may store values in its own
types, so the comparison is by value: ``1 == 1.0 == True`` is not enough for
text or bytes, a NULL must come back missing (None, NaN, NaT, NA), never as
``""``, and a timestamp may come back as ISO text.
"""

from __future__ import annotations

import datetime
import math
from types import ModuleType
from typing import Any
from typing import Final

#: Unicode text in several scripts, beyond the Basic Multilingual Plane too.
UNICODE_TEXT: Final = "Zürich ✓ 東京 🚀"

#: (column, what kind of value it holds) in the order :func:`shapes_frame` builds them.
KINDS: Final = {
    "id": "numpy int64",
    "small": "numpy int32",
    "tiny": "numpy uint8",
    "count": "nullable Int64 with NULL",
    "price": "float with NaN",
    "name": "unicode text with None",
    "flag": "bool with None",
    "at": "pandas Timestamp with NaT",
    "day": "datetime.datetime with None",
}


def shapes_frame(pd: ModuleType) -> Any:
    """Three rows; every column but ``id`` holds a NULL of its kind in row 2."""
    import numpy as np

    return pd.DataFrame(
        {
            "id": np.array([1, 2, 3], dtype=np.int64),
            "small": np.array([-5, 0, 2_000_000], dtype=np.int32),
            "tiny": np.array([0, 7, 255], dtype=np.uint8),
            "count": pd.array([10, None, -3], dtype="Int64"),
            "price": [1.5, float("nan"), -2.25],
            "name": [UNICODE_TEXT, None, "plain"],
            "flag": [True, None, False],
            "at": pd.to_datetime(["2024-01-02 03:04:05", None, "1999-12-31 23:59:59"]),
            "day": pd.Series(
                [datetime.datetime(2024, 5, 6, 7, 8, 9), None, datetime.datetime(2000, 1, 1)],
                dtype=object,
            ),
        }
    )


def first_mismatch(pd: ModuleType, written: Any, back: Any) -> tuple[str, str] | None:
    """``None`` when ``back`` holds ``written``'s rows (by ``id``), else (problem, fix)."""
    missing = [str(column) for column in written.columns if column not in back.columns]
    if missing:
        return (
            f"the columns {missing} are missing from what read_table returned "
            f"({list(map(str, back.columns))})",
            "create every column of the DataFrame written",
        )
    if len(back) != len(written):
        return (
            f"{len(written)} rows written, {len(back)} read back",
            "write every row of the DataFrame",
        )
    ordered = back.sort_values("id", key=lambda ids: ids.map(_number)).reset_index(drop=True)
    for column in written.columns:
        for position in range(len(written)):
            wrote = written[column].iloc[position]
            got = ordered[column].iloc[position]
            fix = _compare(pd, wrote, got)
            if fix is not None:
                return (
                    f"column {column!r} ({KINDS.get(str(column), 'value')}), row {position + 1}: "
                    f"wrote {wrote!r}, read back {got!r} ({type(got).__name__})",
                    fix,
                )
    return None


def _compare(pd: ModuleType, wrote: Any, got: Any) -> str | None:
    """None when ``got`` is ``wrote`` as a database returns it, else the fix."""
    if _missing(pd, wrote):
        if _missing(pd, got):
            return None
        return (
            "write NULL for every missing value (None, NaN, NaT, pd.NA): bind None, never "
            "str(value) or ''"
        )
    if isinstance(got, (bytes, bytearray, memoryview)):
        return (
            "convert numpy scalars to Python values before binding (value.item()): "
            "sqlite3 stores objects with a buffer, numpy integers included, as BLOBs"
        )
    if _missing(pd, got):
        return "a value came back as NULL: bind every value of the row"
    if isinstance(wrote, (pd.Timestamp, datetime.datetime)):
        try:
            same = pd.Timestamp(got) == pd.Timestamp(wrote)
        except (TypeError, ValueError):
            same = False
        return None if same else "store timestamps with their full value (ISO text or a datetime)"
    if isinstance(wrote, str):
        return None if got == wrote else "store text as given (UTF-8, every script)"
    try:
        same = math.isclose(float(wrote), float(got), rel_tol=1e-9)
    except (TypeError, ValueError):
        same = False
    return None if same else "store numbers and booleans as numbers, not as text"


def _missing(pd: ModuleType, value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.inf
