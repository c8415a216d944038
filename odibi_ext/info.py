"""What the registry knows about a driver: :class:`DriverInfo`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any
from typing import Literal

from odibi_ext.discovery import Candidate

Status = Literal["available", "loaded", "failed", "conflict", "disabled"]
Origin = Literal["entry_point", "registered"]


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
        data = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        data["candidates"] = [candidate._asdict() for candidate in self.candidates]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriverInfo:
        """The inverse of :meth:`to_dict`; unknown keys are ignored (newer writers)."""
        known = {f.name for f in dataclasses.fields(cls)}
        fields = {key: value for key, value in data.items() if key in known}
        fields["candidates"] = tuple(
            Candidate(**{k: v for k, v in candidate.items() if k in Candidate._fields})
            for candidate in fields.get("candidates", ())
        )
        return cls(**fields)
