"""Policies that cannot do what the operator meant say so.

A name listed twice by one distribution is that distribution's fault, which
no pin can fix; a name in the policy that matches nothing installed is most
likely a typo; a policy that leaves nothing to check makes ``check`` fail.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from conftest import GOOD_FACTORY
from conftest import FakeSite
from test_cli import by_name
from test_cli import plugin
from test_cli import policy_file
from test_cli import spawn

from odibi_ext import ConnectionRegistry
from odibi_ext import DriverConflictError
from odibi_ext import Policy


def listed_twice(site: FakeSite) -> None:
    """odibi-twice lists ``twice`` twice, with two targets, in its own entry_points.txt."""
    site.distribution(
        "odibi-twice",
        entry_points_text="[odibi.connections]\ntwice = twice_a:create\ntwice = twice_b:create\n",
        modules={"twice_a": GOOD_FACTORY, "twice_b": GOOD_FACTORY},
    )


def test_a_name_listed_twice_by_one_distribution_blames_its_metadata(site: FakeSite) -> None:
    listed_twice(site)
    registry = ConnectionRegistry(policy=Policy(allowed_distributions={"odibi-twice"}))

    with pytest.raises(DriverConflictError) as caught:
        registry.get("twice")

    message = str(caught.value)
    assert (
        "offered 2 times by odibi-twice 1.0.0 itself (twice_a:create, twice_b:create)" in message
    )
    assert "its own metadata (entry_points.txt)" in message
    assert "Report it to the maintainers of odibi-twice" in message
    assert "Pin the one" not in message  # a pin cannot choose inside one distribution
    assert "uninstall the unwanted" not in message
    assert site.imports("twice_a") == site.imports("twice_b") == 0


def test_a_pin_to_that_distribution_keeps_saying_so(site: FakeSite) -> None:
    listed_twice(site)
    registry = ConnectionRegistry(policy=Policy(pins={"twice": "odibi-twice"}))

    with pytest.raises(DriverConflictError, match="its own metadata"):
        registry.get("twice")


def test_on_conflict_first_takes_one_of_the_two(site: FakeSite) -> None:
    listed_twice(site)
    registry = ConnectionRegistry(policy=Policy(on_conflict="first"))

    registry.get("twice")

    assert site.imports("twice_a") + site.imports("twice_b") == 1


def test_a_distribution_repeating_a_name_among_others_is_named(site: FakeSite) -> None:
    listed_twice(site)
    plugin(site, "twice", dist="odibi-other", module="twice_other")
    registry = ConnectionRegistry(
        policy=Policy(allowed_distributions={"odibi-twice", "odibi-other"})
    )

    with pytest.raises(DriverConflictError) as caught:
        registry.get("twice")

    message = str(caught.value)
    assert "offered by 3 providers" in message
    assert "odibi-twice itself lists the name more than once" in message


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_check_reports_the_repeated_name_as_the_distributions_fault(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path, fmt: str
) -> None:
    listed_twice(site)
    policy = policy_file(tmp_path, allowed=["odibi-twice"])

    result = spawn("module", "--config", policy, "check", "--format", fmt, env=cli_env)

    assert result.code == 1
    if fmt == "json":
        driver = by_name(result.json()["drivers"])["twice"]  # type: ignore[index]
        assert driver["status"] == "conflict"
        assert "its own metadata" in str(driver["error"])
    else:
        assert "offered 2 times by odibi-twice 1.0.0 itself" in result.out.replace("\n    ", " ")


# -- names matching nothing installed ---------------------------------------------------------


@pytest.fixture
def typos(site: FakeSite, tmp_path: Path) -> Path:
    plugin(site, "clitest-alpha", dist="odibi-alpha")
    plugin(site, "clitest-beta", dist="odibi-beta")
    path = tmp_path / "typos.toml"
    path.write_text(
        "[odibi_ext]\n"
        'allowed_distributions = ["odibi-alpa", "odibi-beta"]\n'
        'disabled = ["clitest-betta"]\n'
        "[odibi_ext.pins]\n"
        '"clitest-alfa" = "odibi-alpha"\n'
        '"clitest-beta" = "odibi-bta"\n',
        encoding="utf-8",
    )
    return path


def test_every_policy_name_matching_nothing_installed_warns_with_a_did_you_mean(
    typos: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="odibi_ext"):
        ConnectionRegistry(policy=Policy.from_file(typos)).names()

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    expected = [
        ("pins names 'clitest-alfa'", "did you mean 'clitest-alpha'?"),
        ("disabled names 'clitest-betta'", "did you mean 'clitest-beta'?"),
        ("allowed_distributions names 'odibi-alpa'", "did you mean 'odibi-alpha'?"),
        ("pins names 'odibi-bta'", "did you mean 'odibi-beta'?"),
    ]
    for key, suggestion in expected:
        [warning] = [w for w in warnings if key in w]
        assert suggestion in warning
        assert str(typos) in warning
    assert not any("odibi-beta'," in w or "names 'odibi-beta'" in w for w in warnings)


def test_a_policy_matching_what_is_installed_warns_nothing(
    site: FakeSite, caplog: pytest.LogCaptureFixture
) -> None:
    plugin(site, "clitest-alpha", dist="odibi-alpha")
    policy = Policy(
        pins={"clitest-alpha": "Odibi_Alpha"},  # normalized as pip does
        disabled=frozenset({"clitest-alpha"}),
        allowed_distributions=frozenset({"odibi-alpha"}),
    )

    with caplog.at_level(logging.WARNING, logger="odibi_ext"):
        ConnectionRegistry(policy=policy).names()

    assert [r for r in caplog.records if "names '" in r.getMessage()] == []


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_the_cli_shows_the_warnings_on_stderr_and_keeps_json_clean(
    typos: Path, cli_env: dict[str, str], fmt: str
) -> None:
    result = spawn("module", "--config", typos, "list", "--format", fmt, env=cli_env)

    assert result.code == 0
    assert "WARNING" in result.err
    assert "did you mean 'odibi-alpha'?" in result.err
    if fmt == "json":
        names = {d["name"] for d in json.loads(result.out)}
        assert "clitest-beta" in names  # Odibi's built-ins may be listed beside it
        assert "clitest-alpha" not in names


# -- a policy that leaves nothing to check ----------------------------------------------------


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_check_fails_when_the_policy_leaves_nothing_to_check(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path, fmt: str
) -> None:
    plugin(site, "clitest-only", dist="odibi-only")
    policy = policy_file(tmp_path, allowed=["odbi-only"])  # the typo of the issue

    result = spawn("module", "--config", policy, "check", "--format", fmt, env=cli_env)

    assert result.code == 1
    assert "nothing to check" in result.err
    assert str(policy) in result.err
    assert "did you mean 'odibi-only'?" in result.err
    if fmt == "json":
        report = result.json()
        assert report["ok"] is False  # type: ignore[index]
        assert "nothing to check" in report["error"]  # type: ignore[index]


@pytest.mark.odibi
def test_odibi_built_ins_left_by_the_policy_do_not_hide_the_typo(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path
) -> None:
    plugin(site, "clitest-only", dist="odibi-only")
    policy = tmp_path / "typo.toml"
    # No built-in disabled: an allow-list does not hide them, so they are left to check.
    policy.write_text('[odibi_ext]\nallowed_distributions = ["odbi-only"]\n', encoding="utf-8")

    result = spawn("module", "--config", policy, "check", "--format", "json", env=cli_env)

    drivers = result.json()["drivers"]  # type: ignore[index]
    assert {d["origin"] for d in drivers} == {"builtin"}  # Odibi's, all of them loaded
    assert result.code == 1
    assert "nothing to check" in result.json()["error"]  # type: ignore[index]
    assert "did you mean 'odibi-only'?" in result.err


def test_check_fails_when_the_policy_disables_everything(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path
) -> None:
    dist = plugin(site, "clitest-only", dist="odibi-only")
    policy = policy_file(tmp_path, allowed=[dist], disabled=["clitest-only"])

    result = spawn("module", "--config", policy, "check", env=cli_env)

    assert result.code == 1
    assert "nothing to check" in result.err
    assert re.search(r"leaves none of the \d+ drivers .*, [1-9]\d* disabled\)", result.err)


def test_check_passes_when_the_policy_leaves_a_driver_to_check(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path
) -> None:
    dist = plugin(site, "clitest-only", dist="odibi-only")
    policy = policy_file(tmp_path, allowed=[dist])

    result = spawn("module", "--config", policy, "check", env=cli_env)

    assert result.code == 0, result.err
    assert "nothing to check" not in result.err
