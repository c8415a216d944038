"""A pyperf script: each value is the time a child process reports for its own work.

Some figures can only be timed inside a fresh process (the first connection of
a process, Odibi's connection building while a project loads): the child
times its work and prints a JSON line with ``seconds`` (and what it imported
and built). pyperf runs this script's worker processes, warm-ups and values;
each loop runs one child, checks its report against the spec's ``expect`` and
adds its ``seconds``. The spec (``--spec FILE``, JSON) names the benchmark and
holds the child's argv, environment and working directory.

Standalone (pyperf and the standard library only): pyperf re-runs it by path
as its worker.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pyperf  # type: ignore[import-untyped]


def time_child(loops: int, spec: dict[str, Any]) -> float:
    """Run the child ``loops`` times; the sum of the seconds they report."""
    total = 0.0
    for _ in range(loops):
        result = subprocess.run(
            spec["argv"],
            env=spec["env"],
            cwd=spec["cwd"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{spec['approach']}: the child failed (exit {result.returncode}):\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        report = json.loads(result.stdout.splitlines()[-1])
        for key, wanted in spec["expect"].items():
            if report.get(key) != wanted:
                raise RuntimeError(
                    f"{spec['approach']} ({spec['benchmark']}): {key} is "
                    f"{report.get(key)!r}, expected {wanted!r}"
                )
        if spec.get("samples"):
            with open(spec["samples"], "a", encoding="utf-8") as samples:
                samples.write(json.dumps(report) + "\n")
        total += float(report["seconds"])
    return total


def add_cmdline_args(cmd: list[str], args: Any) -> None:
    cmd.extend(("--spec", args.spec))


def main() -> None:
    runner = pyperf.Runner(add_cmdline_args=add_cmdline_args)
    runner.argparser.add_argument("--spec", required=True, help="the child, as JSON")
    args = runner.parse_args()
    with open(args.spec, encoding="utf-8") as file:
        spec = json.load(file)
    runner.metadata["description"] = spec["approach"]
    runner.bench_time_func(spec["benchmark"], time_child, spec)


if __name__ == "__main__":
    main()
