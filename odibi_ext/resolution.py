"""Applying a :class:`~odibi_ext.policy.Policy` to the candidates of each type name.

Everything here is decided from metadata alone, before any plugin module is
imported: a candidate the policy excludes never runs.

The rules, in order: candidates of distributions outside
``allowed_distributions`` are dropped (a name left with none is hidden); a pin
keeps only the pinned distribution (none left: the name is unusable); a
disabled name is never loaded; several candidates left are a conflict, which
``on_conflict`` either reports (``"error"``) or settles by ``sys.path`` order
(``"first"`` / ``"last"``).
"""

import logging
from collections.abc import Iterable
from collections.abc import Set
from typing import TYPE_CHECKING
from typing import Final
from typing import Literal
from typing import NamedTuple
from typing import Optional

from odibi_ext.discovery import Candidate
from odibi_ext.discovery import normalize_distribution
from odibi_ext.errors import describe_entry_point
from odibi_ext.errors import describe_name
from odibi_ext.errors import describe_provider

LOG = logging.getLogger(__name__)

# The Literal types exist for type checkers only: building them costs every
# process that loads a driver 0.2 ms.
if TYPE_CHECKING:
    OnConflict = Literal["error", "first", "last"]
    #: ``unpinned``: pinned to a distribution that does not offer the name;
    #: ``hidden``: offered only by distributions outside ``allowed_distributions``.
    Verdict = Literal["available", "conflict", "disabled", "unpinned", "hidden"]
else:
    OnConflict = Verdict = str
ON_CONFLICT_CHOICES: Final = ("error", "first", "last")  # OnConflict's values, in order


if TYPE_CHECKING:  # a runtime Protocol class costs a fresh process a millisecond
    from typing import Protocol

    class Rules(Protocol):
        """What resolution asks of a policy (:class:`odibi_ext.Policy` is the full one)."""

        @property
        def on_conflict(self) -> OnConflict: ...
        @property
        def disabled(self) -> Set[str]: ...
        def allows(self, distribution: str | None) -> bool: ...
        def pin_for(self, type_name: str) -> str | None: ...
        def describe(self) -> str: ...


class _Unrestricted:
    """The default policy's rules, without building a ``Policy`` on the hot path."""

    on_conflict: Final = "error"
    disabled: "Final[frozenset[str]]" = frozenset()

    def allows(self, distribution: Optional[str]) -> bool:
        return True

    def pin_for(self, type_name: str) -> Optional[str]:
        return None

    def describe(self) -> str:
        return "the registry's policy"


#: The rules of ``Policy()``: every distribution allowed, no pins, nothing
#: disabled, conflicts reported.
UNRESTRICTED: "Final[Rules]" = _Unrestricted()


class Resolution(NamedTuple):
    """The policy's verdict on one type name, with every candidate annotated."""

    name: str
    verdict: Verdict
    candidates: tuple[Candidate, ...]
    reason: Optional[str] = None
    #: For a conflict: the candidates that compete for the name.
    contenders: tuple[Candidate, ...] = ()

    @property
    def selected(self) -> Optional[Candidate]:
        """The candidate that will be loaded, if any."""
        return next((c for c in self.candidates if c.selected), None)


def resolve(candidates: Iterable[Candidate], policy: "Rules") -> dict[str, "Resolution"]:
    """The verdict for every type name among ``candidates`` (in ``sys.path`` order)."""
    groups: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        groups.setdefault(candidate.name, []).append(candidate)
    if policy is UNRESTRICTED:  # the common case, on every application's start-up path
        return {
            name: _only(name, group[0]) if len(group) == 1 else _resolve(name, group, policy)
            for name, group in groups.items()
        }
    return {name: _resolve(name, group, policy) for name, group in groups.items()}


def _only(name: str, candidate: Candidate) -> Resolution:
    chosen = candidate._replace(selected=True, reason="the only candidate")
    return Resolution(name, "available", (chosen,))


def describe_candidate(candidate: Candidate) -> str:
    """``odibi-sqlite 1.0.0 (odibi_sqlite:create)``; Odibi's built-ins say so."""
    target = candidate.target
    if candidate.origin == "builtin":
        target = f"built-in {target}"
    elif candidate.registered_by is not None:
        target = f"registered by {candidate.registered_by}"
    return describe_entry_point(candidate.distribution, candidate.version, target)


def _resolve(name: str, group: list[Candidate], policy: "Rules") -> "Resolution":
    notes: dict[int, str] = {}
    remaining = []
    for position, candidate in enumerate(group):
        # Built-ins ship with the host: an allow-list of plugins does not hide them.
        if candidate.origin == "builtin" or policy.allows(candidate.distribution):
            remaining.append(position)
        else:
            notes[position] = (
                f"{candidate.distribution or 'its distribution'} is not in "
                f"allowed_distributions ({policy.describe()})"
            )

    def verdict(kind: Verdict, reason: Optional[str], chosen: Optional[int] = None) -> Resolution:
        contenders = tuple(group[p] for p in remaining) if kind == "conflict" else ()
        annotated = tuple(
            candidate._replace(selected=position == chosen, reason=notes.get(position))
            for position, candidate in enumerate(group)
        )
        return Resolution(name, kind, annotated, reason, contenders)

    if not remaining:
        offered = ", ".join(describe_candidate(c) for c in group)
        return verdict(
            "hidden",
            f"offered only by distributions outside allowed_distributions ({offered}); "
            f"add one to allowed_distributions in {policy.describe()} to use it",
        )

    pin = policy.pin_for(name)
    if pin is not None:
        wanted = normalize_distribution(pin)
        kept = [p for p in remaining if _normalized(group[p]) == wanted]
        for position in remaining:
            if position not in kept:
                notes[position] = f"the name is pinned to {pin} ({policy.describe()})"
        if not kept:
            offered = ", ".join(describe_candidate(group[p]) for p in remaining)
            return verdict(
                "unpinned",
                f"pinned to distribution {pin!r} by {policy.describe()}, which does not provide "
                f"it (offered by {offered}); install {pin} or change the pin",
            )
        remaining = kept

    if name in policy.disabled:
        for position in remaining:
            notes[position] = f"the name is disabled ({policy.describe()})"
        return verdict("disabled", f"disabled by {policy.describe()}")

    if len(remaining) == 1:
        chosen = remaining[0]
        notes[chosen] = "pinned" if pin is not None else "the only candidate"
        return verdict("available", None, chosen)

    offered = ", ".join(describe_candidate(group[p]) for p in remaining)
    if policy.on_conflict == "error":
        message = _conflict_message(name, [group[p] for p in remaining], offered)
        LOG.warning("%s", message, extra={"odibi_ext_driver_report": True})
        for position in remaining:
            notes[position] = "conflicts with another candidate (on_conflict=error)"
        return verdict("conflict", message)

    chosen = remaining[0] if policy.on_conflict == "first" else remaining[-1]
    for position in remaining:
        notes[position] = (
            f"{policy.on_conflict} on sys.path (on_conflict={policy.on_conflict})"
            if position == chosen
            else f"lost to {describe_candidate(group[chosen])} (on_conflict={policy.on_conflict})"
        )
    losers = ", ".join(describe_candidate(group[p]) for p in remaining if p != chosen)
    LOG.warning(
        "type name %s is offered by several entry points; using %s (on_conflict=%s), ignoring %s",
        describe_name(name),
        describe_candidate(group[chosen]),
        policy.on_conflict,
        losers,
    )
    return verdict("available", None, chosen)


def _conflict_message(name: str, contenders: list[Candidate], offered: str) -> str:
    """What is wrong with a conflicting name, and what the operator can do."""
    by_distribution: dict[tuple[str | None, str], list[Candidate]] = {}
    for candidate in contenders:  # a built-in and an entry point of Odibi's are two providers
        key = (_normalized(candidate), candidate.origin)
        by_distribution.setdefault(key, []).append(candidate)
    repeated = [
        same[0].distribution or "its distribution"
        for same in by_distribution.values()
        if len(same) > 1
    ]
    if len(by_distribution) == 1:  # one distribution lists the name twice: no pin can choose
        provider = describe_provider(contenders[0].distribution, contenders[0].version)
        targets = ", ".join(c.target for c in contenders)
        dist = contenders[0].distribution or "the providing distribution"
        return (
            f"type name {describe_name(name)} is offered {len(contenders)} times by {provider} "
            f"itself ({targets}): its own metadata (entry_points.txt) lists the name more than "
            f"once, which no pin can settle. Report it to the maintainers of {dist}; "
            f'meanwhile set on_conflict = "first" or "last" to take one of them, or disable '
            f"the name in the policy file"
        )
    choices = ", ".join(dict.fromkeys(c.distribution or "its distribution" for c in contenders))
    builtin = next((c for c in contenders if c.origin == "builtin"), None)
    keep = f'; {name} = "{builtin.distribution}" keeps Odibi\'s built-in' if builtin else ""
    pin_advice = f'{name} = "DISTRIBUTION", one of: {choices}{keep}'
    message = (
        f"type name {describe_name(name)} is offered by {len(contenders)} providers: "
        f"{offered}; none is loaded while they conflict. Pin the one to use in the "
        f"policy file (table odibi_ext.pins: {pin_advice}), "
        f'set on_conflict = "first" or "last", or uninstall the unwanted distribution'
    )
    for dist in repeated:
        message += (
            f". {dist} itself lists the name more than once in its metadata: report it to "
            f"its maintainers"
        )
    return message


def _normalized(candidate: Candidate) -> Optional[str]:
    if candidate.distribution is None:
        return None
    return normalize_distribution(candidate.distribution)
