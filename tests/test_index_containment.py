"""The index and discovery under hostile conditions: a shared cache directory, a corrupt
index, broken metadata, metadata rewritten in place by a distribution that offered nothing.

Each test reproduces a hole found by a hostile run (issue 12) with real files.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import pytest
import test_index
from conftest import GOOD_FACTORY
from conftest import FakeSite
from test_index import index_files
from test_index import names

from odibi_ext import NAMESPACE
from odibi_ext import ConnectionRegistry
from odibi_ext import Policy
from odibi_ext import index
from odibi_ext.cli import main

# test_index's fixtures: the fake site alone on sys.path, and the cache directory.
stable_site = test_index.stable_site
cache = test_index.cache


def age(site: FakeSite, seconds: float = 60.0) -> None:
    """Backdate everything installed in the site, as if installed ``seconds`` ago."""
    then = time.time() - seconds
    for path in [site.root, *site.root.rglob("*")]:
        os.utime(path, (then, then))


def settled(path: Path) -> None:
    """Give ``path`` alone an old timestamp, unlike the one it had (outside the racy window)."""
    then = time.time() - 30
    os.utime(path, (then, then))


# -- the cache directory may be shared -------------------------------------------------------


def test_a_shared_cache_directory_loses_none_of_its_other_files(
    stable_site: FakeSite, cache: Path, tmp_path: Path
) -> None:
    cache.mkdir()
    theirs = []
    for number in range(100):
        other = cache / f"{number:032x}.json"  # looks like a cache file, but not ours
        other.write_text("someone else's")
        os.utime(other, (1_000_000 + number, 1_000_000 + number))
        theirs.append(other)
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me")
    os.utime(outside, (1_000, 1_000))
    link = cache / f"odibi-ext-index-{'0' * 32}.json"  # our name, but a symlink out
    link.symlink_to(outside)
    for number in range(index.MAX_FILES + 5):  # enough of our own files to prune
        ours = cache / f"odibi-ext-index-{number + 1:032x}.json"
        ours.write_text("{}")
        os.utime(ours, (2_000_000, 2_000_000))
    stable_site.distribution("odibi-a", entry_points={"a": "plugin_a:create"})
    age(stable_site)

    assert names() == ["a"]

    assert all(path.read_text() == "someone else's" for path in theirs)
    assert outside.read_text() == "keep me"
    assert link.is_symlink()
    ours_left = [p for p in cache.glob("odibi-ext-index-*.json") if not p.is_symlink()]
    assert len(ours_left) <= index.MAX_FILES  # our own old files were pruned
    assert any(json.loads(p.read_text()).get("candidates") for p in ours_left)


# -- a corrupt index ---------------------------------------------------------------------------


def test_a_deeply_nested_index_is_a_miss_and_is_rewritten(
    stable_site: FakeSite, cache: Path
) -> None:
    stable_site.distribution(
        "odibi-a", entry_points={"a": "plugin_a:create"}, modules={"plugin_a": GOOD_FACTORY}
    )
    age(stable_site)
    assert names() == ["a"]
    [written] = index_files(cache)
    written.write_text("[" * 200_000 + "]" * 200_000)  # RecursionError in json.loads

    assert names() == ["a"]
    assert ConnectionRegistry(policy=Policy()).create("a", "w", {}).name == "w"
    assert json.loads(written.read_text())["candidates"][0][0] == "a"  # rewritten


# -- broken metadata is reported on every run --------------------------------------------------


BROKEN_LINE = f"[{NAMESPACE}]\ngood = plugin_good:create\nthis line has no equals sign\n"


def test_a_distribution_with_a_malformed_line_is_named_on_every_run(
    stable_site: FakeSite, cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dist_info = stable_site.distribution(
        "odibi-broken",
        "2.0.0",
        entry_points_text=BROKEN_LINE,
        modules={"plugin_good": GOOD_FACTORY},
    )
    age(stable_site)
    path = str(dist_info / "entry_points.txt")

    for run in ("cold", "warm"):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="odibi_ext"):
            registry = ConnectionRegistry(policy=Policy())
            assert registry.names() == ["good"], run  # its readable entry is kept
        [broken] = registry.broken_distributions()
        assert (broken.distribution, broken.version, broken.path) == (
            "odibi-broken",
            "2.0.0",
            path,
        )
        assert "line 3 'this line has no equals sign'" in broken.error
        [record] = [r for r in caplog.records if "odibi-broken" in r.getMessage()]
        assert record.levelno == logging.WARNING
        assert path in record.getMessage()
        assert "Reinstall it" in record.getMessage()
        if run == "cold":
            assert len(index_files(cache)) == 1  # the next run reads the index


def test_check_fails_on_a_broken_distribution_every_time(
    stable_site: FakeSite, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dist_info = stable_site.distribution(
        "odibi-broken", entry_points_text=BROKEN_LINE, modules={"plugin_good": GOOD_FACTORY}
    )
    age(stable_site)
    path = str(dist_info / "entry_points.txt")

    for run in ("cold", "warm"):
        capsys.readouterr()
        assert main(["check"]) == 1, run
        out, err = capsys.readouterr()
        assert "good" in out
        assert (
            f"broken: distribution odibi-broken 1.0.0 has unreadable entry-point metadata ({path})"
            in out
        )
        assert "odibi-broken" in err  # the warning, on every run
        assert path in err

        assert main(["check", "--format", "json"]) == 1
        report = json.loads(capsys.readouterr().out)
        assert report["ok"] is False
        [broken] = report["broken_distributions"]
        assert broken["distribution"] == "odibi-broken"
        assert broken["path"] == path
    assert len(index_files(cache)) == 1


def test_entry_points_that_are_not_utf8_are_reported_with_the_path(
    stable_site: FakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    dist_info = stable_site.distribution("odibi-latin", entry_points={"x": "plugin_x:create"})
    (dist_info / "entry_points.txt").write_bytes(
        f"[{NAMESPACE}]\n# caf\xe9\nx = plugin_x:create\n".encode("latin-1")
    )
    stable_site.distribution("odibi-other", entry_points={"y": "plugin_y:create"})
    age(stable_site)

    for run in ("cold", "warm"):
        registry = ConnectionRegistry(policy=Policy())
        assert registry.names() == ["y"], run
        [broken] = registry.broken_distributions()
        assert broken.distribution == "odibi-latin"
        assert broken.path == str(dist_info / "entry_points.txt")
        assert "not UTF-8" in broken.error
        capsys.readouterr()
        assert main(["check", "--format", "json"]) == 1
        assert json.loads(capsys.readouterr().out)["ok"] is False


def test_a_repaired_distribution_is_no_longer_reported(stable_site: FakeSite) -> None:
    dist_info = stable_site.distribution(
        "odibi-broken", entry_points_text=BROKEN_LINE, modules={"plugin_good": GOOD_FACTORY}
    )
    age(stable_site)
    assert ConnectionRegistry(policy=Policy()).broken_distributions()

    (dist_info / "entry_points.txt").write_text(
        f"[{NAMESPACE}]\ngood = plugin_good:create\nother = plugin_good:create\n"
    )

    registry = ConnectionRegistry(policy=Policy())
    assert registry.broken_distributions() == []
    assert registry.names() == ["good", "other"]


# -- never a stale driver ----------------------------------------------------------------------


def egg_info(root: Path, name: str, entry_points: str) -> Path:
    """A legacy in-tree ``*.egg-info`` directory, as ``setup.py egg_info`` writes it."""
    directory = root / f"{name.replace('-', '_')}.egg-info"
    directory.mkdir()
    (directory / "PKG-INFO").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (directory / "entry_points.txt").write_text(entry_points)
    return directory


def test_a_non_provider_rewritten_in_place_to_offer_a_driver_is_seen(
    stable_site: FakeSite, cache: Path
) -> None:
    # An in-tree *.egg-info, as ``setup.py egg_info`` rewrites it. (Installers write a
    # *.dist-info as a new directory: see test_index.py for installs and removals.)
    stable_site.distribution("odibi-a", entry_points={"a": "plugin_a:create"})
    scripts_only = "[console_scripts]\ntool = tool:main\n"
    metadata = egg_info(stable_site.root, "in-tree", scripts_only)
    age(stable_site)
    assert names() == ["a"]
    assert len(index_files(cache)) == 1  # the next registry trusts the index

    # Rewritten in place: neither the directory holding it nor sys.path's entry changes.
    with open(metadata / "entry_points.txt", "w") as file:
        file.write(scripts_only + f"[{NAMESPACE}]\nnew = tool:create\n")
    settled(metadata / "entry_points.txt")

    assert names() == ["a", "new"]


def test_a_provider_whose_version_is_rewritten_in_place_shows_the_new_version(
    stable_site: FakeSite,
) -> None:
    metadata = egg_info(stable_site.root, "in-tree", f"[{NAMESPACE}]\nt = tool:create\n")
    age(stable_site)
    assert ConnectionRegistry(policy=Policy()).info("t").version == "0.1"

    (metadata / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: in-tree\nVersion: 0.2\n")
    settled(metadata / "PKG-INFO")

    assert ConnectionRegistry(policy=Policy()).info("t").version == "0.2"


def test_an_entry_points_file_created_in_an_installed_distribution_is_seen(
    stable_site: FakeSite,
) -> None:
    stable_site.distribution("odibi-a", entry_points={"a": "plugin_a:create"})
    metadata = egg_info(stable_site.root, "in-tree", "")
    (metadata / "entry_points.txt").unlink()
    age(stable_site)
    assert names() == ["a"]

    (metadata / "entry_points.txt").write_text(f"[{NAMESPACE}]\nnew = tool:create\n")
    settled(metadata / "entry_points.txt")
    settled(metadata)  # its directory changed, but not sys.path's entry

    assert names() == ["a", "new"]
