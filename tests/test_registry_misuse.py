"""The registry under misuse: wrong calls, repeated failures, a relative cache directory."""

from __future__ import annotations

import os
import traceback
from pathlib import Path

import pytest
from conftest import FakeSite

from odibi_ext import ConnectionRegistry
from odibi_ext import DriverLoadError
from odibi_ext import Policy
from odibi_ext import index
from odibi_ext.errors import add_note


@pytest.mark.parametrize(
    ("args", "kwargs", "words"),
    [
        (("x", None), {}, "(2 given)"),
        ((), {}, "(0 given)"),
        ((), {"type_name": "x"}, "no keyword arguments"),
    ],
)
def test_get_with_a_default_or_a_keyword_says_what_get_takes(
    args: tuple[object, ...], kwargs: dict[str, object], words: str
) -> None:
    registry = ConnectionRegistry(policy=Policy())

    with pytest.raises(TypeError) as caught:
        registry.get(*args, **kwargs)  # type: ignore[arg-type, call-arg]

    message = str(caught.value)
    assert message.startswith(
        "ConnectionRegistry.get(type_name) takes one type name and no default "
        "(test 'type_name in registry' first, or catch DriverNotFoundError)"
    )
    assert words in message
    assert "_DriverCache" not in message


def test_the_warm_path_stays_a_c_level_lookup() -> None:
    registry = ConnectionRegistry.from_factories({"one": lambda name, config: None})

    # No Python frame between the caller and the dict: what keeps get() near dict.get.
    assert type(registry.get).__name__ == "builtin_function_or_method"
    assert registry.get("one") is registry.get("one")


FAILING = "raise RuntimeError('import fails')\n"


def failing_registry(site: FakeSite) -> ConnectionRegistry:
    site.distribution(
        "odibi-fails", entry_points={"fails": "fails_mod:create"}, modules={"fails_mod": FAILING}
    )
    return ConnectionRegistry(policy=Policy(allowed_distributions={"odibi-fails"}))


def frames_of(error: BaseException) -> list[str]:
    return [frame.name for frame in traceback.extract_tb(error.__traceback__)]


def first_caller(registry: ConnectionRegistry) -> DriverLoadError:
    try:
        raise KeyError("first caller's own trouble")
    except KeyError:
        try:
            registry.get("fails")
        except DriverLoadError as error:
            return error
    raise AssertionError("get() did not raise")


def second_caller(registry: ConnectionRegistry) -> DriverLoadError:
    try:
        registry.get("fails")
    except DriverLoadError as error:
        return error
    raise AssertionError("get() did not raise")


def test_a_remembered_failure_is_a_fresh_copy_for_each_caller(site: FakeSite) -> None:
    registry = failing_registry(site)

    first = first_caller(registry)
    second = second_caller(registry)
    third = second_caller(registry)

    assert isinstance(first.__context__, KeyError)  # the first caller's own context...
    assert second.__context__ is None  # ...never reaches a later caller
    assert first is not second
    assert second is not third
    assert str(first) == str(second) == str(third)
    assert (second.type_name, second.target, second.distribution) == (
        "fails",
        "fails_mod:create",
        "odibi-fails",
    )
    assert first.__cause__ is second.__cause__  # the plugin's own exception, kept
    assert "first_caller" not in frames_of(second)
    assert "first_caller" not in frames_of(third)
    assert site.imports("fails_mod") == 1


def test_notes_added_by_one_caller_stay_with_that_caller(site: FakeSite) -> None:
    registry = failing_registry(site)
    first = second_caller(registry)
    add_note(first, "noted by the first caller")

    second = second_caller(registry)

    assert "noted by the first caller" not in getattr(second, "__notes__", [])


def test_a_relative_cache_dir_is_resolved_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    relative = f"relative-cache-{tmp_path.name}"  # unique: resolved paths are remembered
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    monkeypatch.setenv("ODIBI_EXT_CACHE_DIR", relative)

    monkeypatch.chdir(tmp_path / "first")
    before = index.cache_dir()
    monkeypatch.chdir(tmp_path / "second")
    after = index.cache_dir()

    assert before == after == str(tmp_path / "first" / relative)
    assert os.path.isabs(after)


def test_an_absolute_cache_dir_is_kept_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ODIBI_EXT_CACHE_DIR", str(tmp_path / "abs"))

    assert index.cache_dir() == str(tmp_path / "abs")
