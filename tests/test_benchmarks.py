"""The benchmark harness runs end to end: ``python -m benchmarks --quick``.

The smallest setting of every scenario (N=0, K=3, Odibi K=0 and 2, this
interpreter's row of the per-Python table, one pyperf process per value),
for real: a wheel of the working tree, fresh virtual environments, pip,
Odibi, pyperf. No timing is asserted: the test checks that pyperf's JSON
results and the report exist and hold every figure the README reports.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pyperf
from plugin_kit import run_process

REPO = Path(__file__).resolve().parent.parent

#: Every figure the README's Performance section reports, at the quick setting.
FIGURES = {
    "cold_floor_n0",
    "cold_stevedore_n0",
    "cold_eager_n0",
    "started_stevedore_n0",
    "started_flat",
    "odibi_k0",
    "odibi_k2",
    "odibi_no_plugin",
    "odibi_startup",
    "odibi_listing",
    "warm_get",
}

#: Each scenario's pyperf results: approach file -> benchmarks it must hold.
RESULTS = {
    "cold": {
        "python-c-pass": {"N=0"},
        "odibi-ext": {"N=0"},
        "stevedore": {"N=0"},
        "stevedore-cache-off": {"N=0"},
        "driver-floor": {"N=0"},
        "importlib-metadata": {"N=0"},
        "eager": {"N=0"},
    },
    "started": {
        "odibi-ext": {"N=0"},
        "stevedore": {"N=0"},
        "driver-floor": {"N=0"},
        "odibi-ext-discovery": {"N=0"},
    },
    "listing": {"odibi-ext-list": {"N=0", "Odibi K=2"}, "hand-written": {"N=0", "Odibi K=2"}},
    "warm": {
        name: {"warm lookup"}
        for name in ("registry-get", "dict-get", "bound-get", "registry-create")
    },
    "odibi-build": {
        "stock": {"K=0", "K=2"},
        "odibi-ext": {"K=0", "K=2"},
        "odibi-ext-quiet": {"K=0"},
    },
    "odibi-startup-work": {"stock": {"K=0"}, "odibi-ext": {"K=0"}},
    "odibi-run": {"stock": {"K=0"}, "odibi-ext": {"K=0"}},
}


def test_quick_benchmark_writes_pyperf_results_and_a_report_with_every_figure(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = run_process(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
        env,
        timeout=900,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-4000:]

    for scenario, approaches in RESULTS.items():
        for approach, benchmarks in approaches.items():
            suite = pyperf.BenchmarkSuite.load(
                str(out / "results" / scenario / f"{approach}.json")
            )
            assert set(suite.get_benchmark_names()) == benchmarks, (scenario, approach)
            for bench in suite.get_benchmarks():
                assert bench.get_nvalue() >= 1, (scenario, approach)
                assert bench.median() > 0, (scenario, approach)

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    figures = {f["key"]: f for f in summary["figures"]}
    assert set(figures) == FIGURES
    differences = {"odibi_no_plugin", "odibi_startup"}  # may be below zero
    assert all(f["value"] > 0 for k, f in figures.items() if k not in differences)
    [python] = summary["pythons"]
    version = ".".join(map(str, sys.version_info[:3]))
    assert python["version"] == version
    assert python["cold_floor"] > 0
    assert python["started"] > 0

    report = (out / "results.md").read_text(encoding="utf-8")
    assert report == result.stdout
    for figure in figures.values():
        assert figure["label"] in report
        assert figure["shown"] in report
    assert f"| {version} |" in report  # the per-Python table's row
    assert "## pyperf's comparisons" in report
    assert "faster" in report or "slower" in report
    for scenario in RESULTS:
        assert f"### {scenario}\n" in report
