"""``odibi_ext.Connection`` against the real ``BaseConnection`` of the installed Odibi.

Drift is caught the day Odibi changes: every public member of Odibi's class
must exist here with the same parameters, kinds and defaults, the same
abstract methods and the same SQL attributes, and the SQL helpers must build
the same text.
"""

from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any

import pytest

from odibi_ext import Connection

pytestmark = pytest.mark.odibi

#: What odibi-ext adds to Odibi's class.
ADDED = {"close", "__enter__", "__exit__"}


@pytest.fixture(scope="module")
def base(odibi_host: ModuleType) -> type[Any]:
    """Odibi's ``BaseConnection`` (imported through the fixture that restores logging)."""
    from odibi.connections.base import BaseConnection

    return BaseConnection


def public_members(cls: type) -> dict[str, Any]:
    return {
        name: value
        for name, value in vars(cls).items()
        if not name.startswith("_") or name in {"__enter__", "__exit__"}
    }


def shape(function: Any) -> list[tuple[str, Any, Any]]:
    """Each parameter's name, kind and default; annotations are spelled differently."""
    return [
        (parameter.name, parameter.kind, parameter.default)
        for parameter in inspect.signature(function).parameters.values()
    ]


def test_the_odibi_under_test_is_3_15_1(odibi_host: ModuleType) -> None:
    assert odibi_host.__version__ == "3.15.1"


def test_every_member_of_odibis_class_is_here(base: type[Any]) -> None:
    odibis = public_members(base)
    ours = public_members(Connection)

    assert set(odibis) <= set(ours), set(odibis) - set(ours)
    assert set(ours) - set(odibis) == ADDED


# The set of names is checked above; these are ours, so collection needs no Odibi.
@pytest.mark.parametrize(
    "name",
    sorted(n for n, v in public_members(Connection).items() if callable(v) and n not in ADDED),
)
def test_methods_have_odibis_parameters_and_defaults(base: type[Any], name: str) -> None:
    assert shape(getattr(Connection, name)) == shape(getattr(base, name))


def test_the_same_methods_are_abstract(base: type[Any]) -> None:
    assert Connection.__abstractmethods__ == base.__abstractmethods__


@pytest.mark.parametrize("attribute", ["sql_dialect", "default_schema"])
def test_sql_attributes_have_odibis_defaults(base: type[Any], attribute: str) -> None:
    assert getattr(Connection, attribute) == getattr(base, attribute) == ""


class _Ours(Connection):
    def get_path(self, relative_path: str) -> str:
        return relative_path

    def validate(self) -> None:
        pass


class _QuotingOurs(_Ours):
    default_schema = "main"

    def quote_identifier(self, name: str) -> str:
        return f"[{name}]"


QUERIES = [
    ("orders",),
    ("orders", "sales"),
    ("orders", "", "id > 3"),
    ("orders", "", "", 0),
    ("orders", "s", "a = 1", 10, "id, name"),
]


def odibis_twin(base: type[Any], ours: type[Any]) -> type[Any]:
    """A subclass of Odibi's class with what ``ours`` defines on top of odibi-ext's."""
    own = {k: v for k, v in vars(ours).items() if k in {"default_schema", "quote_identifier"}}

    def get_path(self: Any, relative_path: str) -> str:
        return relative_path

    def validate(self: Any) -> None:
        pass

    return type("_Odibis", (base,), {"get_path": get_path, "validate": validate, **own})


@pytest.mark.parametrize("kind", [_Ours, _QuotingOurs])
@pytest.mark.parametrize("arguments", QUERIES)
def test_sql_helpers_build_what_odibis_build(
    base: type[Any], kind: type[Any], arguments: tuple[Any, ...]
) -> None:
    ours, odibis = kind(), odibis_twin(base, kind)()

    assert ours.build_select_query(*arguments) == odibis.build_select_query(*arguments)
    assert ours.qualify_table(*arguments[:2]) == odibis.qualify_table(*arguments[:2])
    assert ours.quote_identifier("a b") == odibis.quote_identifier("a b")


@pytest.mark.parametrize(
    ("method", "arguments"),
    [
        ("discover_catalog", ()),
        ("get_schema", ("t",)),
        ("profile", ("t",)),
        ("preview", ("t",)),
        ("get_freshness", ("t",)),
    ],
)
def test_optional_methods_raise_not_implemented_as_in_odibi(
    base: type[Any], method: str, arguments: tuple[Any, ...]
) -> None:
    with pytest.raises(NotImplementedError, match="_Ours"):
        getattr(_Ours(), method)(*arguments)
    with pytest.raises(NotImplementedError):
        getattr(odibis_twin(base, _Ours)(), method)(*arguments)
