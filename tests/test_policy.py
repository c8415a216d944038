"""Conflicts, pins, allow-lists and disabled names: decided before any plugin is imported."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from conftest import GOOD_FACTORY
from conftest import FakeSite

from odibi_ext import ConnectionRegistry
from odibi_ext import DriverConflictError
from odibi_ext import DriverNotFoundError
from odibi_ext import Policy


@pytest.fixture
def clash(site: FakeSite) -> FakeSite:
    """Two distributions offering the type name ``store``."""
    site.distribution(
        "odibi-store",
        "1.0.0",
        entry_points={"store": "store_real:create"},
        modules={"store_real": GOOD_FACTORY},
    )
    site.distribution(
        "evil-store",
        "6.6.6",
        entry_points={"store": "store_evil:create"},
        modules={"store_evil": GOOD_FACTORY},
    )
    return site


def test_a_name_offered_twice_is_a_conflict_and_imports_neither(
    clash: FakeSite, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="odibi_ext")
    reg = ConnectionRegistry(policy=Policy())

    info = reg.info("store")
    assert info.status == "conflict"
    assert "store" in reg.names()
    with pytest.raises(DriverConflictError) as caught:
        reg.get("store")

    error = caught.value
    message = str(error)
    for part in (
        "odibi-store 1.0.0",
        "store_real:create",
        "evil-store 6.6.6",
        "store_evil:create",
        "odibi_ext.pins",
        'store = "',
    ):
        assert part in message
    assert sorted(error.candidates) == [
        ("evil-store", "6.6.6", "store_evil:create"),
        ("odibi-store", "1.0.0", "store_real:create"),
    ]
    assert clash.imports("store_real") == 0
    assert clash.imports("store_evil") == 0
    assert any(r.levelno == logging.WARNING and "store" in r.getMessage() for r in caplog.records)

    reg.load_all()
    assert clash.imports("store_real") == 0
    assert clash.imports("store_evil") == 0
    assert reg.info("store").status == "conflict"


def test_a_pin_settles_a_conflict_without_importing_the_other(clash: FakeSite) -> None:
    reg = ConnectionRegistry(policy=Policy(pins={"store": "odibi_store"}))  # any spelling

    assert reg.get("store").__module__ == "store_real"
    reg.load_all()

    assert clash.imports("store_real") == 1
    assert clash.imports("store_evil") == 0
    info = reg.info("store")
    assert info.status == "loaded"
    assert info.distribution == "odibi-store"
    excluded = [c for c in info.candidates if not c.selected]
    assert [c.distribution for c in excluded] == ["evil-store"]
    assert "pinned to odibi_store" in (excluded[0].reason or "")


def test_a_pin_to_an_absent_distribution_makes_the_name_unusable(clash: FakeSite) -> None:
    reg = ConnectionRegistry(policy=Policy(pins={"store": "odibi-store-pro"}))

    with pytest.raises(DriverNotFoundError, match="pinned to distribution 'odibi-store-pro'"):
        reg.get("store")
    assert reg.info("store").status == "failed"
    assert "store" in reg.failures()
    assert clash.imports("store_real") == clash.imports("store_evil") == 0


@pytest.mark.parametrize(("rule", "winner"), [("first", "store_real"), ("last", "store_evil")])
def test_first_and_last_follow_sys_path_order(
    site: FakeSite,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    rule: str,
    winner: str,
) -> None:
    import sys

    later = tmp_path / "later"
    later.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(later)])
    # Named so that alphabetical order and sys.path order disagree.
    site.distribution(
        "zzz-store",
        entry_points={"store": "store_real:create"},
        modules={"store_real": GOOD_FACTORY},
    )
    site.distribution(
        "aaa-store",
        entry_points={"store": "store_evil:create"},
        modules={"store_evil": GOOD_FACTORY},
        root=later,
    )
    caplog.set_level(logging.WARNING, logger="odibi_ext")

    reg = ConnectionRegistry(policy=Policy(on_conflict=rule))  # type: ignore[arg-type]

    assert reg.get("store").__module__ == winner
    loser = "store_evil" if winner == "store_real" else "store_real"
    assert site.imports(loser) == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("ignoring" in w and loser in w for w in warnings)


def test_allowed_distributions_hide_the_rest_and_import_none_of_it(clash: FakeSite) -> None:
    clash.distribution(
        "untrusted",
        entry_points={"sneaky": "sneaky_mod:create"},
        modules={"sneaky_mod": GOOD_FACTORY},
    )
    reg = ConnectionRegistry(policy=Policy(allowed_distributions={"odibi-store"}))

    assert "sneaky" not in reg.names()
    assert "sneaky" not in reg
    assert reg.info("store").status == "available"  # the evil candidate no longer competes
    reg.load_all()
    with pytest.raises(DriverNotFoundError, match="outside allowed_distributions") as caught:
        reg.get("sneaky")
    assert "untrusted" in str(caught.value)
    assert clash.imports("sneaky_mod") == 0
    assert clash.imports("store_evil") == 0
    assert clash.imports("store_real") == 1


def test_a_disabled_name_is_never_imported(site: FakeSite) -> None:
    site.distribution(
        "odibi-legacy",
        entry_points={"legacy": "legacy_mod:create"},
        modules={"legacy_mod": GOOD_FACTORY},
    )
    policy = Policy(disabled={"legacy"}, source="/etc/odibi/policy.toml")
    reg = ConnectionRegistry(policy=policy)

    assert reg.info("legacy").status == "disabled"
    assert "legacy" in reg.names()
    reg.load_all()
    with pytest.raises(
        DriverNotFoundError, match=r"disabled by policy file /etc/odibi/policy\.toml"
    ):
        reg.get("legacy")
    assert site.imports("legacy_mod") == 0
    assert "legacy" not in reg.failures()


def test_default_registry_policy_comes_from_the_environment(
    clash: FakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "policy.toml"
    config.write_text('[odibi_ext]\n[odibi_ext.pins]\nstore = "odibi-store"\n')
    monkeypatch.setenv("ODIBI_EXT_CONFIG", str(config))

    reg = ConnectionRegistry()

    assert reg.policy.source == str(config)
    assert reg.get("store").__module__ == "store_real"


def test_policy_is_frozen_and_copies_its_inputs() -> None:
    pins = {"sqlite": "odibi-sqlite"}
    policy = Policy(pins=pins, disabled=["a"], allowed_distributions=("odibi-sqlite",))
    pins["sqlite"] = "evil"

    assert policy.pins == {"sqlite": "odibi-sqlite"}
    assert policy.disabled == frozenset({"a"})
    assert policy.allowed_distributions == frozenset({"odibi-sqlite"})
    assert hash(policy) == hash(
        Policy(
            pins={"sqlite": "odibi-sqlite"}, disabled={"a"}, allowed_distributions={"odibi-sqlite"}
        )
    )
    with pytest.raises(AttributeError):
        policy.on_conflict = "last"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"on_conflict": "random"}, ValueError),
        ({"pins": ["sqlite"]}, TypeError),
        ({"pins": {"sqlite": 3}}, TypeError),
        ({"disabled": "legacy"}, TypeError),
        ({"allowed_distributions": [1, 2]}, TypeError),
    ],
)
def test_policy_rejects_bad_values(arguments: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        Policy(**arguments)  # type: ignore[arg-type]
