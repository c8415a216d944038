"""Odibi's table of connection factories under the integration: a view of the registry."""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import MutableMapping
from typing import TYPE_CHECKING
from typing import Any

from odibi_ext.errors import OdibiExtError
from odibi_ext.registry import Factory
from odibi_ext.registry import type_name_of

if TYPE_CHECKING:
    from odibi_ext.odibi.seams import Integration


class FactoryTable(MutableMapping[str, Factory]):
    """Odibi's ``_CONNECTION_FACTORIES`` dict, as a view of the registry in charge.

    ``in``, iteration and ``len`` list the type names a project can use
    (conflicting, disabled and failing ones left out) and import nothing:
    ``odibi list connections`` shows plugins without importing them. Reading
    an item loads that driver; :meth:`get` answers None where Odibi's dict
    would. Setting an item registers as ``register_connection_factory``
    does; deleting one forgets it (a built-in or an installed driver is
    offered again when Odibi registers or a project uses it).
    """

    def __init__(self, integration: Integration) -> None:
        self._integration = integration

    def __getitem__(self, type_name: str) -> Factory:
        registry = self._integration.registry
        if type_name not in self:
            raise KeyError(type_name)
        try:
            return registry.get(type_name)
        except OdibiExtError as error:
            raise KeyError(str(error)) from error

    def get(self, type_name: str, default: Any = None) -> Any:
        try:
            return self[type_name]
        except (KeyError, TypeError):
            return default

    def copy(self) -> dict[str, Factory]:
        """A plain dict of every usable type name's factory (loading those not loaded yet)."""
        copied = {}
        for type_name in self:
            factory = self.get(type_name)
            if factory is not None:
                copied[type_name] = factory
        return copied

    def __setitem__(self, type_name: str, factory: Factory) -> None:
        self._integration.register_connection_factory(type_name, factory)

    def __delitem__(self, type_name: str) -> None:
        try:
            known = self._integration.registry.forget(type_name)
        except TypeError:
            known = False
        if not known:
            raise KeyError(type_name)

    def __contains__(self, type_name: object) -> bool:
        if not isinstance(type_name, str):
            return False
        return type_name_of(type_name) in self._integration.registry.usable_names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._integration.registry.usable_names())

    def __len__(self) -> int:
        return len(self._integration.registry.usable_names())

    def clear(self) -> None:
        """Forget every in-process factory; installed drivers and built-ins stay offered."""
        registry = self._integration.registry
        for info in [registry.info(name) for name in registry.names()]:
            if info.origin == "registered":
                registry.forget(info.name)

    def __repr__(self) -> str:
        return f"<odibi connection factories of {self._integration.registry!r}>"
