"""Running the approaches of a comparison under pyperf, interleaved, and reading the results.

Every approach of a scenario has its own pyperf JSON file,
``results/<scenario>/<approach>.json``; a benchmark in it is one setting
(``N=500``, ``K=20``, ``Python 3.12``). A comparison runs in rounds: in each,
every approach gets ``processes`` pyperf worker processes, in an order that
rotates from round to round, and pyperf appends them (``--append``) to the
approach's file. Noise on a shared machine thus hits both sides of every
ratio. Three kinds of approach:

- ``command``: a whole fresh process, timed by ``pyperf command``
  (``Runner.bench_command``: wall time of the process);
- ``inside``: the child times its own work (:mod:`benchmarks.inside`);
- ``timeit``: ``python -m pyperf timeit`` in the environment's interpreter
  (pyperf calibrates the loops).
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import pyperf  # type: ignore[import-untyped]

from benchmarks.environments import child_env
from benchmarks.environments import run
from benchmarks.settings import Settings
from benchmarks.settings import Shape

INSIDE = Path(__file__).resolve().parent / "inside.py"


@dataclass(frozen=True)
class Approach:
    """One side of a comparison.

    ``argv`` is the command (``command``, ``inside``) or ``(setup, statement)``
    (``timeit``, run by ``python``). ``expect``: what an ``inside`` child must
    report besides its seconds.
    """

    name: str
    slug: str
    argv: tuple[str, ...]
    kind: str = "command"
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    expect: Mapping[str, Any] = field(default_factory=dict)
    python: Path | None = None
    samples: bool = False


def result_file(settings: Settings, scenario: str, slug: str) -> Path:
    return settings.results / scenario / f"{slug}.json"


def samples_file(settings: Settings, scenario: str, slug: str) -> Path:
    """Where an ``inside`` approach keeps every child's whole report (context, not figures)."""
    return settings.results / scenario / f"{slug}.samples.jsonl"


def slugify(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.=]+", "-", text).strip("-")


def one_line(argv: Sequence[str]) -> list[str]:
    """``argv`` with a multi-line ``-c`` program as ``exec('...')``: pyperf keeps the command
    in its metadata, where newlines are not allowed. The program runs as before."""
    found = list(argv)
    for i, arg in enumerate(found[:-1]):
        if arg == "-c" and "\n" in found[i + 1]:
            found[i + 1] = f"exec({found[i + 1]!r})"
    return found


def pyperf_argv(
    settings: Settings, scenario: str, benchmark: str, approach: Approach, shape: Shape
) -> list[str]:
    """The pyperf command line that runs ``processes`` workers of ``approach`` and appends."""
    common = [
        "--quiet",
        "--append",
        str(result_file(settings, scenario, approach.slug)),
        "--processes",
        str(shape.processes),
        "--values",
        str(shape.values),
        "--warmups",
        str(shape.warmups),
    ]
    inherit = ",".join(sorted({"XDG_CACHE_HOME", *approach.env}))
    if approach.kind == "command":
        return [
            sys.executable,
            "-m",
            "pyperf",
            "command",
            *common,
            "--loops",
            "1",
            "--inherit-environ",
            inherit,
            "--name",
            benchmark,
            *one_line(approach.argv),
        ]
    if approach.kind == "inside":
        spec = settings.out / "specs" / scenario / f"{approach.slug}--{slugify(benchmark)}.json"
        spec.parent.mkdir(parents=True, exist_ok=True)
        environ = {**child_env(settings), **approach.env}
        samples = samples_file(settings, scenario, approach.slug) if approach.samples else None
        spec.write_text(
            json.dumps(
                {
                    "benchmark": benchmark,
                    "approach": approach.name,
                    "argv": list(approach.argv),
                    "env": environ,
                    "cwd": str(approach.cwd or settings.cwd),
                    "expect": dict(approach.expect),
                    "samples": str(samples) if samples else None,
                }
            ),
            encoding="utf-8",
        )
        return [sys.executable, str(INSIDE), *common, "--loops", "1", "--spec", str(spec)]
    setup, statement = approach.argv
    assert approach.python is not None, approach
    return [
        str(approach.python),
        "-m",
        "pyperf",
        "timeit",
        *common,
        "--loops",
        str(shape.timeit_loops),
        "--inherit-environ",
        inherit,
        "--name",
        benchmark,
        "--setup",
        setup,
        statement,
    ]


def measure(
    settings: Settings,
    scenario: str,
    benchmark: str,
    approaches: Sequence[Approach],
    shape: Shape,
) -> None:
    """``shape.rounds`` rounds of every approach, the order rotating each round."""
    (settings.results / scenario).mkdir(parents=True, exist_ok=True)
    for round_ in range(shape.rounds):
        shift = round_ % len(approaches)
        for approach in [*approaches[shift:], *approaches[:shift]]:
            run(
                pyperf_argv(settings, scenario, benchmark, approach, shape),
                what=f"pyperf: {scenario}, {approach.name} ({benchmark})",
                env={**child_env(settings), **approach.env},
                cwd=approach.cwd or settings.cwd,
            )


def load(settings: Settings, scenario: str, slug: str) -> Any:
    """The pyperf suite of one approach of a scenario."""
    return pyperf.BenchmarkSuite.load(str(result_file(settings, scenario, slug)))


def values(settings: Settings, scenario: str, slug: str, benchmark: str) -> list[float]:
    """Every value pyperf recorded (seconds), warm-ups left out."""
    return list(load(settings, scenario, slug).get_benchmark(benchmark).get_values())


def median_ms(settings: Settings, scenario: str, slug: str, benchmark: str) -> float:
    """pyperf's median of a benchmark, in milliseconds."""
    return float(load(settings, scenario, slug).get_benchmark(benchmark).median()) * 1000.0


def side_samples(settings: Settings, scenario: str, slug: str) -> list[dict[str, Any]]:
    path = samples_file(settings, scenario, slug)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def sample_median(samples: Sequence[Mapping[str, Any]], key: str, **where: Any) -> float:
    chosen = [s[key] for s in samples if all(s.get(k) == v for k, v in where.items())]
    return statistics.median(chosen) if chosen else float("nan")


def compare_to(settings: Settings, scenario: str, slugs: Sequence[str]) -> str:
    """``pyperf compare_to --table`` of a scenario's approaches, the first the reference."""
    files = [str(result_file(settings, scenario, slug)) for slug in slugs]
    result = run(
        [sys.executable, "-m", "pyperf", "compare_to", "--table", *files],
        what=f"pyperf compare_to ({scenario})",
    )
    return result.stdout.rstrip()
