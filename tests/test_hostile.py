"""Hostile and odd input, property-based: every input gets success or a documented error.

Documented errors are :class:`~odibi_ext.OdibiExtError` and its subclasses,
and ``TypeError`` / ``ValueError`` where the README says so (a type name that
is not a ``str``, a config that is not a mapping, a name ``register`` refuses,
a bad policy file). Anything else escaping is a bug; so is a traceback from
the CLI, an error message one hostile name can flood, or a file written
outside the cache directory.

Each property is bounded (``max_examples``, no deadline, no example database
written into the working tree); long strings are built by repetition or taken
from fixed lists rather than generated character by character, which keeps
the whole file fast.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import json
import logging
import math
import os
import re
import sys
import tempfile
import time
import types
from collections import OrderedDict
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeSite
from hypothesis import HealthCheck
from hypothesis import event
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from odibi_ext import NAMESPACE
from odibi_ext import ConnectionRegistry
from odibi_ext import DriverConflictError
from odibi_ext import DriverInfo
from odibi_ext import DriverNotFoundError
from odibi_ext import OdibiExtError
from odibi_ext import Policy
from odibi_ext.cli import main
from odibi_ext.redaction import MASK
from odibi_ext.redaction import SECRET_WORDS
from odibi_ext.redaction import is_secret_key
from odibi_ext.redaction import redact
from odibi_ext.redaction import redact_text
from odibi_ext.redaction import scrub
from odibi_ext.redaction import secret_values

#: Hypothesis settings shared by every property here: bounded, no deadline (the
#: first example of a test pays for imports), fixtures reused across examples on
#: purpose, and no example database written into the working tree.
BOUNDED = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: An error message about one name stays readable whatever the name.
MESSAGE_LIMIT = 2000

# -- factories --------------------------------------------------------------------------------


class AnyConnection:
    """A connection that accepts any config and keeps it as given."""

    def __init__(self, name: Any, config: Any) -> None:
        self.name = name
        self.config = config

    def get_path(self, relative_path: str) -> str:
        return str(relative_path)

    def validate(self) -> None:
        return None


def accept_anything(name: Any, config: Any) -> AnyConnection:
    """Accept any name and config."""
    return AnyConnection(name, config)


def not_a_connection(name: Any, config: Any) -> dict[str, Any]:
    """Return something without get_path and validate."""
    return {"name": name}


#: The same factory as a plugin module's source.
ANY_FACTORY = '''
class AnyConnection:
    def __init__(self, name, config):
        self.name = name
        self.config = config

    def get_path(self, relative_path):
        return str(relative_path)

    def validate(self):
        return None


def create(name, config):
    """Accept any name and config."""
    return AnyConnection(name, config)


def not_a_connection(name, config):
    return {"name": name}
'''


def install_hostile_site(site: FakeSite) -> None:
    """Drivers that load, fail, conflict, return a non-connection and have a bad target."""
    site.distribution(
        "odibi-hyp-any",
        entry_points={
            "hyp-any": "hyp_any:create",
            "hyp-notconn": "hyp_any:not_a_connection",
            "hyp-badtarget": "no colon here",
        },
        modules={"hyp_any": ANY_FACTORY},
    )
    site.distribution(
        "odibi-hyp-broken",
        entry_points={"hyp-broken": "hyp_broken:create"},
        modules={"hyp_broken": "raise RuntimeError('broken at import')\n"},
    )
    site.distribution("odibi-hyp-twin-a", entry_points={"hyp-twin": "hyp_any:create"})
    site.distribution("odibi-hyp-twin-b", entry_points={"hyp-twin": "hyp_any:create"})


@pytest.fixture(params=["from_factories", "fake_site"])
def make_registry(request: pytest.FixtureRequest) -> Callable[[], ConnectionRegistry]:
    """A builder of fresh registries: in-process factories only, or over a fake site."""
    if request.param == "from_factories":
        return lambda: ConnectionRegistry.from_factories(
            {"any": accept_anything, "notconn": not_a_connection}
        )
    install_hostile_site(request.getfixturevalue("site"))
    return lambda: ConnectionRegistry(policy=Policy())


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory inside an empty parent (``../x`` lands in the parent)."""
    parent = tmp_path / "work"
    cwd = parent / "cwd"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)
    return parent


def tree(root: Path) -> list[str]:
    """Every path under ``root``, relative, sorted."""
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


# -- type names -------------------------------------------------------------------------------

KNOWN_NAMES = (  # of either registry
    "any",
    "notconn",
    "hyp-any",
    "hyp-notconn",
    "hyp-broken",
    "hyp-twin",
    "hyp-badtarget",
)

HOSTILE_NAMES = (
    "",
    " ",
    "\t",
    "\n",
    "  any  ",
    " hyp-any",
    "../x",
    "../../etc/passwd",
    "/etc/passwd",
    "a/b",
    "C:\\x",
    "\x00",
    "a\x00b",
    "any\x00",
    "x" * 5000,
    "é" * 5000,
    "\x00" * 5000,
    "'" * 5000,
    "💥",
    "\u202eevil",
    "\ud800",
    "a\nb",
    "\x1b[31mred",
    "%s%r%(x)s%",
    "{0}{}",
    "'\"\\",
    "ANY",
    "Any",
    "añy",
    "hyp_any",
    "HYP-ANY",
)

STR_NAMES = st.one_of(
    st.sampled_from(HOSTILE_NAMES),
    st.sampled_from(KNOWN_NAMES),
    st.text(max_size=30),
    st.builds(lambda c, n: c * n, st.characters(), st.integers(81, 6000)),
)
NON_STR_NAMES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.binary(max_size=10),
    st.builds(bytearray, st.binary(max_size=5)),
    st.lists(st.text(max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.tuples(st.text(max_size=3)),
    st.frozensets(st.integers(), max_size=2),
    st.builds(object),
    st.just(str),
    st.just(ConnectionRegistry),
)
TYPE_NAMES = st.one_of(STR_NAMES, NON_STR_NAMES)


def assert_not_found(error: BaseException, type_name: str) -> None:
    """A DriverNotFoundError about ``type_name``, with a bounded message showing its repr."""
    assert isinstance(error, DriverNotFoundError)
    assert isinstance(error, LookupError)
    message = str(error)
    assert len(message) < MESSAGE_LIMIT, f"{len(message)} characters"
    assert repr(type_name)[:60] in message  # the repr, shortened when long
    if len(repr(type_name)) > 100:
        assert repr(type_name) not in message


def refused_by_register(type_name: str) -> bool:
    return not type_name or type_name != type_name.strip() or not type_name.isprintable()


def attempt(call: Callable[[], Any]) -> tuple[Any, OdibiExtError | None]:
    """What ``call()`` returns, or the documented error it raises."""
    try:
        return call(), None
    except OdibiExtError as error:
        return None, error


def check_get(registry: ConnectionRegistry, type_name: Any, known: list[str]) -> None:
    if not isinstance(type_name, str):
        with pytest.raises(TypeError):
            registry.get(type_name)
    elif type_name in known:
        factory, error = attempt(lambda: registry.get(type_name))
        if error is not None:
            assert len(str(error)) < MESSAGE_LIMIT * 2
        else:
            assert callable(factory)
            assert registry.get(type_name) is factory
    else:
        with pytest.raises(DriverNotFoundError) as caught:
            registry.get(type_name)
        assert_not_found(caught.value, type_name)


def check_info(registry: ConnectionRegistry, type_name: Any, known: list[str]) -> None:
    if not isinstance(type_name, str):
        with pytest.raises(TypeError):
            registry.info(type_name)
    elif type_name in known:
        info = registry.info(type_name)
        assert isinstance(info, DriverInfo)
        assert info.name == type_name
        json.dumps(info.to_dict())
    else:
        with pytest.raises(DriverNotFoundError) as caught:
            registry.info(type_name)
        assert_not_found(caught.value, type_name)


def check_create(registry: ConnectionRegistry, type_name: Any, known: list[str]) -> None:
    if not isinstance(type_name, str):
        with pytest.raises(TypeError):
            registry.create(type_name, "conn", {})
    elif type_name in known:
        connection, error = attempt(lambda: registry.create(type_name, "conn", {"a": 1}))
        if error is not None:
            assert len(str(error)) < MESSAGE_LIMIT * 2
        else:
            assert connection.config == {"a": 1}
    else:
        with pytest.raises(DriverNotFoundError) as caught:
            registry.create(type_name, "conn", {})
        assert_not_found(caught.value, type_name)


def check_contains(registry: ConnectionRegistry, type_name: Any, known: list[str]) -> None:
    assert (type_name in registry) is (isinstance(type_name, str) and type_name in known)


def check_register(registry: ConnectionRegistry, type_name: Any, known: list[str]) -> None:
    if not isinstance(type_name, str):
        with pytest.raises(TypeError):
            registry.register(type_name, accept_anything)
        return
    if refused_by_register(type_name):
        with pytest.raises(ValueError, match="type name") as refused:
            registry.register(type_name, accept_anything)
        assert len(str(refused.value)) < MESSAGE_LIMIT
        assert type_name not in registry.names()
        return
    if type_name in known:
        with pytest.raises(DriverConflictError) as conflict:
            registry.register(type_name, accept_anything)
        assert len(str(conflict.value)) < MESSAGE_LIMIT * 2
        return
    registry.register(type_name, accept_anything)
    assert type_name in registry
    assert type_name in registry.names()
    assert registry.get(type_name) is accept_anything
    assert registry.info(type_name).origin == "registered"
    assert registry.create(type_name, "conn", {}).name == "conn"
    registry.unregister(type_name)
    assert type_name not in registry


def check_unregister(registry: ConnectionRegistry, type_name: Any, known: list[str]) -> None:
    if not isinstance(type_name, str):
        with pytest.raises(TypeError):
            registry.unregister(type_name)
    elif type_name in known and registry.info(type_name).origin == "registered":
        registry.unregister(type_name)
        assert type_name not in registry
    else:
        with pytest.raises(DriverNotFoundError) as caught:
            registry.unregister(type_name)
        assert_not_found(caught.value, type_name)


CHECKS = {
    "get": check_get,
    "info": check_info,
    "create": check_create,
    "in": check_contains,
    "register": check_register,
    "unregister": check_unregister,
}


@pytest.mark.parametrize("operation", list(CHECKS))
@BOUNDED
@given(type_name=TYPE_NAMES)
@example(type_name="x" * 5000)
@example(type_name="\x00")
@example(type_name="../x")
@example(type_name="")
@example(type_name=None)
@example(type_name=b"any")
@example(type_name=["any"])
def test_any_type_name_gets_a_result_or_a_documented_error(
    make_registry: Callable[[], ConnectionRegistry],
    workdir: Path,
    operation: str,
    type_name: Any,
) -> None:
    registry = make_registry()
    known = registry.names()
    before = tree(workdir)

    CHECKS[operation](registry, type_name, known)

    assert tree(workdir) == before
    if operation in ("get", "info", "create", "in"):
        assert registry.names() == known


def hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


@BOUNDED
@given(factories=st.dictionaries(TYPE_NAMES.filter(hashable), st.just(0), max_size=3))
def test_from_factories_refuses_bad_names_as_register_does(factories: dict[Any, int]) -> None:
    given_factories = dict.fromkeys(factories, accept_anything)
    bad_type = any(not isinstance(name, str) for name in given_factories)
    bad_value = any(
        isinstance(name, str) and refused_by_register(name) for name in given_factories
    )
    if not bad_type and not bad_value:
        registry = ConnectionRegistry.from_factories(given_factories)
        assert registry.names() == sorted(given_factories)
        return
    with pytest.raises((TypeError, ValueError)) as caught:
        ConnectionRegistry.from_factories(given_factories)
    assert len(str(caught.value)) < MESSAGE_LIMIT


def test_not_found_message_stays_bounded_when_an_available_name_is_huge() -> None:
    registry = ConnectionRegistry.from_factories({"x" * 5000: accept_anything})

    with pytest.raises(DriverNotFoundError) as caught:
        registry.get("y")

    assert len(str(caught.value)) < MESSAGE_LIMIT


# -- configs for create -----------------------------------------------------------------------

NON_MAPPINGS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=10),
    st.binary(max_size=10),
    st.lists(st.tuples(st.text(max_size=3), st.integers()), max_size=3),
    st.tuples(st.integers()),
    st.sets(st.integers(), max_size=3),
    st.frozensets(st.text(max_size=3), max_size=3),
    st.builds(object),
    st.just(dict),
    st.just(OrderedDict),
    st.just(iter([("a", 1)])),
)

HUGE_KEY = "k" * 100_000
ODD_KEYS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["password", "api_key", "Private_Key", "SAS", "auth", HUGE_KEY, "", "\x00"]),
    st.integers(),
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True),
    st.binary(max_size=6),
    st.tuples(st.integers(), st.text(max_size=3)),
    st.frozensets(st.integers(), max_size=2),
)
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "postgresql://user:pw@host/db",
            "Server=x;Password=y;",
            "://:" * 50,
            "x=" * 50,
            "a" * 10_000,
        ]
    ),
    st.binary(max_size=10),
    st.builds(object),
    st.complex_numbers(allow_nan=False, allow_infinity=False),
)
NESTED_VALUES = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.tuples(children, children),
        st.dictionaries(ODD_KEYS, children, max_size=4),
        st.dictionaries(ODD_KEYS, children, max_size=3).map(types.MappingProxyType),
    ),
    max_leaves=25,
)
MAPPINGS = st.one_of(
    st.dictionaries(ODD_KEYS, NESTED_VALUES, max_size=6),
    st.dictionaries(ODD_KEYS, NESTED_VALUES, max_size=4).map(OrderedDict),
    st.dictionaries(ODD_KEYS, NESTED_VALUES, max_size=4).map(types.MappingProxyType),
)


@pytest.fixture
def any_registry(
    make_registry: Callable[[], ConnectionRegistry],
) -> tuple[ConnectionRegistry, str]:
    """A registry and the type name of its accept-anything driver."""
    registry = make_registry()
    return registry, "any" if "any" in registry else "hyp-any"


@BOUNDED
@given(config=NON_MAPPINGS)
def test_create_refuses_a_config_that_is_not_a_mapping_naming_its_type(
    any_registry: tuple[ConnectionRegistry, str], config: Any
) -> None:
    registry, type_name = any_registry

    with pytest.raises(TypeError) as caught:
        registry.create(type_name, "conn", config)

    assert type(config).__qualname__ in str(caught.value)
    assert "mapping" in str(caught.value)


@BOUNDED
@given(name=st.one_of(st.none(), st.integers(), st.binary(max_size=3), st.builds(object)))
def test_create_refuses_a_connection_name_that_is_not_a_str(
    any_registry: tuple[ConnectionRegistry, str], name: Any
) -> None:
    registry, type_name = any_registry

    with pytest.raises(TypeError, match="str"):
        registry.create(type_name, name, {})


@BOUNDED
@given(config=MAPPINGS, name=st.one_of(st.text(max_size=20), st.sampled_from(HOSTILE_NAMES)))
def test_create_hands_any_mapping_to_the_factory_and_logs_it_redacted_at_debug(
    any_registry: tuple[ConnectionRegistry, str],
    caplog: pytest.LogCaptureFixture,
    workdir: Path,
    config: Mapping[Any, Any],
    name: str,
) -> None:
    registry, type_name = any_registry
    caplog.set_level(logging.DEBUG, logger="odibi_ext")
    caplog.clear()
    before, files = repr(config), tree(workdir)

    connection = registry.create(type_name, name, config)

    assert connection.config is config  # handed over as is, not copied
    assert connection.name == name
    assert repr(config) == before  # and not changed
    ours = [record for record in caplog.records if record.name.startswith("odibi_ext")]
    messages = [record.getMessage() for record in ours]  # formatting must not fail either
    assert any("creating connection" in message for message in messages)
    assert tree(workdir) == files


@pytest.mark.parametrize("shape", ["cyclic", "nested 600 deep"])
def test_create_at_debug_survives_a_cyclic_or_deeply_nested_config(
    caplog: pytest.LogCaptureFixture, shape: str
) -> None:
    config: dict[str, Any] = {}
    if shape == "cyclic":
        config["self"] = config
    else:
        inner = config
        for _ in range(600):
            inner["a"] = {}
            inner = inner["a"]
    registry = ConnectionRegistry.from_factories({"any": accept_anything})
    assert registry.create("any", "conn", config).config is config  # fine without DEBUG

    caplog.set_level(logging.DEBUG, logger="odibi_ext")
    connection = registry.create("any", "conn", config)

    assert connection.config is config


# -- policy files -----------------------------------------------------------------------------


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or char == "\x7f":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    """``value`` as an inline TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{toml_string(key)} = {toml_value(item)}" for key, item in value.items())
        return "{" + ", ".join(pairs) + "}"
    raise TypeError(type(value))


def toml_document(document: dict[str, Any], tables: bool) -> str:
    """``document`` as TOML; with ``tables``, top-level tables as ``[name]`` sections."""
    lines = []
    sections = []
    for key, value in document.items():
        if tables and isinstance(value, dict):
            sections.append((key, value))
        else:
            lines.append(f"{toml_string(key)} = {toml_value(value)}")
    for key, value in sections:
        lines.append(f"[{toml_string(key)}]")
        lines.extend(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items())
    return "\n".join(lines) + "\n"


TOML_SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True),
    st.text(max_size=15),
)
TOML_VALUES = st.recursive(
    TOML_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
NAME_LISTS = st.one_of(st.lists(st.text(max_size=10), max_size=4), TOML_VALUES)
POLICY_TABLES = st.fixed_dictionaries(
    {},
    optional={
        "on_conflict": st.one_of(
            st.sampled_from(["error", "first", "last", "Error", ""]), TOML_VALUES
        ),
        "disabled": NAME_LISTS,
        "allowed_distributions": NAME_LISTS,
        "pins": st.one_of(
            st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=3), TOML_VALUES
        ),
        "pinz": TOML_VALUES,
        "odibi_ext": TOML_VALUES,
    },
)
TOML_DOCUMENTS = st.one_of(
    st.dictionaries(st.text(max_size=10), TOML_VALUES, max_size=4),
    st.builds(
        lambda extra, table: {**extra, "odibi_ext": table},
        st.dictionaries(st.text(max_size=10), TOML_VALUES, max_size=2),
        st.one_of(POLICY_TABLES, TOML_VALUES),
    ),
)


def read_policy(path: Path) -> Policy | ValueError:
    """``Policy.from_file(path)``, or the ValueError it raised; any other exception escapes."""
    try:
        return Policy.from_file(path)
    except ValueError as error:
        return error


def assert_policy_or_value_error(path: Path) -> None:
    """``Policy.from_file(path)`` is a Policy, or a ValueError naming the file."""
    outcome = read_policy(path)
    if isinstance(outcome, ValueError):
        assert str(path) in str(outcome)
    else:
        assert isinstance(outcome, Policy)
        assert outcome.source == str(path)
        json.dumps(outcome.to_dict())


@BOUNDED
@given(document=TOML_DOCUMENTS, tables=st.booleans())
def test_policy_from_any_toml_document_is_a_policy_or_a_value_error_naming_the_file(
    document: dict[str, Any], tables: bool
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "policy.toml"
        path.write_text(toml_document(document, tables), encoding="utf-8")

        assert_policy_or_value_error(path)


@BOUNDED
@given(text=st.text(max_size=200))
@example(text="[odibi_ext]\non_conflict = 'first'\n")
@example(text="[odibi_ext]\n[odibi_ext.pins]\na = 1\n")
@example(text="odibi_ext = 5\n")
@example(text="[odibi_ext]\ndisabled = 'x'\n")
@example(text="a = 1979-05-27T07:32:00Z\n")
@example(text="a = 9999-99-99\n")
@example(text="[odibi_ext]\n\x00 = 1\n")
def test_policy_from_any_text_is_a_policy_or_a_value_error_naming_the_file(text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "policy.toml"
        path.write_text(text, encoding="utf-8")

        assert_policy_or_value_error(path)


@BOUNDED
@given(data=st.binary(max_size=200))
@example(data=b"\xff\xfe[odibi_ext]")
@example(data=b"\xef\xbb\xbf[odibi_ext]\n")
@example(data=b'[odibi_ext]\non_conflict = "\xc3\x28"\n')
def test_policy_from_any_bytes_is_a_policy_or_a_value_error_naming_the_file(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "policy.toml"
        path.write_bytes(data)

        assert_policy_or_value_error(path)


def test_policy_from_a_directory_is_a_value_error_naming_it(tmp_path: Path) -> None:
    assert_policy_or_value_error(tmp_path)


def test_policy_file_with_a_huge_integer_is_a_value_error_naming_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[odibi_ext]\non_conflict = " + "1" * 5000 + "\n", encoding="utf-8")

    assert_policy_or_value_error(path)


@pytest.mark.parametrize("opening", ["[", "{a="])
def test_policy_file_nested_too_deep_is_a_value_error_naming_the_file(
    tmp_path: Path, opening: str
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("a = " + opening * 20_000 + "\n", encoding="utf-8")

    assert_policy_or_value_error(path)


def test_policy_path_with_a_nul_character_is_a_value_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "pol\x00icy.toml"

    outcome = read_policy(path)

    assert isinstance(outcome, ValueError)
    assert "pol" in str(outcome)


# -- --set through the CLI --------------------------------------------------------------------

SET_ITEMS = st.one_of(
    st.text(max_size=40),
    st.builds(lambda key, value: f"{key}={value}", st.text(max_size=12), st.text(max_size=30)),
    st.sampled_from(
        [
            "=",
            "=x",
            " =x",
            "\t=x",
            "k=",
            "k==",
            "k==v=",
            "password=hunter2-secret",
            "api_key=" + "s" * 100,
            "k=[1, 2]",
            'k={"a": 1}',
            "k=null",
            "k=true",
            "k=1e999",
            "k=-0",
            "k=NaN",
            "k=Infinity",
            "k=" + "1" * 5000,
            'k="007"',
            'k="',
            "k=\x00",
            "\x00=\x00",
            "k=\ud800",
            "-k=v",
            "--k=v",
            "k=" + "[" * 100,
            HUGE_KEY + "=v",
            "../x=../y",
        ]
    ),
)


def malformed(item: str) -> bool:
    key, sep, _ = item.partition("=")
    return not sep or not key.strip()


def too_large(item: str) -> bool:
    """A JSON number no float holds (``1e999``): a usage error, never Infinity in the JSON."""

    def refuse(constant: str) -> object:
        raise ValueError(constant)

    try:
        value = json.loads(item.partition("=")[2], parse_constant=refuse)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, float) and value in (float("inf"), float("-inf"))


@pytest.fixture
def cli_site(site: FakeSite) -> FakeSite:
    install_hostile_site(site)
    return site


@BOUNDED
@given(items=st.lists(SET_ITEMS, min_size=1, max_size=4), fmt=st.sampled_from(["table", "json"]))
def test_connect_set_items_exit_0_or_2_and_never_a_traceback(
    cli_site: FakeSite,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    items: list[str],
    fmt: str,
) -> None:
    before = tree(workdir)
    capsys.readouterr()

    code = main(["connect", "hyp-any", "--format", fmt, *(f"--set={item}" for item in items)])

    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert tree(workdir) == before
    event(f"exit {code}")
    # Items are read in order: the first bad one is the error.
    bad = next((item for item in items if malformed(item) or too_large(item)), None)
    if bad is not None:
        assert code == 2, err
        assert ("malformed --set item" if malformed(bad) else "too large for a float") in err
        return
    assert code == 0, err
    if fmt == "json":
        report = json.loads(out)
        assert report["ok"] is True
        keys = {item.partition("=")[0].strip() for item in items}
        assert set(report["config"]) == keys


def test_connect_set_value_nested_too_deep_for_json_is_a_string(
    cli_site: FakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    value = "[" * 100_000
    capsys.readouterr()

    code = main(["connect", "hyp-any", "--format", "json", f"--set=k={value}"])

    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert code == 0, err
    assert json.loads(out)["config"]["k"] == value


def test_connect_config_file_nested_too_deep_is_an_input_error(
    cli_site: FakeSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000, encoding="utf-8")
    capsys.readouterr()

    code = main(["connect", "hyp-any", "--config-file", str(path)])

    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert code == 2, err
    assert str(path) in err


@BOUNDED
@given(
    command=st.sampled_from(["show", "connect"]),
    type_name=st.one_of(
        st.text(max_size=30).filter(lambda text: "\x00" not in text),
        st.sampled_from([n for n in HOSTILE_NAMES if "\x00" not in n and "\ud800" not in n]),
    ),
    fmt=st.sampled_from(["table", "json"]),
)
def test_show_and_connect_of_any_name_exit_0_or_1_without_a_traceback(
    cli_site: FakeSite,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    type_name: str,
    fmt: str,
) -> None:
    before = tree(workdir)
    capsys.readouterr()

    code = main([command, "--format", fmt, "--", type_name])

    err = capsys.readouterr().err
    assert code in (0, 1), err
    assert "Traceback" not in err
    assert len(err) < MESSAGE_LIMIT * 3
    assert tree(workdir) == before


# -- entry points in fake metadata ------------------------------------------------------------

GOOD_MODULE = "hyp_ep_good"
SAFE_PREFIX = "hyp_nonexistent_"


def one_line(text: str) -> str:
    """``text`` without anything ``str.splitlines`` would split at."""
    return " ".join(text.splitlines())


#: Entry point names: anything on one line without "=" (the parser splits at the first).
EP_NAMES = st.one_of(
    st.text(max_size=15).map(one_line).map(lambda text: text.replace("=", "")),
    st.sampled_from(["", " ", "good", "a b", "[x]", "[odibi.connections]", "#c", "ü", "x" * 300]),
)


def safe_target(text: str) -> str:
    """A value whose module part, if it has one, cannot exist: nothing real gets imported."""
    text = one_line(text).strip()
    return SAFE_PREFIX + text if ":" in text else text


EP_VALUES = st.one_of(
    st.sampled_from(
        [
            f"{GOOD_MODULE}:create",
            f"{GOOD_MODULE}:create",
            f"{GOOD_MODULE}:not_a_connection",
            f"{GOOD_MODULE}:missing",
            f"{GOOD_MODULE}:create.more",
            f"{GOOD_MODULE}:create [extra]",
            f"{GOOD_MODULE}:create [",
            f"{GOOD_MODULE} : create",
            f"{GOOD_MODULE}.:create",
            f".{GOOD_MODULE}:create",
            f"{GOOD_MODULE}..x:create",
            f"{GOOD_MODULE}:",
            f"{GOOD_MODULE}",
            ":create",
            "::",
            "",
            "no colon here",
            f"{SAFE_PREFIX}x:y",
            f"{SAFE_PREFIX}é:ü",
            f"{SAFE_PREFIX}" + "m" * 300 + ":f",
        ]
    ),
    st.text(max_size=30).map(safe_target),
    st.from_regex(rf"{SAFE_PREFIX}[\w.]{{0,10}}\s?:\s?[\w.]{{0,10}}", fullmatch=True).map(
        one_line
    ),
)
EP_SECTIONS = st.lists(st.tuples(EP_NAMES, EP_VALUES), max_size=6)
DISTRIBUTIONS = ("hyp-ep-a", "hyp-ep-b")


@contextlib.contextmanager
def on_sys_path(root: Path) -> Iterator[None]:
    """``root`` first on ``sys.path``; afterwards gone, with the modules imported from it."""
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(root))
        for name, module in list(sys.modules.items()):
            if (getattr(module, "__file__", None) or "").startswith(str(root)):
                del sys.modules[name]
        importlib.invalidate_caches()


def readable_entries(text: str) -> list[importlib.metadata.EntryPoint]:
    """The ``name = value`` lines with a name in our group: Python 3.10's reading."""
    found, group = [], None
    for line in filter(None, (raw.strip() for raw in text.splitlines())):
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1]
        elif group == NAMESPACE and not line.startswith("#"):
            name, equals, value = line.partition("=")
            if equals and name.strip():
                found.append(importlib.metadata.EntryPoint(name.strip(), value.strip(), group))
    return found


def offered(root: Path) -> dict[str, set[tuple[str, str]]]:
    """The stdlib's reading of the dist-infos under ``root``: name -> {(dist, value)}."""
    found: dict[str, set[tuple[str, str]]] = {}
    for dist_info in sorted(root.glob("*.dist-info")):
        dist = importlib.metadata.Distribution.at(dist_info)
        if sys.version_info < (3, 10):  # odibi_ext reads the lines itself, as 3.10 does
            entry_points = readable_entries(dist.read_text("entry_points.txt") or "")
        else:
            try:
                entry_points = dist.entry_points.select(group=NAMESPACE)
            except ValueError:  # a line the parser cannot split: odibi_ext skips the distribution
                continue
        for entry_point in entry_points:
            found.setdefault(entry_point.name, set()).add(
                (dist.metadata["Name"], entry_point.value)
            )
    return found


def files_written(root: Path) -> list[str]:
    """The tree of ``root`` without what importing a fake plugin writes on purpose."""
    return [path for path in tree(root) if not path.startswith("markers")]


@settings(BOUNDED, max_examples=60)
@given(
    sections=st.lists(EP_SECTIONS, min_size=1, max_size=len(DISTRIBUTIONS)),
    other_group=st.booleans(),
)
@example(sections=[[("good", f"{GOOD_MODULE}:create"), ("bad", "no colon")]], other_group=False)
@example(sections=[[("twin", f"{GOOD_MODULE}:create")], [("twin", "x")]], other_group=True)
def test_any_entry_point_names_and_values_give_drivers_or_failed_drivers(
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sections: list[list[tuple[str, str]]],
    other_group: bool,
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "markers").mkdir()
        site = FakeSite(root, root / "markers")
        site.module(GOOD_MODULE, ANY_FACTORY)
        for dist, entries in zip(DISTRIBUTIONS, sections):
            text = f"[{NAMESPACE}]\n" + "".join(f"{name} = {value}\n" for name, value in entries)
            if other_group:
                text += f"[console_scripts]\nhyp = {SAFE_PREFIX}x:main\n"
            site.distribution(dist, entry_points_text=text)
        cache = Path(os.environ["ODIBI_EXT_CACHE_DIR"])
        settled = time.time() - 60  # old enough for the index to be written and trusted
        for path in [root, *root.rglob("*")]:
            os.utime(path, (settled, settled))
        before, cwd_before = files_written(root), tree(workdir)

        with on_sys_path(root):
            expected = offered(root)
            indexes = set(cache.glob("*.json"))
            registry = ConnectionRegistry(policy=Policy())
            names = registry.names()
            event(f"index written: {set(cache.glob('*.json')) != indexes}")
            # A second registry reads what the first wrote to the index: the same answer.
            again = ConnectionRegistry(policy=Policy())
            assert again.names() == names
            assert [again.info(n) for n in names] == [registry.info(n) for n in names]
            for name in expected:
                assert name in names
                assert name in registry
                assert registry.info(name).status in ("available", "conflict", "failed")

            infos = {info.name: info for info in registry.load_all()}

            assert sorted(infos) == names
            for name, candidates in expected.items():
                info = registry.info(name)
                assert info == infos[name]
                json.dumps(info.to_dict())
                values = {value for _, value in candidates}
                event(f"driver {info.status}")
                if len(candidates) > 1:
                    assert info.status == "conflict"
                elif ":" not in next(iter(values)):
                    assert info.status == "failed"
                    assert "is not 'module:attr'" in (info.error or "")
                elif values == {f"{GOOD_MODULE}:create"}:
                    assert info.status == "loaded", info.error
                else:
                    assert info.status in ("loaded", "failed")
                try:
                    factory = registry.get(name)
                except OdibiExtError:
                    assert info.status != "loaded"
                else:
                    assert info.status == "loaded"
                    assert callable(factory)
            assert set(registry.failures()) == {
                n for n, i in infos.items() if i.status == "failed"
            }

            capsys.readouterr()
            assert main(["list", "--load", "--format", "json"]) == 0
            assert main(["check"]) in (0, 1)
            assert "Traceback" not in capsys.readouterr().err

        assert files_written(root) == before
        assert tree(workdir) == cwd_before


# -- redaction --------------------------------------------------------------------------------

#: The words that make a key secret, as documented (README, DESIGN.md, redaction.py).
DOCUMENTED_SECRET_WORDS = (
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "key",
    "credential",
    "auth",
    "sas",
    "private",
)


def looks_secret(key: object) -> bool:
    # odibi_ext masks a superset of the documented words (it adds passphrase,
    # signature): the oracle is its rule, and the test below pins the words.
    return is_secret_key(key)


def test_every_documented_secret_word_is_masked() -> None:
    assert set(DOCUMENTED_SECRET_WORDS) <= set(SECRET_WORDS)
    for word in DOCUMENTED_SECRET_WORDS:
        assert redact({f"my_{word.upper()}": "value-1234"}) == {f"my_{word.upper()}": MASK}


def any_case(word: str) -> st.SearchStrategy[str]:
    """``word`` as people write a word of a key: lower, UPPER or Capitalized."""
    return st.sampled_from([word.lower(), word.upper(), word.capitalize()])


#: Words before a secret word in a key, each followed by a separator.
AFFIXES = st.lists(
    st.tuples(st.sampled_from(["db", "my", "X", "client", "1"]), st.sampled_from("_-. ")),
    max_size=2,
).map(lambda words: "".join(word + separator for word, separator in words))
SECRET_KEYS = st.one_of(
    st.sampled_from(
        [
            "password",
            "PASSWORD",
            "db_password",
            "passwd",
            "pwd",
            "token",
            "api_token",
            "api_key",
            "apiKey",
            "AccountKey",
            "SAS",
            "sas_token",
            "Private_Key",
            "client_secret",
            "clientSecret",
            "credentials",
            "auth",
            "Authorization",
        ]
    ),
    st.builds(
        lambda before, word, after: before + word + after,
        AFFIXES,
        st.sampled_from(DOCUMENTED_SECRET_WORDS).flatmap(any_case),
        st.sampled_from(["", "_1", "2"]),
    ),
)
PUBLIC_KEYS = st.one_of(
    st.text(max_size=10).filter(lambda key: not looks_secret(key)),
    st.integers(),
    st.none(),
    st.booleans(),
)
#: Secret text free of what JSON escapes or uses between tokens, and of the mask's "*":
#: where such a secret shows up in the JSON, it shows up as itself, inside one token.
PLAIN_SECRETS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='"\\*,:[]{} '),
    min_size=4,
    max_size=20,
)
LEAVES_FOR_REDACTION = st.one_of(
    PLAIN_SECRETS,
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.none(),
    st.booleans(),
    st.sampled_from(
        ["postgresql://u:pw-x1@h/db", "Server=x;Password=cs-y2;", "https://h/p?sig=abc&x=1"]
    ),
)
CONFIG_KEYS = st.one_of(SECRET_KEYS, PUBLIC_KEYS)
CONFIG_VALUES = st.recursive(
    LEAVES_FOR_REDACTION,
    lambda children: (
        st.lists(children, max_size=3)
        | st.tuples(children, children)
        | st.dictionaries(CONFIG_KEYS, children, max_size=4)
    ),
    max_leaves=20,
)
CONFIGS = st.dictionaries(CONFIG_KEYS, CONFIG_VALUES, max_size=6)


def secrets_and_public_text(config: Mapping[Any, Any]) -> tuple[set[str], list[str]]:
    """Every secret value (as text, 4+ characters) and the JSON of everything that is public."""
    secrets: set[str] = set()
    public: list[str] = []

    def visit(value: Any, secret: bool) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                if not secret:
                    public.append(json.dumps(key, ensure_ascii=False))
                visit(item, secret or looks_secret(key))
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item, secret)
        elif secret:
            if value is not None and not isinstance(value, bool) and len(str(value)) >= 4:
                secrets.add(str(value))
        else:
            public.append(json.dumps(value, ensure_ascii=False, default=str))

    visit(config, False)
    return secrets, public


def assert_redacted(original: Any, redacted: Any) -> None:
    """``redacted`` is ``original`` with every value under a secret key masked, and no more."""
    if isinstance(original, Mapping):
        assert isinstance(redacted, dict)
        assert list(redacted) == list(original)
        for key, value in original.items():
            if looks_secret(key):
                assert redacted[key] == MASK
            else:
                assert_redacted(value, redacted[key])
    elif isinstance(original, (list, tuple)):
        assert isinstance(redacted, list)
        assert len(redacted) == len(original)
        for item, masked in zip(original, redacted):
            assert_redacted(item, masked)
    elif isinstance(original, str):
        assert redacted == redact_text(original)
    else:
        assert redacted is original


@settings(BOUNDED, max_examples=200)
@given(config=CONFIGS)
@example(
    config={"password": "pw-SECRET-1a", "auth": {"user": "bob-the-user"}, "n": [{"SAS": 1234}]}
)
def test_redact_masks_every_value_under_a_secret_key(config: dict[Any, Any]) -> None:
    before = repr(config)

    redacted = redact(config)

    assert repr(config) == before  # the input is not changed
    assert_redacted(config, redacted)
    text = json.dumps(redacted, ensure_ascii=False, default=str)
    secrets, public = secrets_and_public_text(config)
    for secret in secrets:
        if any(c in secret for c in '"\\*,:[]{} ') or any(secret in p for p in public):
            event("secret also public")
            continue  # shows up anyway, as (part of) a public key or value
        event("secret checked")
        assert secret not in text


@settings(BOUNDED, max_examples=200)
@given(config=CONFIGS, noise=st.lists(st.text(max_size=15), max_size=6), data=st.data())
def test_scrub_removes_every_secret_value_from_any_text(
    config: dict[Any, Any], noise: list[str], data: st.DataObject
) -> None:
    secrets, _ = secrets_and_public_text(config)
    found = secret_values(config)
    assert secrets <= found
    pieces = noise + sorted(secrets)
    text = "".join(data.draw(st.permutations(pieces))) if pieces else ""

    scrubbed = scrub(text, found)

    for secret in secrets:
        if "*" not in secret:  # a secret holding the mask could be re-formed by masking others
            assert secret not in scrubbed


HOSTILE_TEXTS = {
    "a": "a" * 100_000,
    "x=": "x=" * 50_000,
    "://:": "://:" * 25_000,
    "a://b:": "a://b:" * 16_667,
    "a://:": "a://:" * 20_000,
    "ab://": "ab://" * 20_000,
    "a-": "a-" * 50_000,
    "a.": "a." * 50_000,
    "password=": "password=" * 11_112,
    "= ": "= " * 50_000,
    "spaces then =": "a" + " " * 99_998 + "=",
    "long password": "a://u:" + "p" * 99_990 + "@",
    "@": "a://u:" + "@" * 99_990,
    "scheme runs": ("a" * 31 + "://:") * 2_800,
    "unicode": "é://ü:" * 16_667,
    "nul": "\x00" * 100_000,
}


@pytest.mark.parametrize("text", list(HOSTILE_TEXTS.values()), ids=list(HOSTILE_TEXTS))
def test_redact_text_returns_on_100000_hostile_characters(text: str) -> None:
    assert isinstance(redact_text(text), str)


URL_USERS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", max_size=20)
URL_PASSWORDS = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters="@*"
    ).filter(lambda c: not c.isspace()),
    min_size=1,
    max_size=40,
)


@BOUNDED
@given(
    scheme=st.sampled_from(["postgresql", "mssql+pyodbc", "https", "redis", "s3"]),
    user=URL_USERS,
    password=URL_PASSWORDS,
    host=st.sampled_from(["host", "host:5432/db", "10.0.0.1/x?y=z", "h"]),
)
def test_redact_text_masks_the_password_of_any_url(
    scheme: str, user: str, password: str, host: str
) -> None:
    url = f"{scheme}://{user}:{password}@{host}"

    assert redact_text(url) == f"{scheme}://{user}:{MASK}@{host}"
    assert (
        redact_text(f"connect to {url} now") == f"connect to {scheme}://{user}:{MASK}@{host} now"
    )


@BOUNDED
@given(
    key=SECRET_KEYS.filter(lambda key: re.fullmatch(r"[\w.-]{1,64}", key) is not None),
    value=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789+/=!-", min_size=1, max_size=30),
)
def test_redact_text_masks_secret_key_value_pairs(key: str, value: str) -> None:
    masked = redact_text(f"Server=x;{key}={value};Database=y")

    assert masked == f"Server=x;{key}={MASK};Database=y"
