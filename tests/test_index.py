"""The on-disk index: used when provably fresh, never stale, never fatal."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest
from conftest import GOOD_FACTORY
from conftest import FakeSite

from odibi_ext import ConnectionRegistry
from odibi_ext import Policy
from odibi_ext import index


@pytest.fixture
def stable_site(site: FakeSite, monkeypatch: pytest.MonkeyPatch) -> FakeSite:
    """The fake site alone on ``sys.path``, so the test controls every stamped directory."""
    import odibi_ext.loader  # noqa: F401  # stevedore must be importable once sys.path is narrowed

    monkeypatch.setattr(sys, "path", [str(site.root)])
    return site


def age(site: FakeSite, seconds: float = 60.0) -> None:
    """Backdate the site and its metadata, as if installed a minute ago."""
    then = time.time() - seconds
    metadata = [*site.root.glob("*/entry_points.txt"), *site.root.glob("*/METADATA")]
    for path in [site.root, *site.root.glob("*.dist-info"), *metadata]:
        os.utime(path, (then, then))


def names() -> list[str]:
    return ConnectionRegistry(policy=Policy()).names()


def index_files(cache: Path) -> list[Path]:
    return sorted(cache.glob("*.json")) if cache.exists() else []


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "odibi-ext-cache"  # where conftest points ODIBI_EXT_CACHE_DIR


def test_a_stable_installation_is_indexed_and_the_index_is_used(
    stable_site: FakeSite, cache: Path
) -> None:
    stable_site.distribution(
        "odibi-a",
        "1.0.0",
        entry_points={"a": "plugin_a:create"},
        modules={"plugin_a": GOOD_FACTORY},
    )
    age(stable_site)

    assert names() == ["a"]
    [written] = index_files(cache)
    data = json.loads(written.read_text())
    assert data["candidates"] == [
        ["a", "plugin_a:create", "odibi-a", "1.0.0", str(stable_site.root), "entry_point"]
    ]

    # Prove the next registry reads the index rather than rescanning: what
    # only the index says is what the registry reports.
    data["candidates"][0][3] = "9.9.9"
    written.write_text(json.dumps(data))
    assert ConnectionRegistry(policy=Policy()).info("a").version == "9.9.9"


def test_installing_or_removing_a_distribution_is_seen_by_the_next_registry(
    stable_site: FakeSite, cache: Path
) -> None:
    stable_site.distribution("odibi-a", entry_points={"a": "plugin_a:create"})
    age(stable_site)
    assert names() == ["a"]

    dist_info = stable_site.distribution("odibi-b", entry_points={"b": "plugin_b:create"})
    assert names() == ["a", "b"]
    age(stable_site)
    assert names() == ["a", "b"]

    shutil.rmtree(dist_info)
    assert names() == ["a"]


def test_files_coming_and_going_beside_the_metadata_keep_the_index(
    stable_site: FakeSite, cache: Path
) -> None:
    """A script's directory changes all the time; only its metadata matters."""
    stable_site.distribution("odibi-a", "1.0.0", entry_points={"a": "plugin_a:create"})
    age(stable_site)
    names()
    [written] = index_files(cache)
    data = json.loads(written.read_text())
    data["candidates"][0][3] = "9.9.9"  # only the index says so
    written.write_text(json.dumps(data))

    (stable_site.root / "notes.txt").write_text("a file that is not metadata")
    (stable_site.root / "scratch").mkdir()
    assert ConnectionRegistry(policy=Policy()).info("a").version == "9.9.9"  # still served

    then = time.time() - 30  # the directory settles: its new time is saved, sparing a listing
    os.utime(stable_site.root, (then, then))
    assert ConnectionRegistry(policy=Policy()).info("a").version == "9.9.9"
    [stamp] = json.loads(written.read_text())["stamps"]
    assert stamp[1] == os.stat(stable_site.root).st_mtime_ns

    stable_site.distribution("odibi-b", entry_points={"b": "plugin_b:create"})
    assert names() == ["a", "b"]  # new metadata: rescanned


def test_an_entry_points_file_rewritten_in_place_is_seen(stable_site: FakeSite) -> None:
    dist_info = stable_site.distribution("odibi-a", entry_points={"a": "plugin_a:create"})
    age(stable_site)
    assert names() == ["a"]

    (dist_info / "entry_points.txt").write_text("[odibi.connections]\nrenamed = plugin_a:create\n")

    assert names() == ["renamed"]


def test_a_recently_changed_installation_is_not_written(
    stable_site: FakeSite, cache: Path
) -> None:
    stable_site.distribution("odibi-a", entry_points={"a": "plugin_a:create"})
    assert names() == ["a"]
    assert index_files(cache) == []


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"{",
        b"\x00\xff garbage \xfe",
        b'{"format": 1}',
        b"[1, 2, 3]",
        b'{"format": 1, "namespace": "odibi.connections", "path": [], "stamps": [], '
        b'"candidates": [["a"]]}',
    ],
)
def test_a_corrupt_index_is_ignored_and_rebuilt(
    stable_site: FakeSite, cache: Path, damage: bytes
) -> None:
    stable_site.distribution("odibi-a", entry_points={"a": "plugin_a:create"})
    age(stable_site)
    names()
    [written] = index_files(cache)
    written.write_bytes(damage)

    assert names() == ["a"]
    assert json.loads(written.read_text())["candidates"][0][0] == "a"


def test_a_truncated_index_is_ignored(stable_site: FakeSite, cache: Path) -> None:
    stable_site.distribution("odibi-a", entry_points={"a": "plugin_a:create"})
    age(stable_site)
    names()
    [written] = index_files(cache)
    text = written.read_text()
    written.write_text(text[: len(text) // 2])

    assert names() == ["a"]


def test_an_index_others_could_have_written_is_not_trusted(
    stable_site: FakeSite, cache: Path
) -> None:
    stable_site.distribution("odibi-a", entry_points={"a": "plugin_a:create"})
    age(stable_site)
    names()
    [written] = index_files(cache)
    data = json.loads(written.read_text())
    data["candidates"][0][1] = "attacker_module:create"
    written.write_text(json.dumps(data))
    written.chmod(0o666)

    assert ConnectionRegistry(policy=Policy()).info("a").target == "plugin_a:create"
    assert written.stat().st_mode & 0o777 == 0o600  # rebuilt privately


def test_an_unreadable_index_is_ignored(stable_site: FakeSite, cache: Path) -> None:
    stable_site.distribution("odibi-a", entry_points={"a": "plugin_a:create"})
    age(stable_site)
    names()
    [written] = index_files(cache)
    written.unlink()
    written.mkdir()  # reading it now fails with IsADirectoryError, even as root

    assert names() == ["a"]


def test_an_unwritable_cache_directory_is_not_fatal(
    stable_site: FakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("ODIBI_EXT_CACHE_DIR", str(blocker / "cache"))
    stable_site.distribution(
        "odibi-a", entry_points={"a": "plugin_a:create"}, modules={"plugin_a": GOOD_FACTORY}
    )
    age(stable_site)

    reg = ConnectionRegistry(policy=Policy())

    assert reg.names() == ["a"]
    assert reg.get("a").__module__ == "plugin_a"


def test_no_home_and_no_xdg_still_loads(
    stable_site: FakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("ODIBI_EXT_CACHE_DIR", "XDG_CACHE_HOME", "HOME"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("ODIBI_EXT_NO_CACHE", "1")  # and with caching off, nothing is written
    stable_site.distribution(
        "odibi-a", entry_points={"a": "plugin_a:create"}, modules={"plugin_a": GOOD_FACTORY}
    )
    age(stable_site)

    assert index.cache_dir() is None
    assert ConnectionRegistry(policy=Policy()).get("a").__module__ == "plugin_a"


def test_cache_dir_follows_xdg_then_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ODIBI_EXT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert index.cache_dir() == str(tmp_path / "xdg" / "odibi-ext")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert index.cache_dir() == str(tmp_path / "home" / ".cache" / "odibi-ext")


def test_caching_can_be_switched_off(
    stable_site: FakeSite, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ODIBI_EXT_NO_CACHE", "1")
    stable_site.distribution("odibi-a", entry_points={"a": "plugin_a:create"})
    age(stable_site)

    assert names() == ["a"]
    assert index_files(cache) == []


def test_the_index_works_when_python_lives_under_tmp(
    stable_site: FakeSite, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """stevedore silently disables its cache for an interpreter under /tmp; ours does not."""
    monkeypatch.setattr(sys, "executable", "/tmp/venv/bin/python")
    stable_site.distribution("odibi-a", entry_points={"a": "plugin_a:create"})
    age(stable_site)

    assert names() == ["a"]
    assert len(index_files(cache)) == 1


def test_a_custom_distribution_finder_bypasses_the_index(
    stable_site: FakeSite, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.metadata

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    stable_site.distribution(
        "odibi-hidden", entry_points={"hidden": "hidden:create"}, root=elsewhere
    )

    class Finder:
        """Serves distributions from a directory that is not on sys.path."""

        def find_spec(self, *args: object) -> None:
            return None

        def find_distributions(
            self, context: importlib.metadata.DistributionFinder.Context | None = None
        ) -> list[importlib.metadata.Distribution]:
            name = getattr(context, "name", None)
            here = importlib.metadata.DistributionFinder.Context(name=name, path=[str(elsewhere)])
            return list(importlib.metadata.MetadataPathFinder.find_distributions(here))

    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Finder()])
    age(stable_site)

    assert names() == ["hidden"]
    assert index_files(cache) == []


def test_old_index_files_are_pruned(stable_site: FakeSite, cache: Path) -> None:
    cache.mkdir()
    for number in range(index.MAX_FILES + 5):
        stale = cache / f"odibi-ext-index-{number:032x}.json"
        stale.write_text("{}")
        os.utime(stale, (1_000_000, 1_000_000))
    stable_site.distribution("odibi-a", entry_points={"a": "plugin_a:create"})
    age(stable_site)

    names()

    remaining = index_files(cache)
    assert len(remaining) <= index.MAX_FILES
    assert any(json.loads(p.read_text()).get("candidates") for p in remaining)
