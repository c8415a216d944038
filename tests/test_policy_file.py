"""Policy files: every mistake is a ValueError naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from odibi_ext import Policy


def write(tmp_path: Path, text: str | bytes, name: str = "policy.toml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_a_full_policy_file_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [odibi_ext]
        on_conflict = "first"
        disabled = ["legacy"]
        allowed_distributions = ["odibi-sqlite", "odibi-localfs"]

        [odibi_ext.pins]
        sqlite = "odibi-sqlite"

        [tool.other]
        ignored = true
        """.replace("\n        ", "\n"),
    )

    policy = Policy.from_file(path)

    assert policy == Policy(
        on_conflict="first",
        pins={"sqlite": "odibi-sqlite"},
        disabled=frozenset({"legacy"}),
        allowed_distributions=frozenset({"odibi-sqlite", "odibi-localfs"}),
    )
    assert policy.source == str(path)
    assert policy.describe() == f"policy file {path}"


def test_an_empty_file_is_the_default_policy(tmp_path: Path) -> None:
    assert Policy.from_file(write(tmp_path, "")) == Policy()


def test_from_env_reads_the_named_file_or_gives_the_default(tmp_path: Path) -> None:
    path = write(tmp_path, '[odibi_ext]\ndisabled = ["x"]\n')
    assert Policy.from_env({"ODIBI_EXT_CONFIG": str(path)}).disabled == {"x"}
    assert Policy.from_env({}) == Policy()
    assert Policy.from_env({"ODIBI_EXT_CONFIG": ""}) == Policy()


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ('[odibi_ext]\npinz = {sqlite = "odibi-sqlite"}\n', "'pinz'", "unknown key"),
        ('[odibi_ext]\non_conflict = "random"\n', "'on_conflict'", "error, first, last"),
        ("[odibi_ext]\non_conflict = 3\n", "'on_conflict'", "error, first, last"),
        ('[odibi_ext]\ndisabled = "legacy"\n', "'disabled'", "array of strings, not a string"),
        ("[odibi_ext]\ndisabled = [1, 2]\n", "'disabled'", "item 1 is an integer (1)"),
        ("[odibi_ext]\ndisabled = 7\n", "'disabled'", "not an integer (7)"),
        ("[odibi_ext]\ndisabled = 2024-01-02\n", "'disabled'", "not a date (2024-01-02)"),
        ("[odibi_ext]\nallowed_distributions = true\n", "'allowed_distributions'", "a boolean"),
        ('[odibi_ext]\npins = ["sqlite"]\n', "'pins'", "table of type name"),
        ("[odibi_ext.pins]\nsqlite = 1\n", "pins.sqlite", "must be a string"),
        ("odibi_ext = 3\n", "'odibi_ext'", "must be a table"),
        ("[odibi-ext]\ndisabled = []\n", "[odibi_ext]", "found [odibi-ext]"),
    ],
)
def test_a_bad_key_is_named_with_the_file(tmp_path: Path, text: str, key: str, words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match="policy file") as caught:
        Policy.from_file(path)
    message = str(caught.value)
    assert str(path) in message
    assert key in message
    assert words in message


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"[odibi_ext\n", "is not valid TOML"),
        (b"on_conflict = = 1\n", "is not valid TOML"),
        (b"\xff\xfe\x00 not utf-8", "is not UTF-8 text: byte 0xff on line 1"),
        (b"[[[", "is not valid TOML"),
    ],
)
def test_a_file_that_is_not_toml_is_named(tmp_path: Path, content: bytes, words: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(ValueError, match=words) as caught:
        Policy.from_file(path)
    assert str(path) in str(caught.value)


def test_a_missing_or_unreadable_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ValueError, match="does not exist") as caught:
        Policy.from_file(missing)
    assert str(missing) in str(caught.value)

    with pytest.raises(ValueError, match="is a directory, not a regular file") as caught:
        Policy.from_file(tmp_path)
    assert str(tmp_path) in str(caught.value)


def test_to_dict_round_trips(tmp_path: Path) -> None:
    policy = Policy(
        on_conflict="last",
        pins={"a": "b"},
        disabled={"x"},
        allowed_distributions={"b"},
        source="f.toml",
    )
    assert Policy(**policy.to_dict()) == policy
    assert Policy(**policy.to_dict()).source == "f.toml"
