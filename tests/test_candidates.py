"""``ConnectionRegistry.candidates``: who offers a type name, read from metadata only."""

from __future__ import annotations

import pytest

from odibi_ext import ConnectionRegistry
from odibi_ext.policy import Policy
from tests.conftest import GOOD_FACTORY
from tests.conftest import FakeSite


def test_candidates_name_every_provider_and_import_none(site: FakeSite) -> None:
    site.distribution(
        "odibi-one",
        "1.2.0",
        entry_points={"twin": "one_mod:create"},
        modules={"one_mod": GOOD_FACTORY},
    )
    site.distribution(
        "odibi-two",
        "2.0.0",
        entry_points={"twin": "two_mod:create"},
        modules={"two_mod": GOOD_FACTORY},
    )
    registry = ConnectionRegistry(policy=Policy(pins={"twin": "odibi-two"}))

    candidates = registry.candidates("twin")

    assert [(c.distribution, c.version, c.target) for c in candidates] == [
        ("odibi-one", "1.2.0", "one_mod:create"),
        ("odibi-two", "2.0.0", "two_mod:create"),
    ]
    assert [c.selected for c in candidates] == [False, True]
    assert site.imports("one_mod") == site.imports("two_mod") == 0


def test_candidates_of_a_name_nothing_installed_offers_are_none(site: FakeSite) -> None:
    registry = ConnectionRegistry(policy=Policy())

    assert registry.candidates("nothing-offers-this") == ()


@pytest.mark.odibi
def test_odibi_s_builtins_are_candidates_of_origin_builtin() -> None:
    [candidate] = ConnectionRegistry(policy=Policy()).candidates("http")

    assert candidate.origin == "builtin"
    assert candidate.distribution == "odibi"
    assert candidate.target.startswith("odibi.connections.factory:")
