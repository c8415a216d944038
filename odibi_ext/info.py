"""What the registry knows about a driver: :class:`DriverInfo` and its :class:`Candidate` s."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Final, Literal

Status = Literal["available", "loaded", "failed", "conflict", "disabled"]
Origin = Literal["entry_point", "registered"]

#: ``DriverInfo.target`` of a driver registered in-process.
REGISTERED_TARGET: Final = "<registered>"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One entry point offering a type name, with the distribution that publishes it.

    ``location`` is the ``sys.path`` entry the distribution was found in.
    ``selected`` and ``reason`` say whether the policy took this candidate and
    why it was taken or excluded; discovery leaves them unset.
    """

    name: str
    target: str
    distribution: str | None
    version: str | None
    location: str | None = None
    selected: bool = False
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class DriverInfo:
    """Everything the registry knows about one driver, without importing it.

    ``status`` is ``"available"`` (not loaded yet), ``"loaded"``, ``"failed"``,
    ``"conflict"`` (several distributions offer the name and the policy does
    not choose) or ``"disabled"``. ``load_ms`` is set once loaded; ``error`` is
    ``"ExcType: message"`` when failed or conflicting. ``reason`` explains a
    status the policy decided. ``candidates`` lists every installed entry point
    offering the name. ``signature`` and ``doc`` (the docstring's first
    paragraph) are known once the factory is loaded; ``module_file`` is filled
    in on request (``odibi-ext show``).
    """

    name: str
    target: str
    distribution: str | None
    version: str | None
    origin: Origin
    status: Status
    load_ms: float | None = None
    error: str | None = None
    reason: str | None = None
    candidates: tuple[Candidate, ...] = ()
    signature: str | None = None
    doc: str | None = None
    module_file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the fields above, ``candidates`` as a list of dicts."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriverInfo:
        """The inverse of :meth:`to_dict`; unknown keys are ignored (newer writers)."""
        known = {f.name for f in dataclasses.fields(cls)}
        fields = {key: value for key, value in data.items() if key in known}
        candidate_fields = {f.name for f in dataclasses.fields(Candidate)}
        fields["candidates"] = tuple(
            Candidate(**{k: v for k, v in candidate.items() if k in candidate_fields})
            for candidate in fields.get("candidates", ())
        )
        return cls(**fields)
