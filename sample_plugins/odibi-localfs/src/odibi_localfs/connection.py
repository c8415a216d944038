"""``LocalConnection``: an Odibi connection to data files under one directory, and its factory."""

from __future__ import annotations

import csv
import errno
import fnmatch
import os
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from datetime import datetime
from datetime import timezone
from pathlib import Path
from typing import Any

from odibi_ext import Connection
from odibi_localfs import formats
from odibi_localfs.config import DRIVER
from odibi_localfs.config import LocalConfig

#: What reading a malformed or unreadable file raises (JSON and decoding errors are ValueErrors).
_READ_ERRORS = (OSError, ValueError, csv.Error)


class PathOutsideBaseError(PermissionError):
    """A path that is absolute or resolves outside ``base_path`` was refused.

    Not a ``ValueError``: Odibi's pandas engine turns a ``ValueError`` from
    ``get_path`` into "Either path or table must be provided", hiding the reason.
    """


def create(name: str, config: Mapping[str, Any]) -> LocalConnection:
    """Create a connection to the data files under a local directory.

    ``config`` keys: ``base_path`` (required: the directory) and ``create``
    (default false: when true, ``validate()`` creates the directory); Odibi's
    ``type`` and ``validation_mode`` are accepted (``eager``: validated now).
    Every path the connection hands out stays inside ``base_path``. Raises
    ``ValueError`` or ``TypeError`` naming the key when the config is wrong.
    """
    return LocalConnection(name, config)


class LocalConnection(Connection):
    """An Odibi connection to data files under ``base_path``.

    ``base_path`` is resolved (symlinks followed) when the connection is
    created; nothing on disk is touched until a method needs it. The
    connection holds no open resources, so :meth:`close` does nothing.
    """

    def __init__(self, name: str, config: Mapping[str, Any]) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{DRIVER}: a connection's name is a str, not {type(name).__name__}")
        self.name = name
        self.settings = LocalConfig.from_mapping(config)
        #: The resolved base directory; every path handed out is inside it.
        self.root = Path(self.settings.base_path).expanduser().resolve()
        # Odibi never calls validate(): validation_mode eager is the driver's job.
        if self.settings.validation_mode == "eager":
            self.validate()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} base_path={str(self.root)!r}>"

    def get_path(self, relative_path: str) -> str:
        """The absolute path of ``relative_path`` under ``base_path``, symlinks resolved.

        Raises :class:`PathOutsideBaseError` for an absolute path and for one
        that resolves outside ``base_path`` (``../x``, or a symlink pointing
        out), ``ValueError`` for one that cannot be resolved (a NUL character,
        a symlink loop).
        """
        return str(self._resolve(relative_path))

    def validate(self) -> None:
        """Check that ``base_path`` is a directory, creating it first when ``create`` is true.

        Raises ``FileNotFoundError`` or ``NotADirectoryError`` naming it.
        """
        if self.settings.create and not self.root.exists():
            self.root.mkdir(parents=True, exist_ok=True)
        self._existing_root()

    def discover_catalog(  # noqa: PLR0917  # Odibi's signature
        self,
        include_schema: bool = False,
        include_stats: bool = False,
        limit: int = 200,
        recursive: bool = True,
        path: str = "",
        pattern: str = "",
    ) -> dict[str, Any]:
        """The data files under ``base_path``: ``{"connection", "type", "datasets", "truncated"}``.

        Each dataset is ``{"name": relative POSIX path, "kind": "file",
        "format", "size_bytes", "modified": ISO 8601 UTC}``, plus ``columns``
        (with ``include_schema``) and ``row_count`` (with ``include_stats``)
        for the formats :meth:`get_schema` reads; a file that cannot be read
        gets an ``error`` instead. Files come in directory order, sorted by
        name, at most ``limit`` of them; ``truncated`` says whether more
        exist. With ``recursive=False`` only the top directory is listed.
        ``path`` lists only that sub-directory (refused like :meth:`get_path`
        when it leaves ``base_path``); ``pattern`` keeps the files whose name
        matches it (``"*.csv"``).
        """
        limit = _non_negative("limit", limit)
        root = self._existing_root()
        if not isinstance(pattern, str):
            raise TypeError(f"{DRIVER}: pattern is a str, not {type(pattern).__name__}")
        top = self._resolve(path) if path else root
        datasets: list[dict[str, Any]] = []
        truncated = False
        for found in _data_files(top, recursive, root):
            if pattern and not fnmatch.fnmatchcase(found.name, pattern):
                continue
            if len(datasets) == limit:
                truncated = True
                break
            datasets.append(self._describe(found, include_schema, include_stats))
        return {
            "connection": self.name,
            "type": "localfs",
            "datasets": datasets,
            "truncated": truncated,
        }

    def get_schema(self, dataset: str) -> dict[str, Any]:
        """``{"dataset", "format", "sampled_rows", "columns": [{"name", "type", "nullable"}]}``.

        CSV/TSV: the header, with ``integer``, ``float``, ``boolean`` or
        ``string`` inferred from up to 100 rows (empty fields are nulls).
        JSON lines, or a JSON array of objects: the union of the keys of the
        first 100 objects with their JSON types. Other formats raise
        ``NotImplementedError`` naming the format.
        """
        path, fmt = self._readable(dataset, "get_schema", formats.READABLE)
        return {"dataset": dataset, **formats.schema(path, fmt)}

    def profile(
        self,
        dataset: str,
        sample_rows: int = 1000,
        columns: list[str] | None = None,
    ) -> dict[str, Any]:
        """Row count of a CSV/TSV file and statistics of its first ``sample_rows`` rows.

        Returns ``{"dataset", "row_count", "sampled_rows", "columns": {name:
        {"type", "null_count", "distinct_count", "min", "max"}}}``; values are
        compared as their inferred type, empty fields count as nulls. Only
        the columns in ``columns`` when given (``ValueError`` naming an
        unknown one). Other formats raise ``NotImplementedError``.
        """
        sample_rows = _non_negative("sample_rows", sample_rows)
        path, fmt = self._readable(dataset, "profile", tuple(formats.DELIMITED))
        header, rows = formats.read_delimited(path, fmt, sample_rows)
        wanted = _chosen(dataset, header, columns)
        stats = {
            name: _column_stats(values)
            for name, values in zip(header, formats.column_values(header, rows))
            if name in wanted
        }
        return {
            "dataset": dataset,
            "row_count": formats.row_count(path, fmt),
            "sampled_rows": len(rows),
            "columns": stats,
        }

    def get_freshness(
        self,
        dataset: str,
        timestamp_column: str | None = None,
    ) -> dict[str, Any]:
        """``{"dataset", "column": None, "latest": ISO 8601 UTC, "latest_epoch": seconds}``:
        the file's modification time.

        ``timestamp_column`` is not supported (``NotImplementedError``).
        """
        if timestamp_column is not None:
            raise NotImplementedError(
                f"{DRIVER}: freshness is the file's modification time; "
                f"timestamp_column={timestamp_column!r} is not supported"
            )
        modified = self._file(dataset).stat().st_mtime
        return {
            "dataset": dataset,
            "column": None,
            "latest": _iso(modified),
            "latest_epoch": modified,
        }

    # -- internals ----------------------------------------------------------------------

    def _resolve(self, relative_path: str) -> Path:
        if not isinstance(relative_path, str):
            raise TypeError(f"{DRIVER}: a path is a str, not {type(relative_path).__name__}")
        if Path(relative_path).is_absolute():
            raise PathOutsideBaseError(
                f"{DRIVER}: {relative_path!r} is absolute; "
                f"give a path relative to base_path {str(self.root)!r}"
            )
        try:
            # resolve() follows symlinks, so a link pointing out is caught by the test below.
            resolved = (self.root / relative_path).resolve()
        except (RuntimeError, ValueError) as exc:  # a symlink loop, a NUL character
            raise ValueError(f"{DRIVER}: cannot resolve {relative_path!r}: {exc}") from exc
        if _in_a_loop(resolved):  # from Python 3.13, resolve() leaves a symlink loop in place
            raise ValueError(f"{DRIVER}: cannot resolve {relative_path!r}: a symlink loop")
        if not resolved.is_relative_to(self.root):
            raise PathOutsideBaseError(
                f"{DRIVER}: {relative_path!r} resolves outside base_path {str(self.root)!r}"
            )
        return resolved

    def _existing_root(self) -> Path:
        if not self.root.exists():
            raise FileNotFoundError(
                f"{DRIVER}: base_path {self._shown_base()} does not exist; create it, "
                f"or set create: true"
            )
        if not self.root.is_dir():
            raise NotADirectoryError(
                f"{DRIVER}: base_path {self._shown_base()} is not a directory"
            )
        return self.root

    def _shown_base(self) -> str:
        configured = self.settings.base_path
        resolved = str(self.root)
        return repr(resolved) if configured == resolved else f"{configured!r} ({resolved})"

    def _file(self, dataset: str) -> Path:
        path = self._resolve(dataset)
        if not path.exists():
            raise FileNotFoundError(
                f"{DRIVER}: no file {dataset!r} under base_path {str(self.root)!r}"
            )
        if not path.is_file():
            raise IsADirectoryError(f"{DRIVER}: {dataset!r} is not a file")
        return path

    def _readable(self, dataset: str, method: str, supported: Sequence[str]) -> tuple[Path, str]:
        path = self._file(dataset)
        fmt = formats.format_of(path)
        if fmt is None or fmt not in supported:
            what = f"{fmt or repr(path.suffix)} files" if fmt or path.suffix else "this file"
            raise NotImplementedError(
                f"{DRIVER}: {method}({dataset!r}): cannot read {what}; "
                f"it reads {', '.join(supported)}"
            )
        return path, fmt

    def _describe(self, path: Path, include_schema: bool, include_stats: bool) -> dict[str, Any]:
        fmt = formats.format_of(path) or ""
        status = path.stat()
        entry: dict[str, Any] = {
            "name": path.relative_to(self.root).as_posix(),
            "kind": "file",
            "format": fmt,
            "size_bytes": status.st_size,
            "modified": _iso(status.st_mtime),
        }
        if fmt not in formats.READABLE:
            return entry
        try:
            if include_schema:
                entry["columns"] = formats.schema(path, fmt)["columns"]
            if include_stats:
                entry["row_count"] = formats.row_count(path, fmt)
        except _READ_ERRORS as exc:  # one malformed file must not hide the others
            entry["error"] = f"{type(exc).__name__}: {exc}"
        return entry


def _data_files(top: Path, recursive: bool, root: Path) -> Iterator[Path]:
    """Data files under ``top`` (``root`` or a directory in it), sorted per directory,
    hidden ones skipped.

    Symlinked directories are not entered (no loops, no escape); a symlinked
    file is kept only when its target is a file inside ``root``.
    """
    for directory, subdirectories, files in os.walk(top):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
        for file_name in sorted(files):
            path = Path(directory, file_name)
            if file_name.startswith(".") or formats.format_of(path) is None:
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                continue
            if path.is_file():
                yield path
        if not recursive:
            return


def _column_stats(values: list[str]) -> dict[str, Any]:
    type_name = formats.infer_text_type(values)
    convert = formats.converter(type_name)
    present = [convert(value) for value in values if value]
    return {
        "type": type_name,
        "null_count": len(values) - len(present),
        "distinct_count": len(set(present)),
        "min": min(present, default=None),
        "max": max(present, default=None),
    }


def _chosen(dataset: str, header: list[str], wanted: Sequence[str] | None) -> set[str]:
    if wanted is None:
        return set(header)
    if isinstance(wanted, str):
        raise TypeError(f"{DRIVER}: columns must be a list of column names, not a str")
    for name in wanted:
        if name not in header:
            raise ValueError(
                f"{DRIVER}: {dataset!r} has no column {name!r}; it has {', '.join(header)}"
            )
    return set(wanted)


def _non_negative(argument: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{DRIVER}: {argument} must be an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{DRIVER}: {argument} must be >= 0, not {value}")
    return value


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat()


def _in_a_loop(path: Path) -> bool:
    try:
        path.stat()
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False
