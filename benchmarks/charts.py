"""The two charts, drawn from pyperf's JSON results (matplotlib, the ``bench`` extra).

- ``odibi.png``: Odibi's connection building against the number of plugins
  installed, stock and under the integration (medians, interquartile bands);
- ``cold.png``: a fresh process creating one connection against N, one line
  per approach (log scale).
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from benchmarks.runs import median_ms
from benchmarks.runs import values
from benchmarks.scenarios import cold
from benchmarks.scenarios import odibi_build
from benchmarks.settings import Settings


def quartiles(samples: list[float]) -> tuple[float, float]:
    if len(samples) < 2:
        return samples[0], samples[0]
    q = statistics.quantiles(samples, n=4, method="inclusive")
    return q[0], q[2]


def draw(settings: Settings, odibi_version: str) -> str:
    """Write the charts into ``settings.chart_dir``; say what was written."""
    try:
        import matplotlib as mpl

        mpl.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import ScalarFormatter
    except ImportError:
        return "charts: matplotlib is not installed (pip install -e '.[bench]'); no chart."
    assert settings.chart_dir is not None
    settings.chart_dir.mkdir(parents=True, exist_ok=True)
    written = []
    if settings.odibi_ks:
        written.append(odibi_chart(plt, settings, odibi_version))
    figure, axes = plt.subplots(figsize=(10, 4.5))
    for name, slug in cold.SLUGS.items():
        medians = [median_ms(settings, cold.SCENARIO, slug, f"N={n}") for n in settings.ns]
        axes.plot(settings.ns, medians, marker="o", label=name)
    axes.set_xlabel("filler distributions installed (N)")
    axes.set_ylabel("median ms, fresh process (pyperf)")
    axes.set_title(f"Load {settings.target} and create a connection (K={settings.k})")
    axes.set_yscale("log")
    axes.yaxis.set_major_formatter(ScalarFormatter())
    axes.grid(visible=True, which="both", alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small")
    figure.tight_layout()
    path = settings.chart_dir / "cold.png"
    figure.savefig(path, dpi=120)
    written.append(path)
    return "charts written: " + ", ".join(map(str, written))


def odibi_chart(plt: Any, settings: Settings, odibi_version: str) -> Path:
    """Connection building inside Odibi against the number of plugins installed."""
    assert settings.chart_dir is not None
    ks = settings.odibi_ks
    lines = {}
    for name in (odibi_build.STOCK, odibi_build.IN_CHARGE):
        slug = odibi_build.SLUGS[name]
        samples = [
            [v * 1000.0 for v in values(settings, odibi_build.SCENARIO, slug, f"K={k}")]
            for k in ks
        ]
        lines[name] = [statistics.median(s) for s in samples], [quartiles(s) for s in samples]
    figure, axes = plt.subplots(figsize=(9, 4.8))
    for (name, (medians, spreads)), color in zip(lines.items(), ("tab:red", "tab:blue")):
        label = (
            "stock Odibi (imports every plugin)"
            if name == odibi_build.STOCK
            else "under odibi_ext.odibi.install() (imports the one it uses)"
        )
        axes.plot(ks, medians, marker="o", color=color, label=label)
        axes.fill_between(
            ks, [q[0] for q in spreads], [q[1] for q in spreads], color=color, alpha=0.15
        )
    stock, ours = lines[odibi_build.STOCK][0], lines[odibi_build.IN_CHARGE][0]
    for k, high, low in zip(ks, stock, ours):
        axes.annotate(
            f"{high / low:.1f}x faster" if k else f"stock {high:.1f}, ours {low:.1f} ms",
            (k, high),
            textcoords="offset points",
            xytext=(4, 8),
            ha="left" if k == ks[0] else "center",
            fontsize="small",
        )
    axes.set_xticks(ks)
    axes.margins(x=0.08)
    axes.set_xlabel(f"plugins installed (each imports in {settings.import_ms:g} ms)")
    axes.set_ylabel("CPU ms, median (band: interquartile)")
    axes.set_title(
        f"Odibi {odibi_version}: PipelineManager.from_yaml building a project's "
        "connections\n(_build_connections; the project uses Odibi's local and one plugin "
        "driver; pyperf)",
        fontsize="medium",
    )
    axes.set_ylim(bottom=0)
    axes.grid(visible=True, alpha=0.3)
    axes.legend(loc="upper left", fontsize="small")
    figure.tight_layout()
    path = settings.chart_dir / "odibi.png"
    figure.savefig(path, dpi=110)
    return path
