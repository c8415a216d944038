"""Odibi's and odibi-ext's listing commands on this Odibi release: no traceback on any.

Odibi has these commands in 2.8.0 to 2.18.0 and from 3.4.2 on. Where it has
them, odibi-ext's plugins show up in them; where it does not, ``odibi-ext
odibi list`` is Odibi's own usage error: no traceback either way.
``odibi-ext check`` loads this release's built-ins and the samples.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from plugin_kit import odibi_ext_command
from plugin_kit import run_process
from release_kit import HAS_LIST_COMMAND
from release_kit import TIMEOUT_S
from release_kit import VERSION
from release_kit import child_env
from release_kit import expected_builtins
from release_kit import odibi_ext_odibi


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["list", "connections"], ["local", "localfs", "sqlite"]),
        (["explain", "sqlite"], ["sqlite"]),
    ],
    ids=["list", "explain"],
)
def test_odibi_s_listing_commands_show_plugins_where_the_release_has_them(
    tmp_path: Path, args: list[str], shown: list[str]
) -> None:
    result = odibi_ext_odibi(args, cwd=tmp_path, env=child_env(tmp_path / "cache"))

    output = result.stdout + result.stderr
    assert "Traceback" not in output
    if HAS_LIST_COMMAND:
        assert result.returncode == 0, output[-3000:]
        listed = result.stdout.split()
        for name in shown:
            assert name in listed, (name, result.stdout[-3000:])
    else:
        assert result.returncode == 2, output[-3000:]  # argparse's usage error
        assert f"invalid choice: '{args[0]}'" in result.stderr


def test_odibi_ext_check_loads_this_release_s_builtins_and_the_samples(tmp_path: Path) -> None:
    result = run_process(
        [*odibi_ext_command(), "check", "--format", "json"],
        child_env(tmp_path / "cache"),
        cwd=tmp_path,
        timeout=TIMEOUT_S,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    drivers = {entry["name"]: entry for entry in report["drivers"]}
    for name in expected_builtins():
        assert (drivers[name]["status"], drivers[name]["origin"]) == ("loaded", "builtin"), name
        assert drivers[name]["version"] == VERSION, name
    for name, distribution in (("sqlite", "odibi-sqlite"), ("localfs", "odibi-localfs")):
        assert (drivers[name]["status"], drivers[name]["distribution"]) == ("loaded", distribution)
