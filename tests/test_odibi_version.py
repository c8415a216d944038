"""The Odibi version ``install()`` checks, read from the metadata headers only.

``Distribution.version`` parses the whole ``METADATA`` with the email parser
(about 10 ms for Odibi's, at every ``odibi-ext odibi`` start-up); odibi-ext
reads the ``Version`` header and stops at the end of the headers.
"""

from __future__ import annotations

import importlib.metadata

import pytest

from odibi_ext import OdibiExtError
from odibi_ext import odibi as integration
from odibi_ext.odibi.versions import version_of
from odibi_ext.policy import Policy
from odibi_ext.registry import ConnectionRegistry
from tests.conftest import FakeSite


@pytest.mark.odibi
def test_the_installed_odibi_s_version_is_what_importlib_metadata_parses() -> None:
    dist = importlib.metadata.distribution("odibi")

    assert version_of(dist) == dist.version == "3.15.1"


def refusal() -> str:
    """The message of the OdibiExtError ``install()`` refuses with (nothing left installed)."""
    try:
        with pytest.raises(OdibiExtError) as caught:
            integration.install(ConnectionRegistry(policy=Policy()))
    finally:
        integration.uninstall()
    return str(caught.value)


def test_the_version_header_is_read_whatever_its_case_and_spacing(site: FakeSite) -> None:
    dist_info = site.distribution("odibi", "2.3.0", entry_points={})
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: odibi\nSummary: the host\nversion:  2.3.0 \n"
        "Requires-Dist: pandas\n\nVersion: 3.15.1 is what the description mentions\n",
        encoding="utf-8",
    )

    message = refusal()

    assert "odibi 2.3.0 is installed" in message
    assert not integration.is_installed()


def test_metadata_without_a_version_header_is_refused_with_odibi_ext_s_error(
    site: FakeSite,
) -> None:
    dist_info = site.distribution("odibi", "2.3.0", entry_points={})
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: odibi\n\nVersion: 3.15.1 is what the description says\n",
        encoding="utf-8",
    )

    message = refusal()

    assert "odibi (no version in its metadata) is installed" in message
    assert integration.SUPPORTED in message


@pytest.mark.parametrize("version", ["2.3.0", "2.3.9", "4.0.0", "4.1.0rc1", "v3"])
def test_releases_outside_2_4_to_4_are_refused_naming_both_versions(
    site: FakeSite, version: str
) -> None:
    site.distribution("odibi", version, entry_points={})

    message = refusal()

    assert f"odibi {version} is installed" in message
    assert "odibi-ext supports odibi >=2.4, <4" in message
    assert not integration.is_installed()


@pytest.mark.odibi  # install() then imports the real odibi.plugins
@pytest.mark.parametrize("version", ["2.4.0", "2.23.0", "3.4.3", "3.99.1"])
def test_every_release_from_2_4_to_4_is_accepted(site: FakeSite, version: str) -> None:
    # A dist-info of that version in front of the real Odibi, whose seams are used.
    site.distribution("odibi", version, entry_points={})

    try:
        integration.install(ConnectionRegistry(policy=Policy()))
        assert integration.is_installed()
    finally:
        integration.uninstall()


def test_the_odibi_extra_asks_for_what_install_accepts() -> None:
    requirements = importlib.metadata.requires("odibi-ext") or []

    assert 'odibi<4,>=2.4; extra == "odibi"' in requirements
    assert integration.SUPPORTED == ">=2.4, <4"
