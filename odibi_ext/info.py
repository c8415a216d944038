"""What the registry knows about a driver: :class:`DriverInfo`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from typing import Final
from typing import Literal

from odibi_ext.contract import REGISTERED_TARGET
from odibi_ext.contract import describe_signature
from odibi_ext.contract import first_paragraph
from odibi_ext.discovery import Candidate
from odibi_ext.errors import DriverLoadError
from odibi_ext.errors import describe_exception
from odibi_ext.errors import load_advice
from odibi_ext.resolution import Resolution

Status = Literal["available", "loaded", "failed", "conflict", "disabled"]
Origin = Literal["entry_point", "registered", "builtin"]

_SHADOWED: Final = "shadowed by a driver registered in-process"


@dataclass(frozen=True)
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


def entry_point_info(
    resolution: Resolution,
    *,
    load_ms: float | None,
    factory: Callable[..., Any] | None,
    failure: DriverLoadError | None,
) -> DriverInfo:
    """What is known of an installed driver: the policy's verdict, then what loading did."""
    status: Status
    error = reason = None
    if resolution.verdict == "conflict":
        status, error = "conflict", f"DriverConflictError: {resolution.reason}"
    elif resolution.verdict == "disabled":
        status, reason = "disabled", resolution.reason
    elif resolution.verdict == "unpinned":
        status, error = "failed", f"DriverNotFoundError: {resolution.reason}"
        reason = resolution.reason
    elif load_ms is not None:
        status = "loaded"
    elif failure is not None:
        status = "failed"
        cause = failure.__cause__
        error = describe_exception(cause if cause is not None else failure)
        reason = (
            load_advice(cause, failure.target, failure.distribution)
            if cause is not None
            else str(failure)
        )
    else:
        status = "available"
    shown = _shown_candidates(resolution)
    if reason is None and shown and all(c.registered_by for c in shown):
        reason = "registered by " + ", ".join(dict.fromkeys(str(c.registered_by) for c in shown))
    return DriverInfo(
        name=resolution.name,
        target=_joined(c.target for c in shown) or "",
        distribution=_joined(c.distribution for c in shown),
        version=_joined(c.version for c in shown),
        origin=_origin(shown),
        status=status,
        load_ms=load_ms,
        error=error,
        reason=reason,
        candidates=resolution.candidates,
        signature=describe_signature(factory) if factory is not None else None,
        doc=first_paragraph(factory) if factory is not None else None,
    )


def registered_info(
    type_name: str,
    factory: Callable[..., Any],
    *,
    disabled_by: str | None,
    shadowed: tuple[Candidate, ...],
    failure: DriverLoadError | None = None,
) -> DriverInfo:
    """What is known of an in-process driver; ``shadowed`` are installed ones it hides."""
    if failure is not None:  # registered as a host accepts it, refused by the contract
        return DriverInfo(
            name=type_name,
            target=REGISTERED_TARGET,
            distribution=None,
            version=None,
            origin="registered",
            status="failed",
            error=describe_exception(failure),
            reason=str(failure),
            candidates=tuple(c._replace(selected=False, reason=_SHADOWED) for c in shadowed),
        )
    return DriverInfo(
        name=type_name,
        target=REGISTERED_TARGET,
        distribution=None,
        version=None,
        origin="registered",
        status="disabled" if disabled_by else "loaded",
        load_ms=None if disabled_by else 0.0,
        reason=f"disabled by {disabled_by}" if disabled_by else None,
        candidates=tuple(c._replace(selected=False, reason=_SHADOWED) for c in shadowed),
        signature=None if disabled_by else describe_signature(factory),
        doc=None if disabled_by else first_paragraph(factory),
    )


def _origin(shown: tuple[Candidate, ...]) -> Origin:
    origins = {c.origin for c in shown}
    if origins == {"builtin"}:
        return "builtin"
    if origins == {"registered"}:
        return "registered"
    return "entry_point"


def _shown_candidates(resolution: Resolution) -> tuple[Candidate, ...]:
    """The candidates a driver's summary fields describe."""
    selected = resolution.selected
    if selected is not None:
        return (selected,)
    if resolution.contenders:
        return resolution.contenders
    return resolution.candidates


def _joined(values: Iterable[str | None]) -> str | None:
    unique = list(dict.fromkeys(value for value in values if value is not None))
    return ", ".join(unique) if unique else None
