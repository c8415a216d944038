"""Every figure of the run, computed from pyperf's JSON results, with its target.

A figure is a ratio (or difference) of two pyperf medians measured in the same
run, their processes interleaved (:mod:`benchmarks.runs`). Ratios are "this ÷
that": below 1 means faster.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict
from dataclasses import dataclass
from typing import Any

from benchmarks.runs import median_ms
from benchmarks.runs import sample_median
from benchmarks.runs import side_samples
from benchmarks.scenarios import cold
from benchmarks.scenarios import listing
from benchmarks.scenarios import odibi_build
from benchmarks.scenarios import odibi_startup
from benchmarks.scenarios import started
from benchmarks.scenarios import warm
from benchmarks.settings import Settings

#: The smallest run that reproduces each kind of figure.
COLD_RUN = "python -m benchmarks --n 500 2000 --odibi-k --python"
STARTED_RUN = "python -m benchmarks --odibi-k --python"
ODIBI_RUN = "python -m benchmarks --n 0 --odibi-k 0 20 --python"
WARM_RUN = "python -m benchmarks --n 0 --odibi-k --python"
PYTHONS_RUN = "python -m benchmarks --n 500 --odibi-k"


@dataclass
class Figure:
    """One row of the targets table (``met`` is None for a figure without a target)."""

    key: str
    label: str
    value: float
    shown: str
    target: str
    met: bool | None
    command: str


def closest(values: Sequence[int], wanted: int) -> int:
    return min(values, key=lambda v: (abs(v - wanted), v))


def compute(settings: Settings, meta: dict[str, Any]) -> list[Figure]:
    """Every figure the README reports, from the JSON results under ``settings.results``."""
    found: list[Figure] = []
    found += cold_figures(settings)
    found += started_figures(settings)
    if settings.odibi_ks:
        found += odibi_figures(settings, meta)
    found += warm_figures(settings)
    return found


def cold_figures(settings: Settings) -> list[Figure]:
    found = []
    slug = cold.SLUGS
    n500, n2000 = closest(settings.ns, 500), closest(settings.ns, 2000)
    for n in settings.ns:
        bench = f"N={n}"

        def med(name: str, bench: str = bench) -> float:
            return median_ms(settings, cold.SCENARIO, slug[name], bench)

        ours, floor, stevedore, eager = (
            med(cold.ODIBI_EXT),
            med(cold.DRIVER_FLOOR),
            med(cold.STEVEDORE),
            med(cold.EAGER),
        )
        value = ours / floor
        found.append(
            Figure(
                f"cold_floor_n{n}",
                f"fresh process, create one connection, N={n}: "
                "odibi-ext ÷ the DriverManager floor",
                value,
                f"{value:.3f} ({ours:.1f} ÷ {floor:.1f} ms)",
                "≤ 1.05" if n >= 500 else "",
                value <= 1.05 if n in (n500, n2000) and n >= 500 else None,
                COLD_RUN,
            )
        )
        value = ours / stevedore
        found.append(
            Figure(
                f"cold_stevedore_n{n}",
                f"the same, N={n}: odibi-ext ÷ stevedore",
                value,
                f"{value:.2f} ({ours:.1f} ÷ {stevedore:.1f} ms)",
                "≤ 0.9" if n == n2000 and n >= 2000 else "",
                value <= 0.9 if n == n2000 and n >= 2000 else None,
                COLD_RUN,
            )
        )
        value = eager / ours
        found.append(
            Figure(
                f"cold_eager_n{n}",
                f"the same, N={n}: eager loading (Odibi's load_plugins) ÷ odibi-ext",
                value,
                f"{value:.1f}x ({eager:.0f} ÷ {ours:.1f} ms)",
                "",
                None,
                COLD_RUN,
            )
        )
    return found


def started_figures(settings: Settings) -> list[Figure]:
    found = []
    n500, n2000 = closest(settings.ns, 500), closest(settings.ns, 2000)
    ours_by_n = []
    for n in settings.ns:
        bench = f"N={n}"
        ours = median_ms(settings, started.SCENARIO, started.SLUGS[started.ODIBI_EXT], bench)
        stevedore = median_ms(settings, started.SCENARIO, started.SLUGS[started.STEVEDORE], bench)
        ours_by_n.append(ours)
        value = ours / stevedore
        limit = {n500: 0.25, n2000: 0.1}.get(n) if n >= 500 else None
        found.append(
            Figure(
                f"started_stevedore_n{n}",
                f"started process, first connection, N={n}: odibi-ext ÷ stevedore DriverManager "
                "(CPU medians)",
                value,
                f"{value:.3f} ({ours:.2f} ÷ {stevedore:.2f} ms)",
                f"≤ {limit}" if limit else "",
                value <= limit if limit else None,
                STARTED_RUN,
            )
        )
    value = max(ours_by_n) / min(ours_by_n)
    discovery = " / ".join(
        f"{median_ms(settings, started.SCENARIO, started.SLUGS[started.DISCOVERY], f'N={n}'):.2f}"
        for n in settings.ns
    )
    sequence = "/".join(map(str, settings.ns))
    found.append(
        Figure(
            "started_flat",
            f"the same, odibi-ext flat in N ({' / '.join(f'{v:.2f}' for v in ours_by_n)} ms at "
            f"N={sequence}; its discovery alone {discovery} ms)",
            value,
            f"max ÷ min {value:.2f}",
            "flat: ≤ 1.25",
            value <= 1.25,
            STARTED_RUN,
        )
    )
    return found


def odibi_figures(settings: Settings, meta: dict[str, Any]) -> list[Figure]:
    found = []
    scenario, slug = odibi_build.SCENARIO, odibi_build.SLUGS
    k20 = closest(settings.odibi_ks, 20)
    for k in settings.odibi_ks:
        stock = median_ms(settings, scenario, slug[odibi_build.STOCK], f"K={k}")
        ours = median_ms(settings, scenario, slug[odibi_build.IN_CHARGE], f"K={k}")
        value = stock / ours
        found.append(
            Figure(
                f"odibi_k{k}",
                f"inside Odibi, K={k} plugins: stock connection building ÷ under the integration",
                value,
                f"{value:.1f}x ({stock:.1f} ÷ {ours:.1f} ms CPU)",
                "≥ 10x" if k == k20 and k >= 20 else "",
                value >= 10 if k == k20 and k >= 20 else None,
                ODIBI_RUN,
            )
        )
    if 0 in settings.odibi_ks:
        stock = median_ms(settings, scenario, slug[odibi_build.STOCK], "K=0")
        ours = median_ms(settings, scenario, slug[odibi_build.IN_CHARGE], "K=0")
        quiet = median_ms(settings, scenario, slug[odibi_build.QUIET], "K=0")
        value = (ours / stock - 1) * 100
        found.append(
            Figure(
                "odibi_no_plugin",
                "no plugin installed: the integration's connection building over stock Odibi's "
                "(issue 18)",
                value,
                f"{value:+.1f} % ({ours:.2f} vs {stock:.2f} ms CPU; INFO lines off "
                f"{quiet / stock - 1:+.1%})",
                "≤ +5 %",
                value <= 5,
                ODIBI_RUN,
            )
        )
        work_stock = median_ms(
            settings, odibi_startup.WORK_SCENARIO, slug[odibi_build.STOCK], "K=0"
        )
        work_ours = median_ms(
            settings, odibi_startup.WORK_SCENARIO, slug[odibi_build.IN_CHARGE], "K=0"
        )
        run_stock = median_ms(settings, odibi_startup.RUN_SCENARIO, slug[odibi_build.STOCK], "K=0")
        run_ours = median_ms(
            settings, odibi_startup.RUN_SCENARIO, slug[odibi_build.IN_CHARGE], "K=0"
        )
        around, building = work_ours - work_stock, ours - stock
        value = around + building
        found.append(
            Figure(
                "odibi_startup",
                "no plugin installed: what `odibi-ext odibi run` adds to `odibi run` start-up "
                "(CPU medians)",
                value,
                f"{value:+.1f} ms = {around:+.1f} around Odibi's command line {building:+.1f} "
                f"connection building; whole fresh `odibi run`s: {run_ours - run_stock:+.0f} ms "
                f"wall ({run_ours:.0f} vs {run_stock:.0f})",
                "≤ +20 ms",
                value <= 20,
                ODIBI_RUN,
            )
        )
    k_list = meta.get("odibi_listing_k")
    if k_list is not None:
        bench = f"Odibi K={k_list}"
        ours = median_ms(settings, listing.SCENARIO, listing.SLUGS[listing.LIST_CLI], bench)
        hand = median_ms(settings, listing.SCENARIO, listing.SLUGS[listing.LIST_HAND], bench)
        value = ours / hand
        found.append(
            Figure(
                "odibi_listing",
                f"`odibi-ext list` with Odibi installed (built-ins shown), K={k_list}: "
                "÷ hand-written listing; pandas never imported",
                value,
                f"{value:.2f} ({ours:.0f} ÷ {hand:.0f} ms), pandas not imported",
                "≤ 1.2",
                value <= 1.2,
                ODIBI_RUN,
            )
        )
    return found


def warm_figures(settings: Settings) -> list[Figure]:
    def ns(name: str) -> float:
        slug = warm.STATEMENTS[name][0]
        return median_ms(settings, warm.SCENARIO, slug, warm.BENCHMARK) * 1e6

    get, plain, bound = ns(warm.REGISTRY_GET), ns(warm.DICT_GET), ns(warm.BOUND_GET)
    return [
        Figure(
            "warm_get",
            "warm `registry.get` ÷ `dict.get`",
            get / plain,
            f"{get / plain:.2f} ({get:.1f} ÷ {plain:.1f} ns; `get = registry.get` bound once: "
            f"{bound / plain:.2f})",
            "≤ 1.5",
            get / plain <= 1.5,
            WARM_RUN,
        )
    ]


def pythons_table(settings: Settings, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per interpreter: cold odibi-ext ÷ floor and ÷ stevedore, started odibi-ext ÷ stevedore."""
    table = []
    for row in rows:
        if "error" in row:
            table.append(dict(row))
            continue
        bench, cold_at, started_at = (
            row["benchmark"],
            row["cold_scenario"],
            row["started_scenario"],
        )

        def cold_ms(name: str, bench: str = bench, scenario: str = cold_at) -> float:
            return median_ms(settings, scenario, cold.SLUGS[name], bench)

        def started_ms(name: str, bench: str = bench, scenario: str = started_at) -> float:
            return median_ms(settings, scenario, started.SLUGS[name], bench)

        table.append(
            {
                **row,
                "cold_floor": cold_ms(cold.ODIBI_EXT) / cold_ms(cold.DRIVER_FLOOR),
                "cold_stevedore": cold_ms(cold.ODIBI_EXT) / cold_ms(cold.STEVEDORE),
                "cold_ms": cold_ms(cold.ODIBI_EXT),
                "started": started_ms(started.ODIBI_EXT) / started_ms(started.STEVEDORE),
                "started_ms": started_ms(started.ODIBI_EXT),
                "started_stevedore_ms": started_ms(started.STEVEDORE),
            }
        )
    return table


def odibi_context(settings: Settings) -> list[dict[str, Any]]:
    """Per K: build medians (pyperf) and, from the children's reports, install() and from_yaml."""
    scenario, slug = odibi_build.SCENARIO, odibi_build.SLUGS
    samples = {
        name: side_samples(settings, scenario, slug[name])
        for name in (odibi_build.STOCK, odibi_build.IN_CHARGE)
    }
    rows = []
    for k in settings.odibi_ks:
        project = f"project-k{k}.yaml"
        stock = [s for s in samples[odibi_build.STOCK] if s["project"] == project]
        ours = [s for s in samples[odibi_build.IN_CHARGE] if s["project"] == project]
        rows.append(
            {
                "k": k,
                "stock_ms": median_ms(settings, scenario, slug[odibi_build.STOCK], f"K={k}"),
                "ours_ms": median_ms(settings, scenario, slug[odibi_build.IN_CHARGE], f"K={k}"),
                "from_yaml_stock_ms": sample_median(stock, "from_yaml_ms"),
                "from_yaml_ours_ms": sample_median(ours, "from_yaml_ms"),
                "install_ms": sample_median(ours, "install_ms"),
            }
        )
    return rows


def as_json(figures: list[Figure]) -> list[dict[str, Any]]:
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(f).items()}
        for f in figures
    ]
