"""``odibi list connections`` and ``odibi explain`` under odibi-ext, on this Odibi release.

Odibi has these commands in 2.8.0 to 2.18.0 and from 3.4.2 on. Where it has
them, odibi-ext's plugins show up in them; where it does not, ``odibi-ext
odibi list`` is Odibi's own usage error: no traceback either way.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from release_kit import HAS_LIST_COMMAND
from release_kit import child_env
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
