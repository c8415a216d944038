"""The secrets audit: no config value under a secret-looking key leaks from odibi_ext.

A careless fake plugin logs its whole config (at DEBUG and WARNING, through
its own logger), keeps it, and puts the password in its error messages. The
CLI must scrub all of that from what it prints, in every command, format and
verbosity; in-process, nothing odibi_ext composes (its log records, reprs,
``DriverInfo``s, error messages) may carry a secret. The sample drivers reject
secret-looking keys naming the key, never the value.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeSite

from odibi_ext import ConnectionRegistry
from odibi_ext import DriverLoadError
from odibi_ext import InvalidConnectionError
from odibi_ext import Policy
from odibi_ext.redaction import MASK

try:
    import odibi_sqlite
except ImportError:  # not installed: use the source tree
    sys.path.insert(
        0, str(Path(__file__).resolve().parents[1] / "sample_plugins" / "odibi-sqlite" / "src")
    )
    import odibi_sqlite

try:
    import odibi_localfs
except ImportError:  # not installed: use the source tree
    sys.path.insert(
        0, str(Path(__file__).resolve().parents[1] / "sample_plugins" / "odibi-localfs" / "src")
    )
    import odibi_localfs

# -- the secrets ------------------------------------------------------------------------------

#: Flat secrets under secret-looking keys; every secret value holds "-SECRET-".
FLAT_SECRETS = {
    "password": "pw-SECRET-1a",
    "api_token": "tok-SECRET-2b",
    "AccountKey": "key-SECRET-3c",
    "sas_token": "sas-SECRET-6f",
    "client_secret": "cls-SECRET-7g",
    "private_key": "pk-SECRET-8h",
    "Credential": "cred-SECRET-9i",
}
NESTED_SECRET = "nest-SECRET-10j"
URL_SECRET = "url-SECRET-4d"
CONNECTION_STRING_SECRET = "cs-SECRET-5e"
MARK = "-SECRET-"

#: The config: flat and nested secrets, a URL and a connection string under keys
#: that do not look secret.
CONFIG: dict[str, Any] = {
    **FLAT_SECRETS,
    "auth": {"user": "bob", "password": NESTED_SECRET},
    "url": f"postgresql://user:{URL_SECRET}@host/db",
    "conn": f"Server=x;Password={CONNECTION_STRING_SECRET};",
    "path": "x",
}
SECRET_VALUES = (*FLAT_SECRETS.values(), NESTED_SECRET, URL_SECRET, CONNECTION_STRING_SECRET)


def assert_no_secret(text: str, where: str = "") -> None:
    """No secret value in ``text``, as itself or as ``repr`` would escape it."""
    for secret in SECRET_VALUES:
        assert secret not in text, f"{secret!r} leaked{where}:\n{text}"
        assert repr(secret)[1:-1] not in text, f"{secret!r} leaked{where}:\n{text}"
    assert MARK not in text, f"a secret leaked{where}:\n{text}"


# -- the careless plugin ----------------------------------------------------------------------

SECRET_PLUGIN = '''
import logging

LOG = logging.getLogger("fakeplugin")


class SecretConnection:
    def __init__(self, name, config):
        self.name = name
        self.config = config

    def get_path(self, relative_path):
        return relative_path

    def validate(self):
        raise ValueError(f"login failed with {self.config.get('password')}")


class Holder:
    """Not a connection (no get_path, no validate); its repr shows the config."""

    def __init__(self, config):
        self.config = config

    def __repr__(self):
        return f"Holder({self.config!r})"


def create(name, config):
    """Log the whole config and keep it."""
    LOG.debug("config %s", config)
    LOG.warning("config %s", config)
    return SecretConnection(name, config)


def not_a_connection(name, config):
    LOG.warning("config %s", config)
    return Holder(config)


def raises(name, config):
    raise RuntimeError(f"cannot log in with {config.get('password')} ({config!r})")
'''

DISTRIBUTION = "odibi-secretplugin"


@pytest.fixture
def secret_site(site: FakeSite) -> FakeSite:
    """The careless plugin's drivers, and one that fails to import."""
    site.distribution(
        DISTRIBUTION,
        entry_points={
            "secret": "secretplugin:create",
            "secret-notconn": "secretplugin:not_a_connection",
            "secret-raises": "secretplugin:raises",
            "secret-broken": "secretbroken:create",
        },
        modules={
            "secretplugin": SECRET_PLUGIN,
            "secretbroken": "raise ImportError('the client library is missing')\n",
        },
    )
    return site


# -- every CLI command, in a real process -----------------------------------------------------


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


def spawn(*argv: str | os.PathLike[str], env: dict[str, str]) -> Result:
    """``python -m odibi_ext ARGV`` in a child process."""
    done = subprocess.run(
        [sys.executable, "-m", "odibi_ext", *(os.fspath(arg) for arg in argv)],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def policy_path(secret_site: FakeSite, tmp_path: Path) -> Path:
    """Only the fake distribution (installed) is seen: other drivers cannot change the outcome."""
    path = tmp_path / "policy.toml"
    path.write_text(
        f"[odibi_ext]\nallowed_distributions = [{json.dumps(DISTRIBUTION)}]\n", encoding="utf-8"
    )
    return path


@pytest.fixture
def connect_args(tmp_path: Path) -> list[str]:
    """The secret config: nested parts in a JSON config file, flat secrets as --set items."""
    file_part = {key: CONFIG[key] for key in ("AccountKey", "auth", "url", "conn")}
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(file_part), encoding="utf-8")
    sets = [f"--set={key}={value}" for key, value in CONFIG.items() if key not in file_part]
    return ["--config-file", str(config_file), *sets]


COMMANDS = {
    "list": (["list"], 0),
    "list --load": (["list", "--load"], 0),
    "show --load": (["show", "secret", "--load"], 0),
    "check": (["check"], 1),  # secret-broken fails
    "check --isolate": (["check", "--isolate", "--timeout", "60"], 1),
    "connect": (["connect", "secret"], 1),  # validate() fails
    "connect raising factory": (["connect", "secret-raises"], 1),
    "connect non-connection": (["connect", "secret-notconn"], 1),
}


@pytest.mark.parametrize("verbose", [False, True], ids=["default", "verbose"])
@pytest.mark.parametrize("fmt", ["table", "json"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_no_cli_command_prints_a_secret(
    cli_env: dict[str, str],
    policy_path: Path,
    connect_args: list[str],
    command: str,
    fmt: str,
    verbose: bool,
) -> None:
    argv, expected_code = COMMANDS[command]
    if argv[0] == "connect":
        argv = [*argv, *connect_args]
    options = ["--config", str(policy_path), *(["-v"] if verbose else [])]

    result = spawn(*options, *argv, "--format", fmt, env=cli_env)

    assert result.code == expected_code, result.err
    assert_no_secret(result.out, " to stdout")
    assert_no_secret(result.err, " to stderr")
    if verbose:
        assert "DEBUG" in result.err  # -v took effect
    if fmt == "json":
        json.loads(result.out)
    if argv[0] != "connect":
        return
    assert MASK in result.out
    if fmt == "json":
        report = json.loads(result.out)
        for key in (*FLAT_SECRETS, "auth"):
            assert report["config"][key] == MASK
        assert report["config"]["url"] == "postgresql://user:***@host/db"
        assert report["config"]["conn"] == "Server=x;Password=***;"
    if command != "connect raising factory":
        # The careless plugin's own log line did reach stderr, scrubbed.
        assert "fakeplugin" in result.err
        assert MASK in result.err


@pytest.mark.parametrize(
    "secret", ["pw\\SECRET-12l", "it's\"SECRET-13m"], ids=["backslash", "quotes"]
)
def test_connect_scrubs_a_secret_that_repr_escapes_from_plugin_logs(
    cli_env: dict[str, str], policy_path: Path, secret: str
) -> None:
    result = spawn(
        "--config", policy_path, "connect", "secret", f"--set=password={secret}", env=cli_env
    )

    assert result.code == 1
    assert "fakeplugin" in result.err  # the plugin logged its config
    for text in (result.out, result.err):
        assert secret not in text
        assert repr(secret)[1:-1] not in text


# -- in-process: logs, reprs, infos and errors ------------------------------------------------


def odibi_ext_texts(records: Iterable[logging.LogRecord]) -> list[str]:
    """The messages and formatted tracebacks of the records odibi_ext's loggers produced."""
    formatter = logging.Formatter()
    texts = []
    for record in records:
        if not record.name.startswith("odibi_ext"):
            continue
        texts.append(record.getMessage())
        if record.exc_info:
            texts.append(formatter.formatException(record.exc_info))
    return texts


def composed_by_odibi_ext(error: BaseException) -> list[str]:
    """What odibi_ext wrote about ``error``: its message if odibi_ext raised it, and its notes."""
    texts = list(getattr(error, "__notes__", ()))
    if type(error).__module__.startswith("odibi_ext"):
        texts.append(str(error))
    return texts


def test_registry_paths_put_no_secret_in_logs_reprs_infos_or_errors(
    secret_site: FakeSite, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    registry = ConnectionRegistry(policy=Policy(allowed_distributions={DISTRIBUTION}))
    texts = [repr(registry)]

    connection = registry.create("secret", "warehouse", CONFIG)
    with pytest.raises(InvalidConnectionError) as not_a_connection:
        registry.create("secret-notconn", "warehouse", CONFIG)
    with pytest.raises(RuntimeError) as raised:
        registry.create("secret-raises", "warehouse", CONFIG)
    with pytest.raises(DriverLoadError) as broken:
        registry.get("secret-broken")
    with pytest.raises(TypeError) as not_a_mapping:
        registry.create("secret", "warehouse", list(CONFIG.items()))  # type: ignore[arg-type]
    infos = registry.load_all()

    assert connection.config is CONFIG
    for error in (not_a_connection.value, raised.value, broken.value, not_a_mapping.value):
        texts.extend(composed_by_odibi_ext(error))
    assert str(not_a_mapping.value)  # odibi_ext's TypeError: its message must be clean too
    texts.append(str(not_a_mapping.value))
    texts.append(str(registry.get("secret")))
    for info in [*infos, registry.info("secret"), *registry.failures().values()]:
        texts += [repr(info), json.dumps(info.to_dict(), default=str)]
    texts.append(repr(registry))
    texts.extend(odibi_ext_texts(caplog.records))
    for text in texts:
        assert_no_secret(text)
    # The capture did see the secrets the plugin logged, and odibi_ext's masked config.
    plugin_lines = [r.getMessage() for r in caplog.records if r.name == "fakeplugin"]
    assert any(FLAT_SECRETS["password"] in line for line in plugin_lines)
    assert any("creating connection" in text and MASK in text for text in texts)
    assert any("secret-broken" in text for text in odibi_ext_texts(caplog.records))


def test_a_secret_in_the_plugins_own_error_stays_its_own_and_odibi_ext_adds_none(
    secret_site: FakeSite,
) -> None:
    registry = ConnectionRegistry(policy=Policy(allowed_distributions={DISTRIBUTION}))

    with pytest.raises(RuntimeError) as raised:
        registry.create("secret-raises", "warehouse", CONFIG)

    assert FLAT_SECRETS["password"] in str(raised.value)  # the plugin's own message
    notes = getattr(raised.value, "__notes__", [])
    assert any("secret-raises" in note for note in notes)  # odibi_ext names the driver
    for note in notes:
        assert_no_secret(note)


def test_registered_driver_paths_put_no_secret_anywhere(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    def careless(name: str, config: Any) -> object:
        logging.getLogger("fakeplugin").warning("config %s", config)
        return config  # not a connection

    registry = ConnectionRegistry.from_factories({"careless": careless})

    with pytest.raises(InvalidConnectionError) as caught:
        registry.create("careless", "warehouse", CONFIG)

    texts = [str(caught.value), repr(registry), repr(registry.info("careless"))]
    texts += [json.dumps(registry.info("careless").to_dict(), default=str)]
    texts += odibi_ext_texts(caplog.records)
    for text in texts:
        assert_no_secret(text)


# -- the sample drivers -----------------------------------------------------------------------

SAMPLES = {
    "sqlite": (odibi_sqlite.create, lambda directory: {"path": str(directory / "db.sqlite")}),
    "local": (odibi_localfs.create, lambda directory: {"base_path": str(directory)}),
}


@pytest.mark.parametrize("key", [*FLAT_SECRETS, "auth"])
@pytest.mark.parametrize("sample", list(SAMPLES))
def test_samples_reject_a_secret_looking_key_naming_the_key_not_the_value(
    tmp_path: Path, sample: str, key: str
) -> None:
    factory, base = SAMPLES[sample]
    registry = ConnectionRegistry.from_factories({sample: factory})

    with pytest.raises(ValueError, match="unknown config key") as caught:
        registry.create(sample, "db", {**base(tmp_path), key: CONFIG[key]})

    message = "\n".join([str(caught.value), *getattr(caught.value, "__notes__", [])])
    assert repr(key) in message
    assert_no_secret(message)


@pytest.mark.parametrize("sample", list(SAMPLES))
def test_samples_reject_the_whole_secret_config_without_showing_a_value(
    tmp_path: Path, sample: str
) -> None:
    factory, base = SAMPLES[sample]
    registry = ConnectionRegistry.from_factories({sample: factory})

    with pytest.raises(ValueError, match="unknown config key") as caught:
        registry.create(sample, "db", {**CONFIG, **base(tmp_path)})

    assert_no_secret("\n".join([str(caught.value), *getattr(caught.value, "__notes__", [])]))


def test_sample_reprs_show_the_name_and_location_but_no_other_config_value(
    tmp_path: Path,
) -> None:
    sqlite = odibi_sqlite.create(
        "warehouse", {"path": str(tmp_path / "w.db"), "timeout": 7.25, "read_only": False}
    )
    local = odibi_localfs.create("files", {"base_path": str(tmp_path), "create": "yes"})

    assert repr(sqlite).startswith("<")
    assert "warehouse" in repr(sqlite)
    assert "7.25" not in repr(sqlite)
    assert repr(local).startswith("<")
    assert "files" in repr(local)
    assert "yes" not in repr(local)
    for connection in (sqlite, local):
        assert_no_secret(repr(connection))
        assert_no_secret(str(connection))
