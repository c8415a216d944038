"""No code runs that the operator excluded: in the API, list, show, check and check --isolate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import GOOD_FACTORY
from conftest import ODIBI_BUILTINS
from conftest import FakeSite

from odibi_ext import ConnectionRegistry
from odibi_ext import Policy

EXCLUDED = ("store_evil", "sneaky_mod", "legacy_mod")


@pytest.fixture
def locked_down(site: FakeSite, tmp_path: Path) -> Path:
    """A store offered twice, an untrusted distribution, a disabled driver; and a policy."""
    site.distribution(
        "odibi-store",
        entry_points={"store": "store_real:create"},
        modules={"store_real": GOOD_FACTORY},
    )
    site.distribution(
        "evil-store",
        entry_points={"store": "store_evil:create"},
        modules={"store_evil": GOOD_FACTORY},
    )
    site.distribution(
        "untrusted",
        entry_points={"sneaky": "sneaky_mod:create"},
        modules={"sneaky_mod": GOOD_FACTORY},
    )
    site.distribution(
        "odibi-legacy",
        entry_points={"legacy": "legacy_mod:create"},
        modules={"legacy_mod": GOOD_FACTORY},
    )
    policy = tmp_path / "policy.toml"
    # Odibi's built-ins are not the subject here (an allow-list does not hide them).
    disabled = json.dumps(["legacy", *ODIBI_BUILTINS])
    policy.write_text(
        "[odibi_ext]\n"
        'allowed_distributions = ["odibi-store", "evil-store", "odibi-legacy"]\n'
        f"disabled = {disabled}\n"
        "[odibi_ext.pins]\n"
        'store = "odibi-store"\n'
    )
    return policy


def test_the_api_never_imports_excluded_code(site: FakeSite, locked_down: Path) -> None:
    registry = ConnectionRegistry(policy=Policy.from_file(locked_down))

    registry.load_all()
    registry.get("store")
    for name in registry.names():
        registry.info(name)

    assert sorted(set(registry.names()) - set(ODIBI_BUILTINS)) == ["legacy", "store"]
    assert site.imports("store_real") == 1
    assert [site.imports(module) for module in EXCLUDED] == [0, 0, 0]


@pytest.mark.parametrize(
    "command",
    [
        ["list"],
        ["list", "--load"],
        ["show", "store", "--load"],
        ["show", "legacy", "--load"],
        ["check"],
        ["check", "--isolate", "--timeout", "20"],
        ["connect", "store"],
    ],
    ids=" ".join,
)
def test_no_command_imports_excluded_code(
    site: FakeSite,
    locked_down: Path,
    subprocess_env: dict[str, str],
    tmp_path: Path,
    command: list[str],
) -> None:
    env = dict(subprocess_env, ODIBI_EXT_CACHE_DIR=str(tmp_path / "cache"))

    result = subprocess.run(
        [sys.executable, "-m", "odibi_ext", "--config", str(locked_down), *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    assert [site.imports(module) for module in EXCLUDED] == [0, 0, 0]
    assert "sneaky" not in result.stdout
