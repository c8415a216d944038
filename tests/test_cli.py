"""The ``odibi-ext`` command, against fake distributions installed for real.

Most tests call :func:`odibi_ext.cli.main` in-process with ``capsys``; the ones
where a real process matters (what gets imported, a plugin that exits, hangs
or aborts, what reaches a terminal) run ``python -m odibi_ext`` and the
installed console script. Commands that load *every* driver run under a
policy whose ``allowed_distributions`` holds only this file's fake
distributions, so drivers installed in the venv by other work cannot change
the outcome (or take the test process down).
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import platform
import re
import subprocess
import sys
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import GOOD_FACTORY
from conftest import ODIBI_BUILTINS
from conftest import FakeSite

import odibi_ext
from odibi_ext.cli import main

# -- fake plugins -----------------------------------------------------------------------------

RAISES_AT_IMPORT = "raise RuntimeError('boom at import')\n"
EXITS_AT_IMPORT = "import sys\nsys.exit(3)\n"
HANGS_AT_IMPORT = "import time\ntime.sleep(60)\n"
ABORTS_AT_IMPORT = "import os\nos.abort()\n"
HARD_EXITS_AT_IMPORT = "import os\nos._exit(3)\n"

#: A factory that writes what it received, as JSON, to the file named by ``config["record"]``.
RECORDING_FACTORY = (
    GOOD_FACTORY
    + '''
import json


def create(name, config):
    """Record the config."""
    with open(config["record"], "w", encoding="utf-8") as file:
        json.dump({"name": name, "config": dict(config)}, file)
    return FakeConnection(name, config)
'''
)

#: A careless plugin: logs its whole config and puts the password in its error message.
LEAKY_FACTORY = """
import logging

LOG = logging.getLogger("fakeplugin")


class LeakyConnection:
    def __init__(self, name, config):
        self.config = dict(config)

    def get_path(self, relative_path):
        return relative_path

    def validate(self):
        raise ValueError("login failed for " + str(self.config.get("password")))


def create(name, config):
    LOG.warning("config %s", config)
    return LeakyConnection(name, config)
"""

PASSWORD = "hunter2-very-secret"
TOKEN = "tok-123456"
URL_PASSWORD = "pa55word-x"

DRIVER_KEYS = {"name", "target", "distribution", "version", "origin", "status", "load_ms", "error"}


def plugin(
    site: FakeSite,
    type_name: str,
    source: str = GOOD_FACTORY,
    *,
    dist: str | None = None,
    version: str = "1.0.0",
    module: str | None = None,
) -> str:
    """Install a distribution offering ``type_name`` from ``module:create``; its name."""
    dist = dist or f"odibi-{type_name}"
    module = module or type_name.replace("-", "_")
    site.distribution(
        dist, version, entry_points={type_name: f"{module}:create"}, modules={module: source}
    )
    return dist


def policy_file(
    directory: Path,
    *,
    allowed: Iterable[str] | None = None,
    disabled: Iterable[str] = (),
    pins: Mapping[str, str] | None = None,
    name: str = "policy.toml",
) -> Path:
    """A policy TOML file (JSON strings and arrays are valid TOML).

    An allow-list makes a world of the test's plugins alone: the built-ins of
    the installed Odibi, which an allow-list does not hide, are disabled too.
    """
    lines = ["[odibi_ext]"]
    if allowed is not None:
        lines.append(f"allowed_distributions = {json.dumps(sorted(allowed))}")
        disabled = [*disabled, *ODIBI_BUILTINS]
    if disabled:
        lines.append(f"disabled = {json.dumps(sorted(disabled))}")
    if pins:
        lines.append("[odibi_ext.pins]")
        lines.extend(f"{json.dumps(key)} = {json.dumps(value)}" for key, value in pins.items())
    path = directory / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def summary(loaded: int, failed: int = 0, conflicting: int = 0, *, disabled: int = 0) -> str:
    """``check``'s last line for the test's plugins, Odibi's disabled built-ins counted."""
    disabled += len(ODIBI_BUILTINS)
    total = loaded + failed + conflicting + disabled
    line = f"{total} driver{'' if total == 1 else 's'}: "
    line += f"{loaded} loaded, {failed} failed, {conflicting} conflicting"
    return line + (f", {disabled} disabled" if disabled else "")


def plugins_only(drivers: Any) -> Any:
    """The drivers of a JSON report without Odibi's built-ins."""
    if isinstance(drivers, dict):
        return {name: d for name, d in drivers.items() if name not in ODIBI_BUILTINS}
    return [d for d in drivers if d["name"] not in ODIBI_BUILTINS]


# -- running the command ----------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> object:
        return json.loads(self.out)


def run(capsys: pytest.CaptureFixture[str], *argv: str | os.PathLike[str]) -> Result:
    """``odibi-ext ARGV`` in-process."""
    capsys.readouterr()
    code = main([os.fspath(arg) for arg in argv])
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def console_script() -> str:
    script = Path(sys.executable).parent / "odibi-ext"
    assert script.exists(), f"the console script is not installed next to {sys.executable}"
    return str(script)


LAUNCHERS = ("module", "script")


def spawn(
    launcher: str,
    *argv: str | os.PathLike[str],
    env: Mapping[str, str],
    timeout: float = 60,
) -> Result:
    """``odibi-ext ARGV`` in a real process: ``python -m odibi_ext`` or the console script."""
    command = [sys.executable, "-m", "odibi_ext"] if launcher == "module" else [console_script()]
    done = subprocess.run(
        [*command, *(os.fspath(arg) for arg in argv)],
        env=dict(env),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def restore_root_logging() -> Iterator[None]:
    """``-v`` raises the root logger's level; put it back for the tests that follow."""
    root = logging.getLogger()
    level = root.level
    yield
    root.setLevel(level)


# -- parsing output ---------------------------------------------------------------------------


def table_rows(text: str) -> tuple[list[str], list[list[str]]]:
    """Header cells and row cells of a table (cells are separated by two or more spaces)."""
    lines = [line for line in text.splitlines() if line.strip()]
    header_at = next(i for i, line in enumerate(lines) if line.startswith("NAME "))
    split = [re.split(r" {2,}", line.rstrip()) for line in lines[header_at:]]
    header, rows = split[0], split[1:]
    return header, [row for row in rows if len(row) >= 4]


def row_for(text: str, type_name: str) -> dict[str, str]:
    header, rows = table_rows(text)
    matching = [row for row in rows if row[0] == type_name]
    assert len(matching) == 1, f"expected one row for {type_name!r} in:\n{text}"
    return dict(zip(header, matching[0]))


def detail_fields(text: str) -> dict[str, str]:
    """``label: value`` lines of ``show`` up to its candidates section.

    A long value wraps onto indented lines; they are joined back.
    """
    fields: dict[str, str] = {}
    label = ""
    for line in text.splitlines():
        if line.startswith("candidates:"):
            break
        if line.startswith(" ") and label:
            fields[label] += " " + line.strip()
            continue
        label, _, value = line.partition(":")
        fields[label] = value.strip()
    return fields


def candidate_lines(text: str) -> dict[str, str]:
    """``show``'s candidates: the line naming each one, joined to its (wrapped) verdict."""
    lines = text.splitlines()
    start = lines.index("candidates:")
    entries: dict[str, str] = {}
    current = ""
    for line in lines[start + 1 :]:
        if line.startswith(("  * ", "  - ")):
            current = line.strip()
            entries[current] = ""
        elif current:
            entries[current] = (entries[current] + " " + line.strip()).strip()
    return entries


def by_name(drivers: object) -> dict[str, dict[str, object]]:
    assert isinstance(drivers, list)
    return {driver["name"]: driver for driver in drivers}


# == list =====================================================================================


def test_list_prints_one_row_per_driver_sorted_by_name(
    site: FakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    for type_name in ("clitest-c", "clitest-a", "clitest-b"):
        plugin(site, type_name, version="2.0." + type_name[-1])

    result = run(capsys, "list")

    assert result.code == 0
    header, rows = table_rows(result.out)
    assert header == ["NAME", "STATUS", "DISTRIBUTION", "VERSION", "TARGET"]
    names = [row[0] for row in rows]
    assert names == sorted(names)
    assert [name for name in names if name.startswith("clitest-")] == [
        "clitest-a",
        "clitest-b",
        "clitest-c",
    ]
    assert row_for(result.out, "clitest-b") == {
        "NAME": "clitest-b",
        "STATUS": "available",
        "DISTRIBUTION": "odibi-clitest-b",
        "VERSION": "2.0.b",
        "TARGET": "clitest_b:create",
    }
    assert site.imports("clitest_a") == site.imports("clitest_b") == 0


@pytest.mark.parametrize("load", [False, True], ids=["list", "list-load"])
def test_list_table_fits_100_columns_cutting_a_long_target(
    site: FakeSite, capsys: pytest.CaptureFixture[str], tmp_path: Path, load: bool
) -> None:
    module = "clitest_wide_" + "m" * 130
    target = f"{module}:create"
    assert len(target) == 150
    site.distribution("odibi-clitest-wide", entry_points={"clitest-wide": target})
    good = plugin(site, "clitest-good")
    policy = policy_file(tmp_path, allowed=["odibi-clitest-wide", good])

    result = run(capsys, "--config", policy, "list", *(["--load"] if load else []))

    assert result.code == 0
    lines = result.out.splitlines()
    assert all(len(line) <= 100 for line in lines), "\n".join(lines)
    wide = next(line for line in lines if line.startswith("clitest-wide "))
    target_cell = row_for(result.out, "clitest-wide")["TARGET"]
    assert target_cell.endswith("…")
    assert target.startswith(target_cell[:-1])
    assert target not in wide
    # Odibi's built-in rows share the width: a short target may be cut too, never dropped.
    assert "clitest_good:create".startswith(
        row_for(result.out, "clitest-good")["TARGET"].removesuffix("…")
    )


def test_list_json_is_a_list_of_driver_infos_with_the_full_target(
    site: FakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    target = "clitest_wide_" + "m" * 130 + ":create"
    site.distribution("odibi-clitest-wide", "0.9", entry_points={"clitest-wide": target})
    plugin(site, "clitest-good", version="1.2.3")

    result = run(capsys, "list", "--format", "json")

    assert result.code == 0
    drivers = result.json()
    assert isinstance(drivers, list)
    assert all(driver.keys() >= DRIVER_KEYS for driver in drivers)
    names = [driver["name"] for driver in drivers]
    assert names == sorted(names)
    infos = by_name(drivers)
    assert infos["clitest-wide"]["target"] == target
    assert {key: infos["clitest-good"][key] for key in DRIVER_KEYS} == {
        "name": "clitest-good",
        "target": "clitest_good:create",
        "distribution": "odibi-clitest-good",
        "version": "1.2.3",
        "origin": "entry_point",
        "status": "available",
        "load_ms": None,
        "error": None,
    }
    assert site.imports("clitest_good") == 0


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_list_imports_no_plugin_and_list_load_imports_each_once(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path, launcher: str
) -> None:
    good = plugin(site, "clitest-good")
    bad = plugin(site, "clitest-bad", RAISES_AT_IMPORT)
    policy = policy_file(tmp_path, allowed=[good, bad])

    listed = spawn(launcher, "--config", policy, "list", env=cli_env)

    assert listed.code == 0, listed.err
    assert row_for(listed.out, "clitest-good")["STATUS"] == "available"
    assert row_for(listed.out, "clitest-bad")["STATUS"] == "available"
    assert "LOAD MS" not in listed.out
    assert site.imports("clitest_good") == 0
    assert site.imports("clitest_bad") == 0

    loaded = spawn(launcher, "--config", policy, "list", "--load", env=cli_env)

    assert loaded.code == 0, loaded.err  # list reports; it does not judge
    header, _ = table_rows(loaded.out)
    assert header == ["NAME", "STATUS", "DISTRIBUTION", "VERSION", "TARGET", "LOAD MS", "ERROR"]
    good_row = row_for(loaded.out, "clitest-good")
    assert good_row["STATUS"] == "loaded"
    assert re.fullmatch(r"\d+\.\d", good_row["LOAD MS"])
    assert good_row["ERROR"] == "-"
    bad_row = row_for(loaded.out, "clitest-bad")
    assert bad_row["STATUS"] == "failed"
    assert bad_row["LOAD MS"] == "-"
    assert bad_row["ERROR"].startswith("RuntimeError")
    assert site.imports("clitest_good") == 1
    assert site.imports("clitest_bad") == 1
    assert "Traceback" not in loaded.err


# == show =====================================================================================


def test_show_reports_provenance_and_the_module_file_without_importing(
    site: FakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin(site, "clitest-good", dist="odibi-clitest-good", version="1.2.3")

    result = run(capsys, "show", "clitest-good")

    assert result.code == 0
    fields = detail_fields(result.out)
    assert fields["name"] == "clitest-good"
    assert fields["status"] == "available"
    assert fields["origin"] == "entry_point"
    assert fields["distribution"] == "odibi-clitest-good 1.2.3"
    assert fields["target"] == "clitest_good:create"
    assert fields["module file"] == str(site.root / "clitest_good.py")
    assert Path(fields["module file"]).is_file()
    assert "load time" not in fields
    assert "signature" not in fields
    assert candidate_lines(result.out) == {
        f"* odibi-clitest-good 1.2.3 (clitest_good:create) in {site.root}": (
            "selected: the only candidate"
        )
    }
    assert site.imports("clitest_good") == 0


def test_show_finds_a_module_inside_a_package_without_importing_the_package(
    site: FakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin(site, "clitest-nested", module="clitest_pkg.drivers")

    result = run(capsys, "show", "clitest-nested", "--format", "json")

    assert result.code == 0
    info = result.json()
    assert isinstance(info, dict)
    assert info["module_file"] == str(site.root / "clitest_pkg" / "drivers.py")
    assert site.imports("clitest_pkg") == 0
    assert site.imports("clitest_pkg.drivers") == 0


def test_show_lists_every_candidate_of_a_conflicting_name(
    site: FakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin(site, "clitest-dup", dist="odibi-clitest-dup-a", version="1.0", module="dup_a")
    plugin(site, "clitest-dup", dist="odibi-clitest-dup-b", version="2.0", module="dup_b")

    table = run(capsys, "show", "clitest-dup")
    as_json = run(capsys, "show", "clitest-dup", "--format", "json")

    assert table.code == as_json.code == 0
    assert detail_fields(table.out)["status"] == "conflict"
    candidates = candidate_lines(table.out)
    assert set(candidates) == {
        f"- odibi-clitest-dup-a 1.0 (dup_a:create) in {site.root}",
        f"- odibi-clitest-dup-b 2.0 (dup_b:create) in {site.root}",
    }
    assert all(verdict.startswith("excluded: conflicts") for verdict in candidates.values())
    assert "odibi_ext.pins" in detail_fields(table.out)["error"]  # says how to settle it

    info = as_json.json()
    assert isinstance(info, dict)
    assert info["status"] == "conflict"
    assert [
        (c["distribution"], c["version"], c["target"], c["selected"]) for c in info["candidates"]
    ] == [
        ("odibi-clitest-dup-a", "1.0", "dup_a:create", False),
        ("odibi-clitest-dup-b", "2.0", "dup_b:create", False),
    ]
    assert site.imports("dup_a") == site.imports("dup_b") == 0


def test_show_of_a_pinned_name_says_why_the_other_candidate_is_excluded(
    site: FakeSite, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    plugin(site, "clitest-dup", dist="odibi-clitest-dup-a", version="1.0", module="dup_a")
    plugin(site, "clitest-dup", dist="odibi-clitest-dup-b", version="2.0", module="dup_b")
    policy = policy_file(tmp_path, pins={"clitest-dup": "odibi-clitest-dup-b"})

    result = run(capsys, "--config", policy, "show", "clitest-dup")

    assert result.code == 0
    fields = detail_fields(result.out)
    assert fields["status"] == "available"
    assert fields["distribution"] == "odibi-clitest-dup-b 2.0"
    assert fields["target"] == "dup_b:create"
    candidates = candidate_lines(result.out)
    assert candidates[f"* odibi-clitest-dup-b 2.0 (dup_b:create) in {site.root}"] == (
        "selected: pinned"
    )
    excluded = candidates[f"- odibi-clitest-dup-a 1.0 (dup_a:create) in {site.root}"]
    assert excluded.startswith("excluded:")
    assert "pinned to odibi-clitest-dup-b" in excluded
    assert str(policy) in excluded
    assert site.imports("dup_a") == site.imports("dup_b") == 0


def test_show_load_adds_signature_doc_and_load_time(
    site: FakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin(site, "clitest-good")

    result = run(capsys, "show", "clitest-good", "--load")

    assert result.code == 0
    fields = detail_fields(result.out)
    assert fields["status"] == "loaded"
    assert fields["signature"] == "(name, config)"
    assert fields["doc"] == "Create a fake connection."
    assert "not part of the first paragraph" not in result.out
    assert re.fullmatch(r"\d+\.\d ms", fields["load time"])
    assert site.imports("clitest_good") == 1


def test_show_load_of_a_failing_driver_reports_it_and_exits_0(
    site: FakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin(site, "clitest-bad", RAISES_AT_IMPORT)

    result = run(capsys, "show", "clitest-bad", "--load")

    assert result.code == 0
    fields = detail_fields(result.out)
    assert fields["status"] == "failed"
    assert fields["error"] == "RuntimeError: boom at import"
    assert "Traceback" not in result.err


def test_show_of_an_unknown_name_exits_1_with_did_you_mean(
    site: FakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin(site, "clitest-good")

    result = run(capsys, "show", "clitest-goood")

    assert result.code == 1
    assert result.out == ""
    assert "did you mean 'clitest-good'?" in result.err
    assert "Traceback" not in result.err


def test_show_json_is_one_driver_object(
    site: FakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin(site, "clitest-good", version="1.2.3")

    result = run(capsys, "show", "clitest-good", "--format", "json")

    assert result.code == 0
    info = result.json()
    assert isinstance(info, dict)
    assert info.keys() >= DRIVER_KEYS
    assert info["name"] == "clitest-good"
    assert info["distribution"] == "odibi-clitest-good"
    assert info["version"] == "1.2.3"
    assert info["module_file"] == str(site.root / "clitest_good.py")
    assert [c["distribution"] for c in info["candidates"]] == ["odibi-clitest-good"]


# == check ====================================================================================


def test_check_exits_0_when_every_driver_loads(
    site: FakeSite, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    dists = [plugin(site, "clitest-good"), plugin(site, "clitest-also-good")]
    policy = policy_file(tmp_path, allowed=dists)

    result = run(capsys, "--config", policy, "check")

    assert result.code == 0
    assert result.out.splitlines()[-1] == summary(2)
    assert row_for(result.out, "clitest-good")["STATUS"] == "loaded"
    assert row_for(result.out, "clitest-also-good")["STATUS"] == "loaded"
    assert site.imports("clitest_good") == site.imports("clitest_also_good") == 1


def test_check_exits_1_and_shows_the_error_of_a_failing_driver(
    site: FakeSite, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    dists = [plugin(site, "clitest-good"), plugin(site, "clitest-bad", RAISES_AT_IMPORT)]
    policy = policy_file(tmp_path, allowed=dists)

    result = run(capsys, "--config", policy, "check")

    assert result.code == 1
    assert result.out.splitlines()[-1] == summary(1, 1)
    bad = row_for(result.out, "clitest-bad")
    assert bad["STATUS"] == "failed"
    assert bad["ERROR"].startswith("RuntimeError")
    assert "Traceback" not in result.err


def test_check_json_reports_ok_false_and_every_driver(
    site: FakeSite, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    dists = [plugin(site, "clitest-good"), plugin(site, "clitest-bad", RAISES_AT_IMPORT)]
    policy = policy_file(tmp_path, allowed=dists)

    result = run(capsys, "--config", policy, "check", "--format", "json")

    assert result.code == 1
    report = result.json()
    assert isinstance(report, dict)
    assert set(report) == {"ok", "drivers"}
    assert report["ok"] is False
    drivers = plugins_only(by_name(report["drivers"]))
    assert set(drivers) == {"clitest-good", "clitest-bad"}
    assert all(driver.keys() >= DRIVER_KEYS for driver in drivers.values())
    assert drivers["clitest-good"]["status"] == "loaded"
    assert isinstance(drivers["clitest-good"]["load_ms"], float)
    assert drivers["clitest-bad"]["status"] == "failed"
    assert drivers["clitest-bad"]["error"] == "RuntimeError: boom at import"


def test_check_json_reports_ok_true_when_all_load(
    site: FakeSite, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = policy_file(tmp_path, allowed=[plugin(site, "clitest-good")])

    result = run(capsys, "--config", policy, "check", "--format", "json")

    assert result.code == 0
    report = result.json()
    assert isinstance(report, dict)
    assert report["ok"] is True
    assert [d["status"] for d in plugins_only(report["drivers"])] == ["loaded"]


def test_check_exits_1_for_a_conflict_without_importing_either_candidate(
    site: FakeSite, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    dists = [
        plugin(site, "clitest-good"),
        plugin(site, "clitest-dup", dist="odibi-clitest-dup-a", module="dup_a"),
        plugin(site, "clitest-dup", dist="odibi-clitest-dup-b", module="dup_b"),
    ]
    policy = policy_file(tmp_path, allowed=dists)

    result = run(capsys, "--config", policy, "check")

    assert result.code == 1
    assert result.out.splitlines()[-1] == summary(1, 0, 1)
    assert row_for(result.out, "clitest-dup")["STATUS"] == "conflict"
    assert site.imports("dup_a") == site.imports("dup_b") == 0
    assert "clitest-dup" not in result.err  # the table reports it; no duplicate log line


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_check_survives_a_plugin_calling_sys_exit_at_import(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path, launcher: str
) -> None:
    dists = [plugin(site, "clitest-good"), plugin(site, "clitest-exit", EXITS_AT_IMPORT)]
    policy = policy_file(tmp_path, allowed=dists)

    result = spawn(launcher, "--config", policy, "check", env=cli_env)

    assert result.code == 1, result.err  # not the plugin's 3
    assert result.out.splitlines()[-1] == summary(1, 1)
    exit_row = row_for(result.out, "clitest-exit")
    assert exit_row["STATUS"] == "failed"
    assert exit_row["ERROR"] == "SystemExit: 3"
    assert site.imports("clitest_exit") == 1
    assert "Traceback" not in result.err


def test_check_rejects_a_timeout_that_is_not_positive(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "check", "--isolate", "--timeout", "0")

    assert result.code == 2
    assert "--timeout" in result.err


# == check --isolate ==========================================================================


def test_check_isolate_reports_hangs_aborts_and_exits_and_returns(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path
) -> None:
    dists = [
        plugin(site, "clitest-hang", HANGS_AT_IMPORT),
        plugin(site, "clitest-abort", ABORTS_AT_IMPORT),
        plugin(site, "clitest-hard-exit", HARD_EXITS_AT_IMPORT),
        plugin(site, "clitest-off"),
        plugin(site, "clitest-dup", dist="odibi-clitest-dup-a", module="dup_a"),
        plugin(site, "clitest-dup", dist="odibi-clitest-dup-b", module="dup_b"),
    ]
    policy = policy_file(tmp_path, allowed=dists, disabled=["clitest-off"])

    # The hanging plugin sleeps 60 s: returning inside 50 s proves it was cut off.
    result = spawn(
        "module",
        "--config",
        policy,
        "check",
        "--isolate",
        "--timeout",
        "2",
        "--format",
        "json",
        env=cli_env,
        timeout=50,
    )

    assert result.code == 1, result.err
    report = result.json()
    assert isinstance(report, dict)
    assert report["ok"] is False
    drivers = plugins_only(by_name(report["drivers"]))
    assert set(drivers) == {
        "clitest-hang",
        "clitest-abort",
        "clitest-hard-exit",
        "clitest-off",
        "clitest-dup",
    }
    for name in ("clitest-hang", "clitest-abort", "clitest-hard-exit"):
        assert drivers[name]["status"] == "failed"
    assert "timed out after 2 s" in str(drivers["clitest-hang"]["error"])
    assert "process died: SIGABRT" in str(drivers["clitest-abort"]["error"])
    assert "exited with status 3" in str(drivers["clitest-hard-exit"]["error"])
    assert drivers["clitest-dup"]["status"] == "conflict"
    assert drivers["clitest-off"]["status"] == "disabled"
    # Each faulty plugin ran, in a child; the excluded ones never ran anywhere.
    assert site.imports("clitest_hang") == 1
    assert site.imports("clitest_abort") == 1
    assert site.imports("clitest_hard_exit") == 1
    assert site.imports("dup_a") == site.imports("dup_b") == 0
    assert site.imports("clitest_off") == 0
    assert "Traceback" not in result.err


def test_check_isolate_reports_a_good_driver_as_loaded(
    site: FakeSite, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = policy_file(tmp_path, allowed=[plugin(site, "clitest-good")])

    result = run(capsys, "--config", policy, "check", "--isolate", "--timeout", "20")

    assert row_for(result.out, "clitest-good")["STATUS"] == "loaded", result.out
    assert result.out.splitlines()[-1] == summary(1)
    assert result.code == 0
    assert site.imports("clitest_good") == 1  # in the child
    assert "clitest_good" not in sys.modules  # not in the parent


def test_check_isolate_reports_what_an_import_raised(
    site: FakeSite, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = policy_file(tmp_path, allowed=[plugin(site, "clitest-bad", RAISES_AT_IMPORT)])

    result = run(
        capsys, "--config", policy, "check", "--isolate", "--timeout", "20", "--format", "json"
    )

    assert result.code == 1
    report = result.json()
    assert isinstance(report, dict)
    [driver] = plugins_only(report["drivers"])
    assert driver["status"] == "failed"
    assert driver["error"] == "RuntimeError: boom at import"


# == connect ==================================================================================


@pytest.fixture
def recorded(site: FakeSite, tmp_path: Path) -> Path:
    """Install ``clitest-rec``; the file its factory writes what it received to."""
    plugin(site, "clitest-rec", RECORDING_FACTORY)
    return tmp_path / "received.json"


def received(record: Path) -> dict[str, object]:
    data = json.loads(record.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    config = data["config"]
    assert isinstance(config, dict)
    return config


def test_connect_validates_and_prints_the_config(
    site: FakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin(site, "clitest-good", version="1.2.3")

    result = run(capsys, "connect", "clitest-good", "--set", "path=x", "--name", "warehouse")

    assert result.code == 0
    lines = dict(line.split(":", 1) for line in result.out.splitlines())
    assert lines["driver"].strip() == "clitest-good (odibi-clitest-good 1.2.3)"
    assert lines["name"].strip() == "warehouse"
    assert json.loads(lines["config"]) == {"path": "x"}
    assert lines["result"].strip() == "ok"
    assert result.err == ""


def test_connect_json_reports_the_outcome(
    site: FakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin(site, "clitest-good", version="1.2.3")

    result = run(capsys, "connect", "clitest-good", "--set", "path=x", "--format", "json")

    assert result.code == 0
    assert result.json() == {
        "driver": "clitest-good",
        "name": "clitest-good",
        "distribution": "odibi-clitest-good",
        "version": "1.2.3",
        "config": {"path": "x"},
        "ok": True,
        "error": None,
    }


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_connect_exits_1_with_the_plugins_message_when_validation_fails(
    site: FakeSite, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    plugin(site, "clitest-good")

    result = run(capsys, "connect", "clitest-good", "--set", "fail=boom", "--format", fmt)

    assert result.code == 1
    assert "ValueError: validation failed: boom" in result.out
    if fmt == "json":
        report = result.json()
        assert isinstance(report, dict)
        assert report["ok"] is False
        assert report["error"] == "ValueError: validation failed: boom"
    assert "Traceback" not in result.err


@pytest.mark.parametrize("item", ["novalue", "=value"])
def test_connect_exits_2_for_a_malformed_set(
    site: FakeSite, capsys: pytest.CaptureFixture[str], item: str
) -> None:
    plugin(site, "clitest-good")

    result = run(capsys, "connect", "clitest-good", "--set", item)

    assert result.code == 2
    assert repr(item) in result.err
    assert result.out == ""
    assert site.imports("clitest_good") == 0


def test_connect_set_values_become_json_scalars_else_text(
    capsys: pytest.CaptureFixture[str], recorded: Path
) -> None:
    result = run(
        capsys,
        "connect",
        "clitest-rec",
        "--set",
        f"record={recorded}",
        *("--set", "n=5"),
        *("--set", "f=2.5"),
        *("--set", "b=true"),
        *("--set", "z=null"),
        *("--set", 's="007"'),
        *("--set", "t=text"),
        *("--set", "eq=a=b"),
        *("--set", "arr=[1, 2]"),
    )

    assert result.code == 0, result.out
    config = received(recorded)
    assert config == {
        "record": str(recorded),
        "n": 5,
        "f": 2.5,
        "b": True,
        "z": None,
        "s": "007",
        "t": "text",
        "eq": "a=b",
        "arr": "[1, 2]",
    }
    assert type(config["n"]) is int
    assert type(config["f"]) is float
    assert config["b"] is True


@pytest.mark.parametrize(
    ("filename", "text"),
    [
        ("conn.toml", 'record = "{record}"\nport = 5432\nmode = "from-file"\n'),
        ("conn.json", '{{"record": "{record}", "port": 5432, "mode": "from-file"}}'),
    ],
)
def test_connect_reads_a_config_file_and_set_overrides_it(
    capsys: pytest.CaptureFixture[str], recorded: Path, tmp_path: Path, filename: str, text: str
) -> None:
    config_file = tmp_path / filename
    config_file.write_text(text.format(record=recorded), encoding="utf-8")

    result = run(
        capsys,
        "connect",
        "clitest-rec",
        "--config-file",
        config_file,
        "--set",
        "mode=from-cli",
    )

    assert result.code == 0, result.out
    assert received(recorded) == {"record": str(recorded), "port": 5432, "mode": "from-cli"}


@pytest.mark.parametrize(
    ("filename", "text"),
    [
        ("list.json", "[1, 2]"),
        ("string.json", '"path=x"'),
        ("broken.json", '{"path": '),
        ("broken.toml", "path = [unclosed\n"),
        ("neither.cfg", "this is : not { either\n"),
        ("missing.json", None),
    ],
)
def test_connect_exits_2_for_a_config_file_that_is_not_a_mapping(
    site: FakeSite, capsys: pytest.CaptureFixture[str], tmp_path: Path, filename: str, text: str
) -> None:
    plugin(site, "clitest-good")
    config_file = tmp_path / filename
    if text is not None:
        config_file.write_text(text, encoding="utf-8")

    result = run(capsys, "connect", "clitest-good", "--config-file", config_file)

    assert result.code == 2
    assert str(config_file) in result.err
    assert "Traceback" not in result.err
    assert site.imports("clitest_good") == 0


def test_connect_to_an_unknown_driver_exits_1(
    site: FakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin(site, "clitest-good")

    result = run(capsys, "connect", "clitest-goood", "--set", "path=x")

    assert result.code == 1
    assert "no driver named 'clitest-goood'" in result.out
    assert "did you mean 'clitest-good'?" in result.out
    assert "Traceback" not in result.err


def test_connect_to_a_driver_that_fails_to_load_exits_1(
    site: FakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin(site, "clitest-bad", RAISES_AT_IMPORT)

    result = run(capsys, "connect", "clitest-bad", "--format", "json")

    assert result.code == 1
    report = result.json()
    assert isinstance(report, dict)
    assert report["ok"] is False
    assert "RuntimeError: boom at import" in str(report["error"])
    assert "Traceback" not in result.err


# == secrets ==================================================================================

SECRET_ARGS = (
    *("--set", f"password={PASSWORD}"),
    *("--set", f"api_token={TOKEN}"),
    *("--set", "path=x"),
    *("--set", f"url=postgresql://user:{URL_PASSWORD}@host/db"),
)


def assert_no_secret_in(result: Result) -> None:
    everything = result.out + result.err
    for secret in (PASSWORD, TOKEN, URL_PASSWORD):
        assert secret not in everything, f"{secret!r} leaked:\n{everything}"
    assert "***" in result.out
    assert "postgresql://user:***@host/db" in result.out
    assert "login failed for ***" in result.out  # the plugin's message, scrubbed
    assert "fakeplugin" in result.err  # the plugin's log line did reach stderr, scrubbed
    assert "***" in result.err


@pytest.mark.parametrize(("fmt", "launcher"), [("table", "script"), ("json", "module")])
def test_connect_never_prints_a_secret(
    site: FakeSite, cli_env: dict[str, str], fmt: str, launcher: str
) -> None:
    plugin(site, "clitest-leaky", LEAKY_FACTORY)

    result = spawn(
        launcher, "connect", "clitest-leaky", *SECRET_ARGS, "--format", fmt, env=cli_env
    )

    assert result.code == 1  # the plugin's validate() fails
    assert_no_secret_in(result)
    if fmt == "json":
        report = result.json()
        assert isinstance(report, dict)
        assert report["config"]["password"] == "***"
        assert report["config"]["api_token"] == "***"
        assert report["config"]["path"] == "x"


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_connect_verbose_never_prints_a_secret(
    site: FakeSite, cli_env: dict[str, str], fmt: str
) -> None:
    plugin(site, "clitest-leaky", LEAKY_FACTORY)

    result = spawn(
        "module", "-v", "connect", "clitest-leaky", *SECRET_ARGS, "--format", fmt, env=cli_env
    )

    assert result.code == 1
    assert "DEBUG" in result.err  # -v took effect
    assert_no_secret_in(result)


# == global options ===========================================================================


def test_a_missing_policy_file_exits_2_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-policy.toml"

    result = run(capsys, "--config", missing, "list")

    assert result.code == 2
    assert str(missing) in result.err
    assert "Traceback" not in result.err
    assert result.out == ""


def test_a_policy_file_that_is_not_toml_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[odibi_ext\non_conflict = \n", encoding="utf-8")

    result = run(capsys, "--config", bad, "list")

    assert result.code == 2
    assert str(bad) in result.err
    assert "TOML" in result.err
    assert "Traceback" not in result.err


def test_a_policy_file_with_an_unknown_key_exits_2_naming_the_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "typo.toml"
    bad.write_text('[odibi_ext]\n[odibi_ext.pinz]\nsqlite = "odibi-sqlite"\n', encoding="utf-8")

    result = run(capsys, "--config", bad, "check")

    assert result.code == 2
    assert "'pinz'" in result.err
    assert "Traceback" not in result.err


def test_config_option_and_environment_variable_give_the_same_listing(
    site: FakeSite,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shown = plugin(site, "clitest-good")
    plugin(site, "clitest-hidden")
    policy = policy_file(tmp_path, allowed=[shown])

    by_option = run(capsys, "--config", policy, "list", "--format", "json")
    monkeypatch.setenv("ODIBI_EXT_CONFIG", str(policy))
    by_env = run(capsys, "list", "--format", "json")

    assert by_option.code == by_env.code == 0
    assert by_option.out == by_env.out
    assert [driver["name"] for driver in plugins_only(by_env.json())] == ["clitest-good"]


@pytest.mark.parametrize(
    "spelling",
    [
        ["--config", "{policy}"],
        ["--config={policy}"],
        ["--conf", "{policy}"],
        ["--conf={policy}"],
        ["-q", "--co", "{policy}"],
    ],
    ids=["full", "full-equals", "abbreviated", "abbreviated-equals", "after-a-flag"],
)
@pytest.mark.odibi
def test_global_options_are_read_the_same_before_every_command(
    cli_env: dict[str, str], tmp_path: Path, spelling: list[str]
) -> None:
    """Issue 18 (LOW): ``--conf policy.toml odibi --version`` exited 2 ("unrecognized
    arguments: --version") while ``--conf`` worked for ``list``."""
    good = policy_file(tmp_path, allowed=["odibi-nothing-here"])
    bad = tmp_path / "typo.toml"
    bad.write_text('[odibi_ext]\n[odibi_ext.pinz]\nsqlite = "odibi-sqlite"\n', encoding="utf-8")
    odibi = importlib.metadata.version("odibi")

    def options(policy: Path) -> list[str]:
        return [word.format(policy=policy) for word in spelling]

    listing = spawn("script", *options(good), "list", "--format", "json", env=cli_env)
    odibi_version = spawn("script", *options(good), "odibi", "--version", env=cli_env)
    refused = [
        spawn("script", *options(bad), *command, env=cli_env)
        for command in (["list"], ["odibi", "--version"])
    ]

    assert listing.code == 0, listing.err
    assert plugins_only(listing.json()) == []  # the policy file was read
    assert odibi_version.code == 0, odibi_version.err
    assert odibi_version.out.strip() == f"odibi {odibi}"
    for result in refused:  # the policy file was read before Odibi's command line ran
        assert result.code == 2, result.err
        assert "'pinz'" in result.err
        assert "unrecognized arguments" not in result.err


def test_version_names_odibi_ext_stevedore_and_python(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "--version")

    assert result.code == 0
    assert result.out.startswith(f"odibi-ext {odibi_ext.__version__} ")
    assert f"stevedore {importlib.metadata.version('stevedore')}" in result.out
    assert f"Python {platform.python_version()}" in result.out


@pytest.mark.parametrize(
    ("argv", "options"),
    [
        (
            [],
            ["--config", "--verbose", "--quiet", "--version", "list", "show", "check", "connect"],
        ),
        (["list"], ["--format", "--load"]),
        (["show"], ["--format", "--load", "NAME"]),
        (["check"], ["--format", "--isolate", "--timeout", "--jobs"]),
        (["connect"], ["--format", "--name", "--set", "--config-file", "TYPE"]),
    ],
    ids=["main", "list", "show", "check", "connect"],
)
def test_help_mentions_every_option_and_an_example(
    capsys: pytest.CaptureFixture[str], argv: list[str], options: list[str]
) -> None:
    result = run(capsys, *argv, "--help")

    assert result.code == 0
    assert result.out.startswith("usage: odibi-ext")
    for option in options:
        assert option in result.out
    assert "example" in result.out


@pytest.mark.parametrize(
    "argv",
    [
        ["frobnicate"],
        ["list", "--format", "yaml"],
        ["check", "--timeout", "soon"],
        [],
        ["-v", "-q", "list"],
    ],
    ids=["unknown-command", "bad-format", "bad-timeout", "no-command", "verbose-and-quiet"],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    result = run(capsys, *argv)

    assert result.code == 2
    assert "usage: odibi-ext" in result.err
    assert "error:" in result.err
    assert result.out == ""


def test_python_m_and_the_console_script_print_the_same_json(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path
) -> None:
    # Only this test's drivers: another install landing between the two runs cannot differ them.
    policy = policy_file(
        tmp_path, allowed=[plugin(site, "clitest-good"), plugin(site, "clitest-b")]
    )

    as_module = spawn("module", "--config", policy, "list", "--format", "json", env=cli_env)
    as_script = spawn("script", "--config", policy, "list", "--format", "json", env=cli_env)

    assert as_module.code == as_script.code == 0
    assert as_module.out == as_script.out
    assert list(plugins_only(by_name(json.loads(as_script.out)))) == ["clitest-b", "clitest-good"]


# == verbosity ================================================================================


@pytest.fixture
def failing_policy(site: FakeSite, tmp_path: Path) -> Path:
    """A good and a failing driver, and a policy that shows only them."""
    dists = [plugin(site, "clitest-good"), plugin(site, "clitest-bad", RAISES_AT_IMPORT)]
    return policy_file(tmp_path, allowed=dists)


def test_quiet_prints_nothing_on_stderr(
    capsys: pytest.CaptureFixture[str], failing_policy: Path
) -> None:
    result = run(capsys, "-q", "--config", failing_policy, "list", "--load")

    assert result.code == 0
    assert result.err == ""
    assert row_for(result.out, "clitest-bad")["STATUS"] == "failed"


def test_default_verbosity_does_not_repeat_what_the_table_reports(
    capsys: pytest.CaptureFixture[str], failing_policy: Path
) -> None:
    result = run(capsys, "--config", failing_policy, "list", "--load")

    assert result.code == 0
    assert row_for(result.out, "clitest-bad")["STATUS"] == "failed"
    assert "clitest-bad" not in result.err
    assert "boom at import" not in result.err


@pytest.mark.parametrize(
    "argv",
    [["show", "clitest-bad", "--load"], ["connect", "clitest-bad"]],
    ids=["show", "connect"],
)
def test_default_verbosity_does_not_repeat_a_single_drivers_failure(
    capsys: pytest.CaptureFixture[str], failing_policy: Path, argv: list[str]
) -> None:
    result = run(capsys, "--config", failing_policy, *argv)

    assert "RuntimeError: boom at import" in result.out
    assert "clitest-bad" not in result.err


@pytest.mark.usefixtures("restore_root_logging")
def test_verbose_logs_debug_and_the_traceback_of_a_plugin_failure(
    capsys: pytest.CaptureFixture[str], failing_policy: Path
) -> None:
    result = run(capsys, "-v", "--config", failing_policy, "list", "--load")

    assert result.code == 0
    assert "odibi-ext: DEBUG: " in result.err
    assert "loaded driver 'clitest-good'" in result.err
    assert "odibi-ext: ERROR: odibi_ext.registry: driver 'clitest-bad' failed" in result.err
    assert "Traceback (most recent call last)" in result.err
    assert "raise RuntimeError('boom at import')" in result.err
    assert "RuntimeError: boom at import" in result.err


@pytest.mark.usefixtures("restore_root_logging")
def test_main_leaves_the_root_logger_level_as_it_found_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    root.setLevel(logging.WARNING)

    run(capsys, "-v", "list", "--format", "json")

    assert root.level == logging.WARNING
