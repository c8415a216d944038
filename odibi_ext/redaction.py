"""Keeping secrets out of logs, output and messages.

A config value is secret when its key contains one of :data:`SECRET_WORDS`
(case-insensitive). :func:`redact` masks such values in a config (nested
mappings and lists included) and also masks passwords embedded in URLs
(``scheme://user:password@host``) and in ``key=value;`` connection strings.
:func:`scrub` removes known secret values from free text, such as an error
message a plugin composed, in the forms Python prints them (as written,
``repr``-escaped, JSON-escaped); :func:`redact_text` masks credentials
embedded in free text by their shape.
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
    "passphrase",
    "pwd",
    "secret",
    "token",
    "key",
    "credential",
    "auth",
    "sas",
    "signature",
    "private",
)
MASK: Final = "***"
#: Secrets shorter than this are masked in configs but not searched for in
#: free text, where replacing every "a" or "1" would destroy the message.
MIN_SCRUB_LENGTH: Final = 4
#: Deeper than this, a config is not walked: whatever is below is masked whole.
MAX_DEPTH: Final = 32

# Bounded repetitions keep both patterns linear on long hostile strings.
# The password runs to the last "@" of the URL, so one holding "@" or "/" is
# masked whole.
_URL_PASSWORD: Final = re.compile(
    r"(?P<head>\b[A-Za-z][\w+.-]{0,31}://[^:/@\s]{0,256}:)\S{1,1024}?(?P<tail>@)(?=[^@\s]*(?:\s|$))"
)
_PAIR: Final = re.compile(
    r"(?P<key>\b[\w.-]{1,64})(?P<sep>\s*=\s*)(?P<value>\{[^}]{0,1024}\}|[^;&\s]+)"
)


def is_secret_key(key: object) -> bool:
    """Whether a config key names a secret (``password``, ``api_key``, ``SAS_TOKEN``, ...)."""
    return isinstance(key, str) and any(word in key.lower() for word in SECRET_WORDS)


def redact(config: Mapping[Any, Any]) -> dict[Any, Any]:
    """A copy of ``config`` fit to print: secret values replaced by ``***``.

    Nesting deeper than :data:`MAX_DEPTH`, or a config that contains itself,
    is masked whole rather than walked.
    """
    return _redact_mapping(config, 0)


def redact_text(text: str) -> str:
    """``text`` with URL passwords and ``password=...`` style pairs masked."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}{m['tail']}", text)
    return _PAIR.sub(_mask_pair, text)


def secret_values(config: Mapping[Any, Any]) -> set[str]:
    """Every secret value in ``config`` (as text), to be scrubbed from free text."""
    return {text for text in _secrets(config, False, 0) if len(text) >= MIN_SCRUB_LENGTH}


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every one of ``secrets`` masked, longest first.

    Each secret is also found in the escaped forms ``repr`` and JSON give it,
    as when a plugin logs its whole config dict.
    """
    forms = {form for secret in secrets for form in _printed_forms(secret)}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    return text


def mask_text(text: str, secrets: Iterable[str]) -> str:
    """Free text fit to print: the known ``secrets`` scrubbed, credentials masked by shape."""
    return redact_text(scrub(text, secrets))


def _printed_forms(secret: str) -> set[str]:
    import json

    forms = {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1], ascii(secret)[1:-1]}
    return {form for form in forms if len(form) >= MIN_SCRUB_LENGTH}


def _mask_pair(match: re.Match[str]) -> str:
    key = match["key"]
    if is_secret_key(key) or key.lower() == "sig":  # "sig" carries an Azure SAS signature
        return f"{key}{match['sep']}{MASK}"
    return match[0]


def _redact_mapping(config: Mapping[Any, Any], depth: int) -> dict[Any, Any]:
    return {
        key: MASK if is_secret_key(key) else _redact_value(value, depth + 1)
        for key, value in config.items()
    }


def _redact_value(value: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        return MASK
    if isinstance(value, Mapping):
        return _redact_mapping(value, depth)
    if isinstance(value, list | tuple):
        return [_redact_value(item, depth + 1) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def _secrets(value: Any, secret: bool, depth: int) -> Iterator[str]:
    if depth > MAX_DEPTH:
        return  # what lies deeper is masked whole by redact(); never printed
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _secrets(item, secret or is_secret_key(key), depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _secrets(item, secret, depth + 1)
    elif secret and value is not None and not isinstance(value, bool):
        yield str(value)
