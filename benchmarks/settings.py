"""What a benchmark run measures and where it writes: the command line, resolved."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NAMESPACE = "odibi.connections"


@dataclass(frozen=True)
class Shape:
    """How pyperf runs each benchmark: ``rounds`` x ``processes`` worker processes.

    Within a round every approach of a comparison runs once, their order
    rotating from round to round, so noise on the machine hits both sides of a
    ratio. pyperf appends each round's runs to the approach's JSON file.
    """

    rounds: int
    processes: int
    values: int
    warmups: int
    #: Loops per value of ``pyperf timeit``; 0: pyperf calibrates them.
    timeit_loops: int = 0


@dataclass
class Settings:
    """The command line, resolved."""

    ns: list[int]
    k: int
    import_ms: float
    out: Path
    shape: Shape
    odibi_shape: Shape
    odibi_ks: list[int]
    odibi_version: str
    pythons: list[Path]
    pythons_n: int
    chart_dir: Path | None
    quick: bool = False
    target: str = field(init=False)

    def __post_init__(self) -> None:
        self.target = f"bench{min(7, self.k - 1):02d}"

    @property
    def target_module(self) -> str:
        return "odibi_bench_" + self.target[len("bench") :]

    @property
    def home(self) -> Path:
        """``HOME`` and ``XDG_CACHE_HOME`` of every measured child: their caches."""
        return self.out / "home"

    @property
    def cwd(self) -> Path:
        """The (empty, backdated) working directory of the measured children."""
        return self.out / "cwd"

    @property
    def results(self) -> Path:
        """pyperf's JSON results: one directory per scenario, one file per approach."""
        return self.out / "results"

    @property
    def odibi_project(self) -> Path:
        return self.out / "odibi-project"
