"""The exceptions odibi_ext raises on purpose, all under :class:`OdibiExtError`.

Each error carries its context as attributes (``type_name``, ``distribution``,
``version``, ``target``, ...) as well as in its message, and each message says
what to do about it. The original exception of a failed load is kept as
``__cause__``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any
from typing import TypeVar

#: How a type name appears in messages: long or odd names are cut, control
#: characters escaped (``repr``), so one hostile name cannot flood a log line.
_NAME_LIMIT = 80


def describe_name(type_name: object) -> str:
    """``repr`` of a type name, shortened to a readable length."""
    text = repr(type_name)
    if len(text) > _NAME_LIMIT:
        text = text[: _NAME_LIMIT - 4] + "...'"
    return text


def describe_provider(distribution: str | None, version: str | None) -> str:
    """``"odibi-sqlite 1.0.0"``, or a placeholder when the provider is unknown."""
    if distribution is None:
        return "an unknown distribution"
    return f"{distribution} {version}" if version else distribution


def describe_entry_point(distribution: str | None, version: str | None, target: str) -> str:
    """``"odibi-sqlite 1.0.0 (odibi_sqlite:create)"``."""
    return f"{describe_provider(distribution, version)} ({target})"


_Error = TypeVar("_Error", bound="OdibiExtError")


def _rebuild(cls: type[OdibiExtError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


def copy_error(error: _Error) -> _Error:
    """A new exception like ``error``: same class, message, attributes, notes and cause.

    It has no traceback and no ``__context__`` of its own yet. A remembered
    failure is raised as a fresh copy each time, so one caller never sees
    another's context or keeps another's frames alive.
    """
    state = dict(error.__dict__)
    if "__notes__" in state:
        state["__notes__"] = list(state["__notes__"])
    clone: _Error = _rebuild(type(error), error.args, state)
    clone.__cause__ = error.__cause__
    clone.__suppress_context__ = error.__suppress_context__
    return clone


def add_note(exc: BaseException, note: str) -> None:
    """Add ``note`` to ``exc``'s ``__notes__``, as ``exc.add_note`` (PEP 678) does from 3.11.

    Before Python 3.11 the note is kept the same way, where pytest and other
    tools that read ``__notes__`` show it; the interpreter's own traceback
    prints notes from 3.11 only.
    """
    if sys.version_info >= (3, 11):
        exc.add_note(note)
        return
    notes = getattr(exc, "__notes__", None)
    if not isinstance(notes, list):
        notes = exc.__notes__ = []  # type: ignore[attr-defined,unused-ignore]
    notes.append(note)


class OdibiExtError(Exception):
    """Base of every error odibi_ext raises on purpose.

    ``type_name`` is the driver the error is about, or ``None``.
    """

    def __init__(self, message: str, *, type_name: str | None = None) -> None:
        super().__init__(message)
        self.type_name = type_name

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only context would be lost by Exception's default pickling,
        # which replays only ``args``; errors cross process boundaries in
        # multiprocessing workers and in ``check --isolate``.
        return (_rebuild, (type(self), self.args, self.__dict__))


class DriverNotFoundError(OdibiExtError, LookupError):
    """No driver of that type name can be had.

    ``available`` lists the names that are offered, ``suggestion`` the closest
    one (or ``None``), ``reason`` why a name that does exist cannot be used
    (disabled, excluded by policy, pinned to an absent distribution).
    """

    def __init__(
        self,
        type_name: str,
        *,
        available: Iterable[str] = (),
        reason: str | None = None,
    ) -> None:
        self.available = tuple(sorted(available))
        self.reason = reason
        self.suggestion = close_match(type_name, self.available)
        super().__init__(self._compose(type_name), type_name=type_name)

    def _compose(self, type_name: str) -> str:
        if self.reason is not None:
            message = f"driver {describe_name(type_name)} cannot be used: {self.reason}"
        else:
            message = f"no driver named {describe_name(type_name)} is installed or registered"
        message += f"; did you mean {self.suggestion!r}?" if self.suggestion else "."
        shown = ", ".join(_display(name) for name in self.available[:20]) or "none"
        if len(self.available) > 20:
            shown += f", ... ({len(self.available)} in all)"
        message += f" Available drivers: {shown}."
        if self.reason is None:
            message += (
                " Install a distribution that provides it in the 'odibi.connections'"
                " entry-point group, or register a factory in-process."
            )
        return message


class DriverLoadError(OdibiExtError):
    """The driver exists but could not be imported or loaded.

    ``target`` is the entry point's ``"module:attr"``; ``distribution`` and
    ``version`` name its provider. The original exception is ``__cause__``.
    """

    def __init__(
        self,
        message: str,
        *,
        type_name: str,
        target: str,
        distribution: str | None,
        version: str | None,
    ) -> None:
        super().__init__(message, type_name=type_name)
        self.target = target
        self.distribution = distribution
        self.version = version

    @classmethod
    def from_exception(
        cls,
        exc: BaseException,
        *,
        type_name: str,
        target: str,
        distribution: str | None,
        version: str | None,
    ) -> DriverLoadError:
        """The error for a plugin that raised ``exc`` while loading; ``exc`` becomes its cause."""
        provider = describe_provider(distribution, version)
        message = (
            f"driver {describe_name(type_name)} failed to load from {target!r} ({provider}): "
            f"{describe_exception(exc)}. {load_advice(exc, target, distribution)}"
        )
        error = cls(
            message,
            type_name=type_name,
            target=target,
            distribution=distribution,
            version=version,
        )
        error.__cause__ = exc
        return error

    @classmethod
    def in_progress(
        cls, *, type_name: str, target: str, distribution: str | None, version: str | None
    ) -> DriverLoadError:
        """The error for asking for a driver while its own import is under way.

        From the importing thread, or from a thread it started and waits for:
        waiting would never end. ``loading`` is True on it.
        """
        error = cls(
            f"driver {describe_name(type_name)} ({describe_provider(distribution, version)}, "
            f"{target!r}) is still being imported: its module asked for it, or a thread it "
            f"started and waits for did. Ask for the driver after its module has finished "
            f"importing",
            type_name=type_name,
            target=target,
            distribution=distribution,
            version=version,
        )
        error.loading = True
        return error

    #: Whether the driver was asked for while its own import was under way.
    loading = False

    @classmethod
    def invalid_target(
        cls, *, type_name: str, target: str, distribution: str | None, version: str | None
    ) -> DriverLoadError:
        """The error for an entry point whose value is not ``module:attr``."""
        return cls(
            f"driver {describe_name(type_name)} cannot be loaded: its entry point value "
            f"{target!r} ({describe_provider(distribution, version)}) is not 'module:attr'. "
            f"Report it to the maintainers of {distribution or 'the providing distribution'}",
            type_name=type_name,
            target=target,
            distribution=distribution,
            version=version,
        )


class InvalidFactoryError(DriverLoadError):
    """The loaded object is not a callable accepting ``(name, config)``.

    ``expected`` is ``"(name, config)"``; ``actual`` the signature found, or a
    description of the object when it is not callable.
    """

    expected = "(name, config)"

    def __init__(
        self,
        *,
        type_name: str,
        target: str,
        distribution: str | None,
        version: str | None,
        actual: str,
    ) -> None:
        self.actual = actual
        if target.startswith("<registered"):
            by = target[len("<registered") : -1].strip() or "in-process"
            where = f"registered {by}" + (
                f" from {describe_provider(distribution, version)}" if distribution else ""
            )
            fix = (
                f"fix the factory passed to register_connection_factory in "
                f"{distribution or 'your code'}"
            )
        else:
            where = f"target {target!r} from {describe_provider(distribution, version)}"
            fix = (
                f"fix the entry point or the factory's signature in "
                f"{distribution or 'the providing distribution'}"
            )
        message = (
            f"driver {describe_name(type_name)} ({where}) is not a valid factory: expected a "
            f"callable accepting {self.expected}, got {actual}. A factory is called as "
            f"factory(name, config) and returns a connection; {fix}."
        )
        super().__init__(
            message,
            type_name=type_name,
            target=target,
            distribution=distribution,
            version=version,
        )


class DriverConflictError(OdibiExtError):
    """Several providers offer one type name, or ``register`` would overwrite one.

    ``candidates`` holds ``(distribution, version, target)`` for every provider
    (``distribution`` is ``None`` for an in-process driver).
    """

    def __init__(
        self,
        message: str,
        *,
        type_name: str,
        candidates: Sequence[tuple[str | None, str | None, str]] = (),
    ) -> None:
        super().__init__(message, type_name=type_name)
        self.candidates = tuple(candidates)

    @classmethod
    def already_provided(
        cls, type_name: str, candidates: Sequence[tuple[str | None, str | None, str]]
    ) -> DriverConflictError:
        """The error for ``register`` of a name something already provides."""
        if all(distribution is None for distribution, _, _ in candidates):
            return cls(
                f"driver {describe_name(type_name)} is already registered in-process; pass "
                f"replace=True to overwrite it, or unregister it first",
                type_name=type_name,
                candidates=candidates,
            )
        providers = ", ".join(
            describe_entry_point(distribution, version, target)
            for distribution, version, target in candidates
        )
        return cls(
            f"driver {describe_name(type_name)} is already provided by {providers}; pass "
            f"replace=True to shadow it with the in-process driver",
            type_name=type_name,
            candidates=candidates,
        )


class InvalidConnectionError(OdibiExtError):
    """A factory returned something that is not a connection.

    ``returned_type`` is the qualified name of what it returned, ``missing``
    the connection methods it lacks (``get_path``, ``validate``).
    """

    def __init__(
        self,
        *,
        type_name: str,
        distribution: str | None,
        version: str | None,
        returned_type: str,
        missing: Sequence[str],
    ) -> None:
        self.distribution = distribution
        self.version = version
        self.returned_type = returned_type
        self.missing = tuple(missing)
        message = (
            f"driver {describe_name(type_name)} from {describe_provider(distribution, version)}"
            f" returned a {returned_type}, which is not a connection: it lacks callable "
            f"{', '.join(self.missing)}. A factory must return an object with get_path() and "
            f"validate() (subclass odibi_ext.Connection); report this to the maintainers of "
            f"{distribution or 'the driver'}."
        )
        super().__init__(message, type_name=type_name)


class ConnectionFailedError(OdibiExtError, RuntimeError):
    """A factory ended with a ``BaseException`` that is not an ``Exception`` (``SystemExit``...).

    Such an exception would end the caller (or silently set a command's exit
    status), so it is carried as this error instead; the original is
    ``__cause__``. Only ``KeyboardInterrupt`` is let through.
    """

    def __init__(
        self,
        exc: BaseException,
        *,
        type_name: str,
        distribution: str | None,
        version: str | None,
        connection: str,
        secrets: Iterable[str] = (),
    ) -> None:
        self.distribution = distribution
        self.version = version
        dist = distribution or "the driver"
        raised = describe_exception(exc)
        if secrets:  # the config's secret values must not reach the message
            from odibi_ext.redaction import mask_text

            raised = mask_text(raised, secrets)
        message = (
            f"driver {describe_name(type_name)} from {describe_provider(distribution, version)} "
            f"raised {raised} while creating connection {connection!r}. A "
            f"factory must raise an exception, not end the process: report this to the "
            f"maintainers of {dist}"
        )
        super().__init__(message, type_name=type_name)
        self.__cause__ = exc


def _display(type_name: str) -> str:
    """A type name as a list in a message shows it: odd or long ones escaped and cut."""
    if type_name.isprintable() and len(type_name) <= _NAME_LIMIT:
        return type_name
    return describe_name(type_name)


def close_match(type_name: str, available: Sequence[str]) -> str | None:
    """The name in ``available`` closest to ``type_name`` (for "did you mean"), or ``None``."""
    if not available or not isinstance(type_name, str) or len(type_name) > 200:
        return None
    import difflib  # only errors need it; keeps import odibi_ext light

    matches = difflib.get_close_matches(type_name, available, n=1, cutoff=0.6)
    if not matches:
        lowered = {name.lower(): name for name in available}
        return lowered.get(type_name.lower())
    return matches[0]


def describe_exception(exc: BaseException) -> str:
    """``"ExcType: message"``, or ``"ExcType"`` when the message is empty."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def load_advice(exc: BaseException, target: str, distribution: str | None) -> str:
    """What an operator can do about a plugin that raised ``exc`` while loading."""
    dist = distribution or "the providing distribution"
    module = target.partition(":")[0].strip()
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        if module == exc.name or module.startswith(exc.name + "."):
            return (
                f"The distribution's metadata is installed but its module is missing: "
                f"reinstall {dist} (pip install --force-reinstall {dist}) or uninstall it"
            )
        return (
            f"The module {exc.name!r} it needs is not installed: install it (or reinstall "
            f"{dist} with its dependencies), or disable the driver in the policy file"
        )
    if isinstance(exc, ImportError):
        return f"Fix the installation of {dist}, or disable the driver in the policy file"
    if isinstance(exc, AttributeError):
        return (
            f"The entry point names an attribute its module does not define: upgrade or "
            f"reinstall {dist}, or report it to its maintainers"
        )
    if isinstance(exc, SyntaxError):
        return f"Its code does not compile on this Python: upgrade {dist} or disable the driver"
    if isinstance(exc, SystemExit):
        return (
            f"Its module called sys.exit() while importing: report it to the maintainers of "
            f"{dist} and disable the driver in the policy file meanwhile"
        )
    return (
        f"Its module raised while importing: report it to the maintainers of {dist}, "
        f"or disable the driver in the policy file"
    )
