"""The driver contract: a factory callable as ``factory(name, config)`` returning a connection."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any
from typing import Final

from odibi_ext.errors import InvalidConnectionError
from odibi_ext.errors import InvalidFactoryError
from odibi_ext.errors import describe_exception

#: Factories are called with these; binding them proves the signature fits.
_PROBE_ARGUMENTS: Final[tuple[str, dict[str, Any]]] = ("name", {})
#: ``DriverInfo.target`` of a driver registered in-process: it has no entry point.
REGISTERED_TARGET: Final = "<registered>"
#: What a connection must have, callable.
CONNECTION_METHODS: Final = ("get_path", "validate")

_CO_VARARGS: Final = 0x04


def check_factory(
    factory: object,
    *,
    type_name: str,
    target: str,
    distribution: str | None,
    version: str | None,
) -> None:
    """Check that ``factory`` can be called as ``factory(name, config)``.

    A callable whose signature Python cannot read (some builtins) is accepted.
    Raises :class:`InvalidFactoryError` showing the expected ``(name, config)``
    and what was found.
    """
    try:
        if not callable(factory):
            actual = f"a {type(factory).__qualname__} object, which is not callable"
        elif _accepts_name_and_config(factory):
            return
        else:
            actual = f"{_kind(factory)} with signature {describe_signature(factory)}"
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a lazy proxy's __getattr__ may raise anything, exit included
        actual = (
            f"a {type(factory).__qualname__} object whose inspection raised "
            f"{describe_exception(exc)}"
        )
    raise InvalidFactoryError(
        type_name=type_name,
        target=target,
        distribution=distribution,
        version=version,
        actual=actual,
    )


def check_connection(
    connection: object,
    *,
    type_name: str,
    distribution: str | None,
    version: str | None,
) -> None:
    """Raise :class:`InvalidConnectionError` unless ``connection`` has callable
    ``get_path`` and ``validate``."""
    missing = [name for name in CONNECTION_METHODS if not _has_callable(connection, name)]
    if missing:
        raise InvalidConnectionError(
            type_name=type_name,
            distribution=distribution,
            version=version,
            returned_type=_qualified_type(connection),
            missing=missing,
        )


def describe_signature(factory: Callable[..., Any]) -> str | None:
    """The factory's signature as text, e.g. ``(name: str, config: Mapping)``.

    Annotations kept as strings (``from __future__ import annotations``) are
    shown as written, not quoted. ``None`` when Python cannot read it.
    """
    import inspect

    try:
        signature = inspect.signature(factory)
    except KeyboardInterrupt:
        raise
    except BaseException:  # builtins and odd callables may have none; a proxy may even exit
        return None
    parameters = [
        p.replace(annotation=_Verbatim(p.annotation)) if isinstance(p.annotation, str) else p
        for p in signature.parameters.values()
    ]
    result = signature.return_annotation
    if isinstance(result, str):
        result = _Verbatim(result)
    return str(signature.replace(parameters=parameters, return_annotation=result))


class _Verbatim(str):
    """An annotation string that prints without quotes."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def first_paragraph(factory: Callable[..., Any]) -> str | None:
    """The first paragraph of the factory's docstring, on one line."""
    import inspect

    try:
        doc = inspect.getdoc(factory)
    except KeyboardInterrupt:
        raise
    except BaseException:
        return None
    if not doc:
        return None
    return " ".join(doc.strip().split("\n\n", 1)[0].split())


def _accepts_name_and_config(factory: Callable[..., Any]) -> bool:
    # Plain functions and plain classes are decided from their code objects:
    # importing ``inspect`` would cost a fresh process more than loading a
    # driver should. Everything else goes through inspect.signature.
    verdict = _accepts_by_code(factory)
    if verdict is not None:
        return verdict
    import inspect

    try:
        signature = inspect.signature(factory)
    except Exception:  # unreadable signatures (builtins, odd callables) are accepted
        return True
    try:
        signature.bind(*_PROBE_ARGUMENTS)
    except TypeError:
        return False
    return True


def _accepts_by_code(factory: Callable[..., Any]) -> bool | None:
    """Whether ``factory(name, config)`` binds, from code objects alone; ``None`` if unsure."""
    function: Any = factory
    bound = 0
    if isinstance(factory, type):
        constructor = getattr(factory, "__new__", None)
        if type(factory).__call__ is not type.__call__ or constructor is not object.__new__:
            return None
        function = getattr(factory, "__init__", None)
        bound = 1  # self
    if type(function) is not types.FunctionType or hasattr(function, "__wrapped__"):
        return None
    if hasattr(factory, "__signature__"):
        return None
    code = function.__code__
    positional = code.co_argcount - bound
    defaults = len(function.__defaults__ or ())
    keyword_only = code.co_varnames[code.co_argcount : code.co_argcount + code.co_kwonlyargcount]
    keyword_defaults = function.__kwdefaults__ or {}
    if any(name not in keyword_defaults for name in keyword_only):
        return False  # a required keyword-only parameter is never given
    required = max(positional - defaults, 0)
    takes_two = positional >= len(_PROBE_ARGUMENTS) or bool(code.co_flags & _CO_VARARGS)
    return required <= len(_PROBE_ARGUMENTS) and takes_two


def _has_callable(obj: object, name: str) -> bool:
    try:
        return callable(getattr(obj, name))
    except KeyboardInterrupt:
        raise
    except BaseException:  # a hostile __getattr__ (sys.exit() included) is as good as missing
        return False


def _kind(factory: object) -> str:
    if isinstance(factory, type):
        return f"class {factory.__qualname__}"
    if isinstance(factory, (types.FunctionType, types.MethodType)):
        return f"function {factory.__qualname__}"
    return f"a callable {type(factory).__qualname__}"


def _qualified_type(obj: object) -> str:
    kind = type(obj)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"
