"""Which config keys are secret: what they name, not what they merely contain.

Both directions are held by properties: every key built around a secret word
is masked, and keys built from ordinary words - including ``author``,
``keyspace``, ``primary_key`` and ``passenger``, which contain a secret word's
letters - are shown. The CLI tests run real processes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FakeSite
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from test_cli import LEAKY_FACTORY
from test_cli import plugin
from test_cli import spawn

from odibi_ext.redaction import MASK
from odibi_ext.redaction import embedded_secrets
from odibi_ext.redaction import is_secret_key
from odibi_ext.redaction import mask_text
from odibi_ext.redaction import redact
from odibi_ext.redaction import redact_text
from odibi_ext.redaction import secret_values

BOUNDED = settings(max_examples=300, deadline=None)

#: Longer than the 64 characters a key once could be in JSON text: its secret
#: word sits in the middle, with data-key words ("partition_key") around it.
LONG_SECRET_KEY = "partition_key_partition_key_passphrase_partition_key_partition_key"

#: Words that make a key secret wherever they stand in it.
SECRET_WORDS = (
    "password",
    "passwd",
    "passphrase",
    "pass",
    "pw",
    "pwd",
    "secret",
    "secrets",
    "token",
    "credential",
    "credentials",
    "cred",
    "creds",
    "auth",
    "authorization",
    "sas",
    "signature",
    "private",
    "apikey",
    "accesskey",
    "accountkey",
)
#: Ordinary words, some holding a secret word's letters.
PUBLIC_WORDS = (
    "author",
    "authority",
    "keyspace",
    "passenger",
    "compass",
    "bypass",
    "tokenizer",
    "path",
    "host",
    "port",
    "user",
    "database",
    "schema",
    "table",
    "timeout",
    "name",
    "key",  # a public word only when something follows it: key_file, key_column
    "file",
    "column",
    "keys",
    "region",
)
#: Keys ending in "key" that name a data key, not a secret one.
DATA_KEYS = ("primary_key", "foreign_key", "partition_key", "sort_key", "row_key", "primaryKey")
SEPARATORS = st.sampled_from(["_", "-", ".", " "])


def cased(word: str) -> st.SearchStrategy[str]:
    return st.sampled_from([word, word.upper(), word.capitalize()])


def joined(parts: list[str], separators: list[str]) -> str:
    out = parts[0]
    for part, separator in zip(parts[1:], separators):
        out += separator + part
    return out


PUBLIC_PART = st.one_of(st.sampled_from(PUBLIC_WORDS).flatmap(cased), st.sampled_from(DATA_KEYS))


@st.composite
def secret_keys(draw: st.DrawFn) -> str:
    """A key around a secret word: ``db_password``, ``AUTH-header``, ``my.apikey``, ``api_key``."""
    if draw(st.booleans()):
        before = draw(st.lists(PUBLIC_PART, max_size=2))
        secret = draw(st.sampled_from(SECRET_WORDS).flatmap(cased))
        after = draw(st.lists(PUBLIC_PART, max_size=2))
        parts = [*before, secret, *after]
    else:  # "key" last, after anything but a data-key word
        before = draw(
            st.lists(st.sampled_from(["api", "access", "account", "my", "db"]), max_size=2)
        )
        parts = [*before, draw(cased("key"))]
    return joined(parts, draw(st.lists(SEPARATORS, min_size=len(parts), max_size=len(parts))))


@st.composite
def public_keys(draw: st.DrawFn) -> str:
    parts = draw(st.lists(PUBLIC_PART, min_size=1, max_size=4))
    if parts[-1].lower() in ("key", "keys"):
        parts.append("file")  # a bare or final "key" is a secret's name
    return joined(parts, draw(st.lists(SEPARATORS, min_size=len(parts), max_size=len(parts))))


VALUES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=6, max_size=20)


@BOUNDED
@given(key=secret_keys(), value=VALUES)
def test_a_key_naming_a_secret_is_masked(key: str, value: str) -> None:
    assert is_secret_key(key), key
    assert redact({key: value}) == {key: MASK}
    assert value in secret_values({key: value})


@BOUNDED
@given(key=public_keys(), value=VALUES)
def test_a_key_naming_no_secret_is_shown(key: str, value: str) -> None:
    assert not is_secret_key(key), key
    assert redact({key: value}) == {key: value}
    assert secret_values({key: value}) == set()
    assert mask_text(f"{key}={value}", secret_values({key: value})) == f"{key}={value}"


@pytest.mark.parametrize(
    "key",
    ["pass", "pw", "PW", "db_pass", "pwd", "cred_json", "Authorization", "apiKey", "key", "key2"],
)
def test_short_secret_words_are_secret(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key",
    ["keyspace", "primary_key", "author", "key_file", "KeyError", "passenger", "authority"],
)
def test_words_merely_containing_secret_letters_are_not(key: str) -> None:
    assert not is_secret_key(key)


@BOUNDED
@given(key=secret_keys(), value=VALUES, quote=st.sampled_from(['"', "'"]))
@example(key=LONG_SECRET_KEY, value="000000", quote='"')
@example(key=LONG_SECRET_KEY, value="000000", quote="'")
@example(key="x" * 300 + "_password", value="000000", quote='"')
def test_a_secret_inside_json_or_a_repr_is_masked_and_scrubbed(
    key: str, value: str, quote: str
) -> None:
    text = f"{{{quote}user{quote}: {quote}bob{quote}, {quote}{key}{quote}: {quote}{value}{quote}}}"

    masked = redact_text(text)

    assert value not in masked
    assert f"{quote}user{quote}: {quote}bob{quote}" in masked
    assert value in embedded_secrets(text)
    assert value in secret_values({"options": text})  # scrubbed from what a plugin says


@pytest.mark.parametrize(
    "key",
    [LONG_SECRET_KEY, "x" * 300 + "_password", "a-" * 100 + "api_key", "password_" + "y" * 300],
)
def test_a_long_key_naming_a_secret_is_masked_alike_in_a_config_and_in_text(key: str) -> None:
    assert is_secret_key(key)
    assert redact({"user": "bob", key: "000000"}) == {"user": "bob", key: MASK}
    for text in (
        f'{{"user": "bob", "{key}": "000000"}}',
        f"{{'user': 'bob', '{key}': '000000'}}",
        f"{{'user': 'bob', '{key}': 000000}}",
        f"user=bob;{key}=000000;port=1",
    ):
        masked = redact_text(text)
        assert "000000" not in masked, text
        assert "bob" in masked
        assert key in masked
        assert embedded_secrets(text) == {"000000"}


def test_a_long_key_naming_no_secret_is_shown_in_text() -> None:
    key = "partition_key_" * 10 + "name"
    text = f'{{"{key}": "000000", "{key}2": 7}} {key}=000000'

    assert not is_secret_key(key)
    assert redact_text(text) == text
    assert embedded_secrets(text) == set()


@BOUNDED
@given(
    scheme=st.sampled_from(["Bearer", "bearer", "Basic", "Token", ""]),
    header=st.sampled_from(["Authorization", "authorization", "Proxy-Authorization"]),
    value=st.text(alphabet="ABCDEFabcdef0123456789._-+/=", min_size=8, max_size=40),
)
def test_an_authorization_header_is_masked(scheme: str, header: str, value: str) -> None:
    text = f"{header}: {scheme} {value}".replace(":  ", ": ")

    masked = redact_text(text)

    assert value not in masked
    assert masked.startswith(header)
    assert value in embedded_secrets(text)


# -- the CLI, in real processes ---------------------------------------------------------------

SECRETS = {
    "pass": "pass-SECRET-1",
    "pw": "pw-SECRET-2",
    "cred_json": '{"password": "cj-SECRET-3"}',
}
EMBEDDED = {
    "options": '{"user": "bob", "password": "opt-SECRET-4"}',
    "headers": "Authorization: Bearer hdr-SECRET-5abcdef",
}
VISIBLE = {"keyspace": "ks-visible", "primary_key": "pk-visible", "author": "alice-visible"}


@pytest.mark.parametrize("fmt", ["table", "json"])
@pytest.mark.parametrize("verbose", [False, True])
def test_connect_masks_secrets_and_shows_what_is_not_secret(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path, fmt: str, verbose: bool
) -> None:
    plugin(site, "clitest-leaky", LEAKY_FACTORY)
    settings_ = [f"{key}={value}" for key, value in {**SECRETS, **EMBEDDED, **VISIBLE}.items()]
    argv = ["-v"] if verbose else []
    argv += ["connect", "clitest-leaky", "--format", fmt]
    for item in settings_:
        argv += ["--set", item]

    result = spawn("module", *argv, env=cli_env)

    assert result.code == 1  # the leaky plugin's validate() fails, naming its password
    everything = result.out + result.err
    for secret in ("SECRET-1", "SECRET-2", "SECRET-3", "SECRET-4", "SECRET-5"):
        assert secret not in everything, secret
    for value in VISIBLE.values():
        assert value in result.out
    if fmt == "json":
        config = json.loads(result.out)["config"]
        assert config["pass"] == config["pw"] == config["cred_json"] == MASK
        assert json.loads(config["options"]) == {"user": "bob", "password": MASK}
        assert config["headers"] == f"Authorization: Bearer {MASK}"
        assert {key: config[key] for key in VISIBLE} == VISIBLE
