"""The Markdown report: the figures with their targets, the tables behind them, and
pyperf's own comparisons (``pyperf compare_to --table``) of every scenario."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from benchmarks.figures import PYTHONS_RUN
from benchmarks.figures import Figure
from benchmarks.runs import compare_to
from benchmarks.runs import median_ms
from benchmarks.scenarios import cold
from benchmarks.scenarios import listing
from benchmarks.scenarios import odibi_build
from benchmarks.scenarios import odibi_startup
from benchmarks.scenarios import pythons
from benchmarks.scenarios import started
from benchmarks.scenarios import warm
from benchmarks.settings import NAMESPACE
from benchmarks.settings import Settings


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(figure: Figure) -> str:
    if figure.met is None:
        return "—"
    return "met" if figure.met else "**not met**"


def targets_table(figures: Sequence[Figure]) -> str:
    return table(
        ["figure", "result", "target", "", "reproduce with"],
        [[f.label, f.shown, f.target or "—", verdict(f), f"`{f.command}`"] for f in figures],
    )


def pythons_markdown(rows: Sequence[dict[str, Any]]) -> str:
    body = []
    for row in rows:
        if "error" in row:
            body.append([row["python"], "—", "—", "—", f"not run: {row['error']}"])
            continue
        body.append(
            [
                row["version"],
                f"{row['cold_floor']:.3f}",
                f"{row['cold_stevedore']:.2f}",
                f"{row['started']:.3f} ({row['started_ms']:.2f} ÷ "
                f"{row['started_stevedore_ms']:.2f} ms)",
                f"fresh process {row['cold_ms']:.1f} ms",
            ]
        )
    return table(
        [
            "Python",
            "fresh process: odibi-ext ÷ DriverManager floor",
            "fresh process: odibi-ext ÷ stevedore",
            "started process: odibi-ext ÷ stevedore (CPU)",
            "",
        ],
        body,
    )


def odibi_markdown(rows: Sequence[dict[str, Any]]) -> str:
    def number(value: float, digits: int) -> str:
        return "-" if math.isnan(value) else f"{value:.{digits}f}"

    return table(
        [
            "K plugins",
            "stock Odibi",
            "under the integration",
            "stock ÷ integration",
            "whole from_yaml (stock / ours)",
            "install()",
        ],
        [
            [
                str(row["k"]),
                f"{row['stock_ms']:.1f}",
                f"{row['ours_ms']:.1f}",
                f"{row['stock_ms'] / row['ours_ms']:.1f}x",
                f"{number(row['from_yaml_stock_ms'], 0)} / {number(row['from_yaml_ours_ms'], 0)}",
                number(row["install_ms"], 1),
            ]
            for row in rows
        ],
    )


def medians_table(
    settings: Settings, scenario: str, slugs: dict[str, str], benches: Sequence[str], digits: int
) -> str:
    return table(
        ["approach", *benches],
        [
            [name, *(f"{median_ms(settings, scenario, slug, b):.{digits}f}" for b in benches)]
            for name, slug in slugs.items()
        ],
    )


def report(
    settings: Settings,
    meta: dict[str, Any],
    figures: Sequence[Figure],
    python_rows: Sequence[dict[str, Any]],
    odibi_rows: Sequence[dict[str, Any]],
) -> str:
    m = meta["machine"]
    shape, odibi_shape = settings.shape, settings.odibi_shape
    ns = [f"N={n}" for n in settings.ns]
    parts: list[str] = [
        "# odibi-ext benchmark",
        "",
        f"- machine: {m['platform']}, {m['cpu_count']} CPUs, {m['cpu_model']}",
        f"- Python {m['python']}, stevedore {m['stevedore']}, pyperf {m['pyperf']}"
        + (f", Odibi {meta['odibi_version']}" if "odibi_version" in meta else ""),
        f"- date: {m['date']}; command: `{meta['command']}`"
        + (" (quick mode: a smoke test, not figures)" if settings.quick else ""),
        f"- setup: K={settings.k} drivers in `{NAMESPACE}`, each importing in "
        f"{settings.import_ms:g} ms; N filler distributions (half with entry points); "
        f"driver loaded: `{settings.target}`",
        f"- pyperf: {shape.rounds} rounds x {shape.processes} worker processes x "
        f"{shape.values} values (+{shape.warmups} warm-up) per approach, approaches "
        "rotating each round"
        + (
            f"; inside Odibi {odibi_shape.rounds} x {odibi_shape.processes} x "
            f"{odibi_shape.values} (+{odibi_shape.warmups})"
            if settings.odibi_ks
            else ""
        )
        + "; medians",
        "",
        "## Every figure",
        "",
        "Ratios are this ÷ that (below 1: faster), both sides medians of the same run.",
        "",
        targets_table(figures),
        "",
        "## Fresh process: load one driver and create a connection (wall ms, median)",
        "",
        medians_table(settings, cold.SCENARIO, cold.SLUGS, ns, 1),
        "",
        "## First connection in a started process (CPU ms, median)",
        "",
        medians_table(settings, started.SCENARIO, started.SLUGS, ns, 2),
        "",
        "## Listing every driver with its distribution and version (wall ms, median)",
        "",
        medians_table(
            settings,
            listing.SCENARIO,
            listing.SLUGS,
            ns + ([f"Odibi K={meta['odibi_listing_k']}"] if "odibi_listing_k" in meta else []),
            1,
        ),
        "",
    ]
    if odibi_rows:
        parts += [
            "## Inside Odibi: `PipelineManager.from_yaml` building a project's connections "
            "(CPU ms, median)",
            "",
            odibi_markdown(odibi_rows),
            "",
        ]
    parts += [
        "## Warm lookup (ns per call, median; pyperf timeit)",
        "",
        table(
            ["call", "ns"],
            [
                [
                    f"`{name}`",
                    f"{median_ms(settings, warm.SCENARIO, slug, warm.BENCHMARK) * 1e6:.1f}",
                ]
                for name, (slug, _) in warm.STATEMENTS.items()
            ],
        ),
        "",
    ]
    if python_rows:
        parts += [
            f"## Per Python (N={settings.pythons_n})",
            "",
            f"Each interpreter's own environment; reproduce with `{PYTHONS_RUN}` (every "
            "pyenv 3.9-3.13) or `--python INTERPRETER ...`.",
            "",
            pythons_markdown(python_rows),
            "",
        ]
    parts += ["## pyperf's comparisons (`pyperf compare_to --table`, first file the reference)"]
    for scenario, slugs in comparisons(settings, python_rows):
        parts += ["", f"### {scenario}", "", "```", compare_to(settings, scenario, slugs), "```"]
    parts += ["", meta["footer"]]
    return "\n".join(parts) + "\n"


def comparisons(settings: Settings, python_rows: Sequence[dict[str, Any]]) -> list[Any]:
    found: list[Any] = [
        (
            cold.SCENARIO,
            [
                cold.SLUGS[n]
                for n in (cold.DRIVER_FLOOR, cold.ODIBI_EXT, cold.STEVEDORE, cold.EAGER)
            ],
        ),
        (started.SCENARIO, [started.SLUGS[started.STEVEDORE], started.SLUGS[started.ODIBI_EXT]]),
        (listing.SCENARIO, [listing.SLUGS[listing.LIST_HAND], listing.SLUGS[listing.LIST_CLI]]),
        (
            warm.SCENARIO,
            [warm.STATEMENTS[warm.DICT_GET][0], warm.STATEMENTS[warm.REGISTRY_GET][0]],
        ),
    ]
    if settings.odibi_ks:
        pair = [odibi_build.SLUGS[odibi_build.STOCK], odibi_build.SLUGS[odibi_build.IN_CHARGE]]
        found += [
            (odibi_build.SCENARIO, pair),
            (odibi_startup.WORK_SCENARIO, pair),
            (odibi_startup.RUN_SCENARIO, pair),
        ]
    if any(row.get("cold_scenario") == pythons.COLD_SCENARIO for row in python_rows):
        found += [
            (
                pythons.COLD_SCENARIO,
                [cold.SLUGS[n] for n in (cold.DRIVER_FLOOR, cold.ODIBI_EXT, cold.STEVEDORE)],
            ),
            (
                pythons.STARTED_SCENARIO,
                [started.SLUGS[started.STEVEDORE], started.SLUGS[started.ODIBI_EXT]],
            ),
        ]
    return found
