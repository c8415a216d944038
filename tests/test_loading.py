"""Loading through stevedore: only what is asked for, once, checked, failures contained."""

from __future__ import annotations

import logging
import sys
import threading

import pytest
from conftest import GOOD_FACTORY
from conftest import FakeSite

from odibi_ext import ConnectionRegistry
from odibi_ext import DriverLoadError
from odibi_ext import DriverNotFoundError
from odibi_ext import InvalidConnectionError
from odibi_ext import InvalidFactoryError
from odibi_ext import Policy

#: A module whose ``create`` is computed on each attribute access: every
#: ``EntryPoint.load()`` yields a new object and bumps ``LOADS``.
COUNTING_MODULE = """
import threading, time
LOADS = []
_lock = threading.Lock()

def __getattr__(name):
    if name != "create":
        raise AttributeError(name)
    time.sleep(0.05)  # widen the window in which racing loads would overlap
    def create(name, config):
        return Conn()
    with _lock:
        LOADS.append(create)
    return create

class Conn:
    def get_path(self, p):
        return p
    def validate(self):
        pass
"""


def registry() -> ConnectionRegistry:
    return ConnectionRegistry(policy=Policy())


def test_get_loads_only_the_driver_asked_for(site: FakeSite) -> None:
    site.distribution(
        "odibi-a", entry_points={"a": "plugin_a:create"}, modules={"plugin_a": GOOD_FACTORY}
    )
    site.distribution(
        "odibi-b", entry_points={"b": "plugin_b:create"}, modules={"plugin_b": GOOD_FACTORY}
    )
    reg = registry()

    factory = reg.get("a")

    assert factory.__module__ == "plugin_a"
    assert site.imports("plugin_a") == 1
    assert site.imports("plugin_b") == 0
    assert reg.info("a").status == "loaded"
    assert reg.info("b").status == "available"


def test_later_gets_return_the_identical_object_without_reloading(site: FakeSite) -> None:
    site.distribution(
        "odibi-c", entry_points={"c": "counting:create"}, modules={"counting": COUNTING_MODULE}
    )
    reg = registry()

    first = reg.get("c")
    assert all(reg.get("c") is first for _ in range(100))
    assert len(sys.modules["counting"].LOADS) == 1


def test_32_threads_racing_the_first_get_load_once(site: FakeSite) -> None:
    site.distribution(
        "odibi-c", entry_points={"c": "counting:create"}, modules={"counting": COUNTING_MODULE}
    )
    reg = registry()
    barrier = threading.Barrier(32)
    results: list[object] = []
    errors: list[BaseException] = []

    def race() -> None:
        barrier.wait()
        try:
            results.append(reg.get("c"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=race) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors
    assert len(results) == 32
    assert len({id(result) for result in results}) == 1
    assert [results[0]] == sys.modules["counting"].LOADS


def test_info_after_load_has_time_signature_and_doc(site: FakeSite) -> None:
    site.distribution(
        "odibi-a", entry_points={"a": "plugin_a:create"}, modules={"plugin_a": GOOD_FACTORY}
    )
    reg = registry()
    reg.get("a")

    info = reg.info("a")

    assert info.status == "loaded"
    assert isinstance(info.load_ms, float)
    assert info.load_ms >= 0
    assert info.signature == "(name, config)"
    assert info.doc == "Create a fake connection."


def test_create_makes_a_checked_connection(site: FakeSite) -> None:
    site.distribution(
        "odibi-a", entry_points={"a": "plugin_a:create"}, modules={"plugin_a": GOOD_FACTORY}
    )

    connection = registry().create("a", "warehouse", {"path": "x"})

    assert connection.name == "warehouse"
    assert connection.config == {"path": "x"}
    assert connection.get_path("t") == "t"


@pytest.mark.parametrize("config", [None, ["path", "x"], "path=x", 3])
def test_create_requires_a_mapping_config(config: object) -> None:
    reg = ConnectionRegistry.from_factories({"mem": lambda name, config: None})
    with pytest.raises(
        TypeError, match=f"driver 'mem' must be a mapping, not {type(config).__name__}"
    ):
        reg.create("mem", "n", config)  # type: ignore[arg-type]


def test_create_rejects_a_result_that_is_not_a_connection(site: FakeSite) -> None:
    site.distribution(
        "odibi-bad",
        "3.1",
        entry_points={"bad": "bad_conn:create"},
        modules={"bad_conn": "def create(name, config):\n    return {'name': name}\n"},
    )

    with pytest.raises(InvalidConnectionError) as caught:
        registry().create("bad", "n", {})

    error = caught.value
    assert error.type_name == "bad"
    assert error.distribution == "odibi-bad"
    assert error.returned_type == "dict"
    assert error.missing == ("get_path", "validate")
    for part in ("'bad'", "odibi-bad 3.1", "dict", "get_path", "validate"):
        assert part in str(error)


def test_an_exception_from_the_factory_propagates_with_a_note(site: FakeSite) -> None:
    site.distribution(
        "odibi-picky",
        "1.2",
        entry_points={"picky": "picky:create"},
        modules={"picky": "def create(name, config):\n    raise ValueError('path is required')\n"},
    )
    with pytest.raises(ValueError, match="path is required") as caught:
        registry().create("picky", "wh", {})
    assert any("driver 'picky' (odibi-picky 1.2)" in note for note in caught.value.__notes__)


@pytest.mark.parametrize(
    ("source", "cause_type"),
    [
        ("import sys\nsys.exit(3)\n", SystemExit),
        ("raise AssertionError('broken at import')\n", AssertionError),
        ("import odibi_no_such_client_library\n", ModuleNotFoundError),
        ("def create(name, config)\n    pass\n", SyntaxError),
        ("def f():\n    return f()\nf()\n", RecursionError),
        ("raise MemoryError('plugin says so')\n", MemoryError),
        (
            "class Fatal(BaseException):\n    pass\nraise Fatal('not an Exception')\n",
            BaseException,
        ),
        ("raise GeneratorExit()\n", GeneratorExit),
    ],
)
def test_anything_raised_at_import_is_a_failed_driver(
    site: FakeSite, source: str, cause_type: type[BaseException]
) -> None:
    site.distribution(
        "odibi-faulty", "0.1", entry_points={"boom": "boom:create"}, modules={"boom": source}
    )
    reg = registry()

    with pytest.raises(DriverLoadError) as caught:
        reg.get("boom")

    error = caught.value
    assert isinstance(error.__cause__, cause_type)
    assert error.type_name == "boom"
    assert error.target == "boom:create"
    assert error.distribution == "odibi-faulty"
    assert error.version == "0.1"
    for part in ("'boom'", "boom:create", "odibi-faulty 0.1", type(error.__cause__).__name__):
        assert part in str(error)
    info = reg.info("boom")
    assert info.status == "failed"
    assert info.error is not None
    assert info.error.startswith(type(error.__cause__).__name__)


def test_keyboard_interrupt_propagates(site: FakeSite) -> None:
    site.distribution(
        "odibi-faulty",
        entry_points={"ctrlc": "ctrlc:create"},
        modules={"ctrlc": "raise KeyboardInterrupt\n"},
    )
    with pytest.raises(KeyboardInterrupt):
        registry().get("ctrlc")


def test_a_missing_dependency_names_the_module_and_what_to_do(site: FakeSite) -> None:
    site.distribution(
        "odibi-mssql",
        "1.0",
        entry_points={"mssql": "mssql_drv:create"},
        modules={"mssql_drv": "import pyodbc_not_installed_here\n"},
    )

    with pytest.raises(DriverLoadError) as caught:
        registry().get("mssql")

    message = str(caught.value)
    assert "No module named 'pyodbc_not_installed_here'" in message
    assert "install it" in message


def test_a_module_deleted_under_its_metadata_is_a_clear_load_error(site: FakeSite) -> None:
    site.distribution("odibi-gone", "1.0", entry_points={"gone": "gone_module:create"})

    with pytest.raises(DriverLoadError) as caught:
        registry().get("gone")

    assert isinstance(caught.value.__cause__, ModuleNotFoundError)
    assert "reinstall odibi-gone" in str(caught.value)


def test_a_missing_attribute_is_a_load_error(site: FakeSite) -> None:
    site.distribution(
        "odibi-attr", entry_points={"attr": "attr_mod:create"}, modules={"attr_mod": "x = 1\n"}
    )
    with pytest.raises(DriverLoadError) as caught:
        registry().get("attr")
    assert isinstance(caught.value.__cause__, AttributeError)


@pytest.mark.parametrize("value", ["just_a_module", "bad value!", "mod:attr:extra", ":create"])
def test_an_entry_point_value_that_is_not_module_attr_fails_clearly(
    site: FakeSite, value: str
) -> None:
    site.distribution("odibi-odd", entry_points={"odd": value})
    reg = registry()
    with pytest.raises(DriverLoadError, match="is not 'module:attr'"):
        reg.get("odd")
    assert reg.info("odd").status == "failed"


def test_a_failure_is_remembered_without_reimporting(site: FakeSite) -> None:
    site.distribution(
        "odibi-faulty",
        entry_points={"boom": "boom:create"},
        modules={"boom": "raise RuntimeError('first import fails')\n"},
    )
    reg = registry()

    with pytest.raises(DriverLoadError) as first:
        reg.get("boom")
    with pytest.raises(DriverLoadError) as second:
        reg.get("boom")

    # The same error, as a fresh copy: one caller's context and frames never reach another.
    assert second.value is not first.value
    assert str(second.value) == str(first.value)
    assert second.value.__cause__ is first.value.__cause__
    assert site.imports("boom") == 1
    assert list(reg.failures()) == ["boom"]

    reg.refresh()
    with pytest.raises(DriverLoadError):
        reg.get("boom")
    assert site.imports("boom") == 2


def test_one_broken_plugin_never_hides_the_others(site: FakeSite) -> None:
    site.distribution(
        "odibi-faulty",
        entry_points={"boom": "boom:create"},
        modules={"boom": "import sys\nsys.exit(1)\n"},
    )
    site.distribution(
        "odibi-a", entry_points={"a": "plugin_a:create"}, modules={"plugin_a": GOOD_FACTORY}
    )
    reg = registry()

    with pytest.raises(DriverLoadError):
        reg.get("boom")

    assert reg.get("a").__module__ == "plugin_a"


@pytest.mark.parametrize(
    "signature",
    ["(name, config)", "(name, config, *, retries=3)", "(*args, **kwargs)", "(name, config=None)"],
)
def test_acceptable_factory_signatures(site: FakeSite, signature: str) -> None:
    source = f"def create{signature}:\n    return None\n"
    site.distribution(
        "odibi-sig", entry_points={"sig": "sig_mod:create"}, modules={"sig_mod": source}
    )
    assert callable(registry().get("sig"))


def test_a_class_whose_constructor_takes_name_and_config_is_a_factory(site: FakeSite) -> None:
    source = """
    class Create:
        def __init__(self, name, config):
            self.name = name
        def get_path(self, p):
            return p
        def validate(self):
            pass
    """
    site.distribution(
        "odibi-cls", entry_points={"cls": "cls_mod:Create"}, modules={"cls_mod": source}
    )
    connection = registry().create("cls", "n", {})
    assert type(connection).__name__ == "Create"


def test_an_unreadable_signature_is_accepted(site: FakeSite) -> None:
    site.distribution("odibi-builtin", entry_points={"builtin": "builtins:dict"})
    assert registry().get("builtin") is dict


def test_a_wrong_signature_shows_expected_and_actual(site: FakeSite) -> None:
    site.distribution(
        "odibi-sig",
        "2.0",
        entry_points={"sig": "sig_mod:create"},
        modules={"sig_mod": "def create(config):\n    return None\n"},
    )
    reg = registry()

    with pytest.raises(InvalidFactoryError) as caught:
        reg.get("sig")

    error = caught.value
    assert isinstance(error, DriverLoadError)
    assert error.expected == "(name, config)"
    assert error.actual == "function create with signature (config)"
    for part in ("'sig'", "(name, config)", "(config)", "sig_mod:create", "odibi-sig 2.0"):
        assert part in str(error)
    assert reg.info("sig").status == "failed"
    with pytest.raises(InvalidFactoryError) as again:
        reg.get("sig")
    assert type(again.value) is InvalidFactoryError
    assert (again.value.actual, str(again.value)) == (error.actual, str(error))


def test_a_non_callable_target_is_an_invalid_factory(site: FakeSite) -> None:
    site.distribution(
        "odibi-nc",
        entry_points={"nc": "nc_mod:create"},
        modules={"nc_mod": "create = {'not': 'a function'}\n"},
    )
    with pytest.raises(InvalidFactoryError, match="a dict object, which is not callable"):
        registry().get("nc")


def test_a_failed_load_logs_one_error_and_the_traceback_only_at_debug(
    site: FakeSite, caplog: pytest.LogCaptureFixture
) -> None:
    site.distribution(
        "odibi-faulty",
        "0.1",
        entry_points={"boom": "boom:create"},
        modules={"boom": "raise RuntimeError('kaput')\n"},
    )

    caplog.set_level(logging.INFO, logger="odibi_ext")
    with pytest.raises(DriverLoadError):
        registry().get("boom")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    message = errors[0].getMessage()
    for part in ("'boom'", "boom:create", "odibi-faulty", "RuntimeError: kaput"):
        assert part in message
    assert errors[0].exc_info is None
    assert errors[0].name.startswith("odibi_ext")

    caplog.clear()
    caplog.set_level(logging.DEBUG, logger="odibi_ext")
    reg = registry()
    reg.refresh()
    with pytest.raises(DriverLoadError):
        reg.get("boom")
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)


def test_load_all_loads_everything_loadable_and_never_raises(site: FakeSite) -> None:
    site.distribution(
        "odibi-a", entry_points={"a": "plugin_a:create"}, modules={"plugin_a": GOOD_FACTORY}
    )
    site.distribution(
        "odibi-faulty",
        entry_points={
            "exits": "exits:create",
            "asserts": "asserts:create",
            "sig": "sig_mod:create",
        },
        modules={
            "exits": "import sys\nsys.exit(3)\n",
            "asserts": "raise AssertionError('no')\n",
            "sig": "def create(config):\n    pass\n",
        },
    )
    site.module("sig_mod", "def create(config):\n    pass\n")
    reg = registry()

    infos = {info.name: info for info in reg.load_all()}

    assert infos["a"].status == "loaded"
    assert {infos[n].status for n in ("exits", "asserts", "sig")} == {"failed"}
    assert "SystemExit: 3" in (infos["exits"].error or "")
    assert (infos["asserts"].error or "").startswith("AssertionError")
    assert (infos["sig"].error or "").startswith("InvalidFactoryError")
    assert {"exits", "asserts", "sig"} <= set(reg.failures())
    assert set(infos) == set(reg.names())
    assert reg.get("a") is sys.modules["plugin_a"].create


def test_load_all_then_get_returns_the_same_object(site: FakeSite) -> None:
    site.distribution(
        "odibi-c", entry_points={"c": "counting:create"}, modules={"counting": COUNTING_MODULE}
    )
    reg = registry()
    reg.load_all()
    assert reg.get("c") is sys.modules["counting"].LOADS[0]
    assert len(sys.modules["counting"].LOADS) == 1
    reg.load_all()
    assert len(sys.modules["counting"].LOADS) == 1


def test_refresh_sees_a_distribution_installed_and_removed_at_run_time(site: FakeSite) -> None:
    import shutil

    reg = registry()
    assert "late" not in reg.names()
    dist_info = site.distribution(
        "odibi-late", entry_points={"late": "late_mod:create"}, modules={"late_mod": GOOD_FACTORY}
    )
    assert "late" not in reg.names()  # cached until refresh

    reg.refresh()
    assert "late" in reg.names()
    assert reg.get("late").__module__ == "late_mod"

    shutil.rmtree(dist_info)
    reg.refresh()
    assert "late" not in reg.names()
    with pytest.raises(DriverNotFoundError):
        reg.get("late")


def test_refresh_forgets_stevedores_process_wide_cache(site: FakeSite) -> None:
    from stevedore.extension import ExtensionManager

    ExtensionManager.ENTRY_POINT_CACHE["odibi.connections"] = []
    registry().refresh()
    assert "odibi.connections" not in ExtensionManager.ENTRY_POINT_CACHE


def test_a_signature_with_postponed_annotations_reads_as_written(site: FakeSite) -> None:
    # What ``from __future__ import annotations`` makes of annotations: strings.
    source = """
    def create(name: "str", config: "Mapping[str, Any]", *, retries: "int" = 3) -> "Conn":
        return None
    """
    site.distribution(
        "odibi-typed", entry_points={"typed": "typed_mod:create"}, modules={"typed_mod": source}
    )
    reg = registry()
    reg.get("typed")
    assert reg.info("typed").signature == (
        "(name: str, config: Mapping[str, Any], *, retries: int = 3) -> Conn"
    )
