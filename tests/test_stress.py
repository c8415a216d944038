"""Under load: many threads, a refresher, many processes. Bounded in time, no network."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import GOOD_FACTORY
from conftest import FakeSite

from odibi_ext import ConnectionRegistry
from odibi_ext import DriverConflictError
from odibi_ext import DriverLoadError
from odibi_ext import DriverNotFoundError
from odibi_ext import Policy
from odibi_ext import index

STRESS_SECONDS = 3.0
THREADS = 32


@pytest.fixture
def mixed_site(site: FakeSite) -> FakeSite:
    """Good, failing, conflicting and slow-to-import drivers side by side."""
    site.distribution(
        "odibi-good",
        entry_points={"good": "stress_good:create"},
        modules={"stress_good": GOOD_FACTORY},
    )
    site.distribution(
        "odibi-slow",
        entry_points={"slow": "stress_slow:create"},
        modules={"stress_slow": "import time\ntime.sleep(0.02)\n" + GOOD_FACTORY},
    )
    site.distribution(
        "odibi-bad",
        entry_points={"bad": "stress_bad:create", "exits": "stress_exits:create"},
        modules={
            "stress_bad": "raise RuntimeError('always broken')\n",
            "stress_exits": "import sys\nsys.exit(4)\n",
        },
    )
    site.distribution("odibi-twin-a", entry_points={"twin": "twin_a:create"})
    site.distribution("odibi-twin-b", entry_points={"twin": "twin_b:create"})
    return site


def test_32_threads_and_a_refresher_raise_only_documented_errors(mixed_site: FakeSite) -> None:
    registry = ConnectionRegistry(policy=Policy())
    good = registry.get("good")
    stop = threading.Event()
    outcomes: Counter[tuple[str, str]] = Counter()
    surprises: list[BaseException] = []
    expected = {
        "good": None,
        "slow": None,
        "bad": DriverLoadError,
        "exits": DriverLoadError,
        "twin": DriverConflictError,
        "no-such-driver": DriverNotFoundError,
    }

    def worker(seed: int) -> None:
        chooser = random.Random(seed)
        while not stop.is_set():
            name = chooser.choice(list(expected))
            action = chooser.choice(("get", "create", "info", "names", "contains"))
            try:
                if action == "get":
                    factory = registry.get(name)
                    if name == "good":
                        assert factory is good  # the module is cached: same object after refresh
                elif action == "create":
                    registry.create(name, "c", {"k": 1}).validate()
                elif action == "info":
                    registry.info(name)
                elif action == "names":
                    assert {"good", "slow", "bad", "exits", "twin"} <= set(registry.names())
                else:
                    assert (name in registry) == (name != "no-such-driver")
                outcomes[(name, "ok")] += 1
            except (DriverLoadError, DriverConflictError, DriverNotFoundError) as error:
                documented = expected[name]
                if documented is None or not isinstance(error, documented):
                    surprises.append(error)
                outcomes[(name, type(error).__name__)] += 1
            except BaseException as error:  # pragma: no cover - the failure being tested for
                surprises.append(error)

    def refresher() -> None:
        while not stop.is_set():
            registry.refresh()
            time.sleep(0.005)

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(THREADS)]
    threads.append(threading.Thread(target=refresher, daemon=True))
    for thread in threads:
        thread.start()
    time.sleep(STRESS_SECONDS)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)

    assert not [t for t in threads if t.is_alive()], "a thread is stuck: deadlock"
    assert not surprises, surprises[:3]
    assert outcomes[("good", "ok")] > 0
    assert outcomes[("bad", "DriverLoadError")] > 0
    assert outcomes[("twin", "DriverConflictError")] > 0

    # Afterwards the records are consistent with what is installed.
    registry.refresh()
    assert registry.get("good") is good
    for name in ("bad", "exits"):
        with pytest.raises(DriverLoadError):
            registry.get(name)
    assert set(registry.failures()) == {"bad", "exits"}
    assert registry.info("good").status == "loaded"
    assert registry.info("twin").status == "conflict"
    assert registry.info("slow").status == "available"


def test_refresh_during_a_slow_first_load_never_serves_a_torn_state(mixed_site: FakeSite) -> None:
    registry = ConnectionRegistry(policy=Policy())
    results: list[object] = []

    def load() -> None:
        results.append(registry.get("slow"))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for _ in range(20):
        registry.refresh()
    for thread in threads:
        thread.join(timeout=30)

    assert len(results) == 8
    assert len({id(result) for result in results}) == 1
    assert registry.get("slow") is results[0]


def test_12_processes_at_once_share_an_empty_cache_directory(
    site: FakeSite, tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    site.distribution(
        "odibi-good",
        entry_points={"good": "stress_good:create"},
        modules={"stress_good": GOOD_FACTORY},
    )
    then = time.time() - 60  # a settled installation, so every process writes the index
    for path in [site.root, *site.root.rglob("*")]:
        os.utime(path, (then, then))
    cache = tmp_path / "shared-cache"
    env = dict(subprocess_env, ODIBI_EXT_CACHE_DIR=str(cache))
    script = (
        "from odibi_ext import ConnectionRegistry, Policy\n"
        "c = ConnectionRegistry(policy=Policy()).create('good', 'w', {'x': 1})\n"
        "c.validate()\n"
        "print(c.name)\n"
    )

    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(12)
    ]
    results = [process.communicate(timeout=120) for process in processes]

    assert [p.returncode for p in processes] == [0] * 12, [err for _, err in results]
    assert [out.strip() for out, _ in results] == ["w"] * 12
    files = list(cache.iterdir())
    assert files, "no index was written"
    assert not [f for f in files if f.suffix != ".json"], "a temporary file was left behind"
    for file in files:
        data = json.loads(file.read_text())
        names = {row[0] for row in data["candidates"]}
        assert "good" in names
        assert data["format"] == index.FORMAT
