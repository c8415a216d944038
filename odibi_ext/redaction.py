"""Keeping secrets out of logs, output and messages.

A config value is secret when its key contains one of :data:`SECRET_WORDS`
(case-insensitive). :func:`redact` masks such values in a config (nested
mappings and lists included) and also masks passwords embedded in URLs
(``scheme://user:password@host``) and in ``key=value;`` connection strings.
:func:`scrub` removes known secret values from free text, such as an error
message a plugin composed; :func:`redact_text` masks credentials embedded in
free text by their shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any
from typing import Final

SECRET_WORDS: Final = (
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
MASK: Final = "***"
#: Secrets shorter than this are masked in configs but not searched for in
#: free text, where replacing every "a" or "1" would destroy the message.
MIN_SCRUB_LENGTH: Final = 4

# Bounded repetitions keep both patterns linear on long hostile strings.
_URL_PASSWORD: Final = re.compile(
    r"(?P<head>\b[A-Za-z][\w+.-]{0,31}://[^:/@\s]{0,256}:)[^@\s]{1,1024}(?P<tail>@)"
)
_PAIR: Final = re.compile(r"(?P<key>\b[\w.-]{1,64})(?P<sep>\s*=\s*)(?P<value>[^;&\s]+)")


def is_secret_key(key: object) -> bool:
    """Whether a config key names a secret (``password``, ``api_key``, ``SAS_TOKEN``, ...)."""
    return isinstance(key, str) and any(word in key.lower() for word in SECRET_WORDS)


def redact(config: Mapping[Any, Any]) -> dict[Any, Any]:
    """A copy of ``config`` fit to print: secret values replaced by ``***``."""
    return {
        key: MASK if is_secret_key(key) else _redact_value(value) for key, value in config.items()
    }


def redact_text(text: str) -> str:
    """``text`` with URL passwords and ``password=...`` style pairs masked."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}{m['tail']}", text)
    return _PAIR.sub(_mask_pair, text)


def secret_values(config: Mapping[Any, Any]) -> set[str]:
    """Every secret value in ``config`` (as text), to be scrubbed from free text."""
    return {text for text in _secrets(config) if len(text) >= MIN_SCRUB_LENGTH}


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every one of ``secrets`` masked (longest first)."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def _mask_pair(match: re.Match[str]) -> str:
    key = match["key"]
    if is_secret_key(key) or key.lower() == "sig":  # "sig" carries an Azure SAS signature
        return f"{key}{match['sep']}{MASK}"
    return match[0]


def _redact_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return redact(value)
    if isinstance(value, list | tuple):
        return [_redact_value(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def _secrets(value: Any, secret: bool = False) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _secrets(item, secret or is_secret_key(key))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _secrets(item, secret)
    elif secret and value is not None and not isinstance(value, bool):
        yield str(value)
