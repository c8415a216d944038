"""The driver contract: a factory callable as ``factory(name, config)`` returning a connection."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Final

from odibi_ext.errors import InvalidConnectionError, InvalidFactoryError

#: Factories are called with these; binding them proves the signature fits.
_PROBE_ARGUMENTS: Final[tuple[str, dict[str, Any]]] = ("name", {})
#: What a connection must have, callable.
CONNECTION_METHODS: Final = ("get_path", "validate")


def check_factory(
    factory: object,
    *,
    type_name: str,
    target: str,
    distribution: str | None,
    version: str | None,
) -> str | None:
    """Check that ``factory`` can be called as ``factory(name, config)``.

    Returns its signature as text, or ``None`` when Python cannot read it
    (some builtins), which is accepted. Raises :class:`InvalidFactoryError`
    showing the expected ``(name, config)`` and what was found.
    """

    def invalid(actual: str) -> InvalidFactoryError:
        return InvalidFactoryError(
            type_name=type_name,
            target=target,
            distribution=distribution,
            version=version,
            actual=actual,
        )

    if not callable(factory):
        raise invalid(f"a {type(factory).__qualname__} object, which is not callable")
    try:
        signature = inspect.signature(factory)
    except Exception:  # unreadable signatures (builtins, odd callables) are accepted
        return None
    try:
        signature.bind(*_PROBE_ARGUMENTS)
    except TypeError:
        raise invalid(f"{_kind(factory)} with signature {signature}") from None
    return str(signature)


def check_connection(
    connection: object,
    *,
    type_name: str,
    distribution: str | None,
    version: str | None,
) -> None:
    """Raise :class:`InvalidConnectionError` unless ``connection`` has callable ``get_path``
    and ``validate``."""
    missing = [name for name in CONNECTION_METHODS if not _has_callable(connection, name)]
    if missing:
        raise InvalidConnectionError(
            type_name=type_name,
            distribution=distribution,
            version=version,
            returned_type=_qualified_type(connection),
            missing=missing,
        )


def first_paragraph(factory: Callable[..., Any]) -> str | None:
    """The first paragraph of the factory's docstring, on one line."""
    try:
        doc = inspect.getdoc(factory)
    except Exception:
        return None
    if not doc:
        return None
    return " ".join(doc.strip().split("\n\n", 1)[0].split())


def _has_callable(obj: object, name: str) -> bool:
    try:
        return callable(getattr(obj, name))
    except Exception:  # a hostile __getattr__ is as good as missing
        return False


def _kind(factory: object) -> str:
    if inspect.isclass(factory):
        return f"class {factory.__qualname__}"
    if inspect.isfunction(factory) or inspect.ismethod(factory):
        return f"function {factory.__qualname__}"
    return f"a callable {type(factory).__qualname__}"


def _qualified_type(obj: object) -> str:
    kind = type(obj)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"
