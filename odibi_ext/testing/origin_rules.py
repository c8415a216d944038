"""Rules about where the driver comes from: published, unique, importable, its imports declared."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import TYPE_CHECKING
from typing import Any

from odibi_ext.testing import sql_checks
from odibi_ext.testing.base import ContractBase
from odibi_ext.testing.subject import DriverUnderTest

if TYPE_CHECKING:
    from odibi_ext.registry import ConnectionRegistry

#: Run in a fresh process: import the entry point's module, print the top-level
#: modules the import added (the driver's own imports, nothing of odibi-ext's).
# Only what the driver's own code imports counts: a dependency's optional import
# of whatever happens to be installed (rich tries ``attr``) is not the driver's.
_IMPORTS_PROBE = """
import builtins, importlib, json, sys
own = set(json.loads(sys.argv[2]))
asked = set()
real = builtins.__import__
def tracing(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and str((globals or {}).get("__name__") or "").split(".")[0] in own:
        asked.add(name.split(".")[0])
    return real(name, globals, locals, fromlist, level)
before = set(sys.modules)
builtins.__import__ = tracing
importlib.import_module(sys.argv[1])
builtins.__import__ = real
print(json.dumps(sorted(asked & {m.split(".")[0] for m in set(sys.modules) - before})))
"""
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


class OriginRules(ContractBase):
    """published_by_a_distribution, type_name_is_unique, imports_in_a_fresh_process,
    loads_through_odibi_ext, declares_its_imports."""

    def test_published_by_a_distribution(self, contract_driver: DriverUnderTest) -> None:
        """The type name is an entry point of an installed distribution, with a version."""
        if contract_driver.info is None:
            suggestion = contract_driver.suggestion
            hint = (
                f"did you mean {suggestion!r}? set `type_name = {suggestion!r}`, or "
                if suggestion
                else ""
            )
            self._broken(
                "published_by_a_distribution",
                f"no installed distribution publishes {self.type_name!r} in the "
                f"'odibi.connections' entry-point group",
                f'{hint}add `[project.entry-points."odibi.connections"]` '
                f'`{self.type_name} = "your_module:create"` to pyproject.toml and install '
                "the project (pip install -e .)",
            )
        if contract_driver.distribution is not None and not contract_driver.version:
            self._broken(
                "published_by_a_distribution",
                f"distribution {contract_driver.distribution} has no version in its metadata",
                "set `version` in pyproject.toml and reinstall",
            )

    def test_type_name_is_unique(self, contract_driver: DriverUnderTest) -> None:
        """No other distribution, and no Odibi built-in, offers the same type name."""
        self._require_found(contract_driver)
        if contract_driver.unique_problem is not None:
            self._broken(
                "type_name_is_unique",
                contract_driver.unique_problem,
                "give the driver a type name of its own (e.g. prefixed with your "
                "distribution's name) in its entry point",
            )

    def test_imports_in_a_fresh_process(self, contract_driver: DriverUnderTest) -> None:
        """Importing the driver in a fresh process neither hangs nor ends the process."""
        self._require_found(contract_driver)
        if contract_driver.import_problem is not None:
            self._broken(
                "imports_in_a_fresh_process",
                contract_driver.import_problem,
                "do no network, lock or other blocking work and never exit at import time: "
                "move it into the factory or the connection's methods",
            )

    def test_loads_through_odibi_ext(
        self, contract_registry: ConnectionRegistry, contract_driver: DriverUnderTest
    ) -> None:
        """odibi-ext loads the driver: importable, and a ``factory(name, config)``."""
        from odibi_ext.errors import OdibiExtError

        try:
            contract_registry.get(self.type_name)
        except OdibiExtError as error:
            self._broken(
                "loads_through_odibi_ext",
                str(error),
                "make `import <module>` work with only the declared dependencies installed, "
                "and make the entry point's target a callable accepting (name, config)",
            )
        info = contract_registry.info(self.type_name)
        assert info.status == "loaded", info
        assert info.distribution == contract_driver.distribution, info

    def test_declares_its_imports(
        self,
        contract_registry: ConnectionRegistry,
        contract_driver: DriverUnderTest,
        driver_config: dict[str, Any],
    ) -> None:
        """What the module imports comes from its declared dependencies; a SQL driver
        declares pandas (its DataFrames), at least in an extra."""
        rule = "declares_its_imports"
        self._require_loaded(contract_registry)
        distribution = contract_driver.distribution
        info = contract_driver.info
        assert distribution is not None  # loaded: found
        assert info is not None
        target = next(c.target for c in info.candidates if c.distribution == distribution)
        module = target.split(":", 1)[0]
        allowed, declared = _dependency_closure(distribution)
        providers = _providers()
        from odibi_ext.discovery import normalize_distribution

        own = normalize_distribution(distribution)
        packages = {module.split(".")[0]} | {
            name for name, dists in providers.items() if own in dists
        }
        imported = _imports_in_a_fresh_process(module, packages, self.import_timeout)
        outside = {
            name: providers[name]
            for name in imported
            if providers.get(name) and not providers[name] & allowed
        }
        # pandas brings numpy (and pyarrow, an extra of its, when installed): name
        # the distribution the driver asked for, not what it brings.
        brought: set[str] = set()
        for dists in outside.values():
            for dist in dists:
                brought |= _requirements(dist)[1] | (_dependency_closure(dist)[0] - {dist})
        undeclared = sorted(
            f"{name} (from distribution {', '.join(sorted(dists))})"
            for name, dists in outside.items()
            if not dists <= brought
        )
        if undeclared:
            self._broken(
                rule,
                f"importing {module} imports {', '.join(undeclared)}, which "
                f"{distribution} does not declare: installed without it, the driver "
                f"fails to load",
                "add each to `dependencies` in pyproject.toml (or import it inside the "
                "method that needs it and declare it in an extra)",
            )
        with self._created(contract_registry, driver_config, rule) as connection:
            reads_sql = sql_checks.reads_sql(connection)
        if reads_sql and "pandas" not in declared:
            self._broken(
                rule,
                f"{type(connection).__qualname__} reads or writes SQL tables as DataFrames, "
                f"but {distribution} declares no pandas requirement, not even in an extra",
                "declare it, e.g. `[project.optional-dependencies] pandas = "
                '["pandas>=1.5"]`, and install it in your test environment',
            )


def _imports_in_a_fresh_process(module: str, packages: set[str], timeout: float) -> list[str]:
    """The top-level modules that code of ``packages`` (the driver's own) imports, and that
    importing ``module`` in a fresh interpreter loads."""
    try:
        result = subprocess.run(
            [sys.executable, "-c", _IMPORTS_PROBE, module, json.dumps(sorted(packages))],
            capture_output=True,
            text=True,
            timeout=timeout,
            # The test process's path: a driver on a temporary site is found too.
            env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
            check=False,
        )
    except subprocess.TimeoutExpired:
        return []  # imports_in_a_fresh_process reports the hang
    if result.returncode != 0:
        return []  # loads_through_odibi_ext reports the failure
    names: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return names


def _requirements(distribution: str) -> tuple[set[str], set[str]]:
    """The normalised names ``distribution`` requires: (always, in any extra too)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import requires

    from odibi_ext.discovery import normalize_distribution

    try:
        lines = requires(distribution) or []
    except PackageNotFoundError:
        return set(), set()
    base: set[str] = set()
    every: set[str] = set()
    for line in lines:
        match = _REQUIREMENT_NAME.match(line)
        if match is None:
            continue
        name = normalize_distribution(match.group(1))
        every.add(name)
        if "extra" not in line.partition(";")[2]:
            base.add(name)
    return base, every


def _dependency_closure(distribution: str) -> tuple[set[str], set[str]]:
    """(the distribution and everything it needs installed, every name it declares)."""
    from odibi_ext.discovery import normalize_distribution

    own = normalize_distribution(distribution)
    _, declared = _requirements(distribution)
    allowed = {own}
    pending = [own]
    while pending:
        base, _ = _requirements(pending.pop())
        for name in base - allowed:
            allowed.add(name)
            pending.append(name)
    return allowed, declared


def _providers() -> dict[str, set[str]]:
    """Top-level module name -> the normalised names of the distributions installing it."""
    from importlib.metadata import distributions

    from odibi_ext.discovery import normalize_distribution

    found: dict[str, set[str]] = {}
    for dist in distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        top = (dist.read_text("top_level.txt") or "").split()
        if not top:
            top = [
                str(path.parts[0]).removesuffix(".py")
                for path in dist.files or ()
                if path.parts
                and not str(path.parts[0]).endswith((".dist-info", ".egg-info", ".pth"))
                and path.parts[0] not in ("__pycache__", "..", "bin")
            ]
        for module in set(top):
            found.setdefault(module, set()).add(normalize_distribution(name))
    return found
