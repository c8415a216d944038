"""Keeping secrets out of logs, output and messages.

A config value is secret when its key names a secret (:func:`is_secret_key`):
the key is split into words (``db_password``, ``clientSecret``, ``SAS-TOKEN``)
and one of them is a secret word of :data:`SECRET_WORDS` - ``password``,
``secret``, ``token``, ``credential`` also at the end of a glued word
(``dbpassword``), the short ones (``pass``, ``pw``, ``auth``, ``sas``) only as
whole words (``author`` and ``passenger`` are not secret), and ``key`` only as
the last word and not a table's key (``api_key`` and ``AccountKey`` are secret;
``keyspace``, ``key_file`` and ``primary_key`` are not). :func:`redact` masks
such values in a config (nested mappings and lists included) and also masks
credentials embedded in strings: URL passwords (``scheme://user:password@host``),
``key=value;`` connection-string pairs, ``"key": "value"`` pairs of JSON or a
``repr``, and ``Authorization: Bearer ...`` headers.
:func:`scrub` removes known secret values from free text, such as an error
message a plugin composed, in the forms Python prints them (as written,
``repr``-escaped, JSON-escaped); :func:`redact_text` masks credentials
embedded in free text by their shape.
"""

from __future__ import annotations

import functools
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
    "pass",
    "pw",
    "secret",
    "token",
    "key",
    "credential",
    "auth",
    "sas",
    "signature",
    "private",
)
#: Secret as a word, or glued at the end of one (``dbpassword``, ``clientsecret``).
_STRONG_WORDS: Final = ("password", "passwd", "passphrase", "secret", "token", "credential")
#: Secret only as a whole word: inside longer ones they mean other things (``author``).
_WHOLE_WORDS: Final = frozenset(
    {
        "pass",
        "pw",
        "pwd",
        "passcode",
        "auth",
        "authorization",
        "sas",
        "sig",
        "signature",
        "cred",
        "creds",
        "private",
    }
)
#: Glued words ending in "key" that name a secret.
_SECRET_KEY_WORDS: Final = frozenset(
    {
        "apikey",
        "accesskey",
        "accountkey",
        "secretkey",
        "privatekey",
        "masterkey",
        "sharedkey",
        "signingkey",
        "encryptionkey",
        "subscriptionkey",
        "storagekey",
        "clientkey",
        "hmackey",
    }
)
#: Words before a final "key" that make it a data key, not a secret one.
_DATA_KEY_QUALIFIERS: Final = frozenset(
    {
        "primary",
        "foreign",
        "partition",
        "sort",
        "row",
        "hash",
        "unique",
        "composite",
        "natural",
        "surrogate",
        "business",
        "join",
        "merge",
        "dedup",
        "dedupe",
        "lookup",
        "index",
        "cluster",
        "clustering",
        "shard",
        "distribution",
        "range",
        "order",
        "group",
        "cache",
        "object",
        "s3",
    }
)
MASK: Final = "***"
#: Secrets shorter than this are masked in configs but not searched for in
#: free text, where replacing every "a" or "1" would destroy the message.
MIN_SCRUB_LENGTH: Final = 4
#: Deeper than this, a config is not walked: whatever is below is masked whole.
MAX_DEPTH: Final = 32

# Bounded repetitions keep the patterns linear on long hostile strings. Keys
# are the exception: a key runs whole (from a quote, or from where a run of key
# characters starts), so each character is scanned once, and the key is judged
# by is_secret_key as a whole, as in a config - a bound here once let a long
# key naming a secret go unmasked in JSON text while redact() masked it.
# The password runs to the last "@" of the URL, so one holding "@" or "/" is
# masked whole.
_URL_PASSWORD: Final = re.compile(
    r"(?P<head>\b[A-Za-z][\w+.-]{0,31}://[^:/@\s]{0,256}:)\S{1,1024}?(?P<tail>@)(?=[^@\s]*(?:\s|$))"
)
#: Words of a key: ``clientSecret`` is client, Secret; ``SAS_TOKEN2`` is SAS, TOKEN, 2.
_WORD: Final = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
#: ``"key": "value"`` or ``'key': 'value'`` (JSON, a dict's repr), or an unquoted value.
_QUOTED_PAIR: Final = re.compile(
    r"""(?P<key>(?P<q>["'])[\w .-]+(?P=q))(?P<sep>\s*:\s*)"""
    r"""(?P<value>"(?:[^"\\]|\\.){0,1024}"|'(?:[^'\\]|\\.){0,1024}'|[^\s,}\]]{1,256})"""
)
#: An HTTP authorization header: ``Authorization: Bearer abc``, ``Proxy-Authorization: Basic x``.
_AUTHORIZATION: Final = re.compile(
    r"(?P<head>\b(?:proxy-)?authorization\s*[:=]\s*)"
    r"(?P<scheme>(?:bearer|basic|token|digest|negotiate)\s+)?(?P<value>[^\s,;]{1,4096})",
    re.IGNORECASE,
)
_BEARER: Final = re.compile(r"(?P<head>\bbearer\s+)(?P<value>[\w.~+/=-]{8,4096})", re.IGNORECASE)
_PAIR: Final = re.compile(
    r"(?P<key>(?<![\w.-])[\w.-]+)(?P<sep>\s*=\s*)(?P<value>\{[^}]{0,1024}\}|[^;&\s]+)"
)


def is_secret_key(key: object) -> bool:
    """Whether a config key names a secret (``password``, ``api_key``, ``SAS_TOKEN``, ...).

    ``author``, ``keyspace``, ``primary_key`` and ``passenger`` are not: see
    the module's docstring for the rule.
    """
    if not isinstance(key, str):
        return False
    # The whole key is judged: a secret word may sit anywhere in a long one.
    return _names_secret_cached(key) if len(key) <= _CACHED_KEY_LENGTH else _names_secret(key)


#: Keys up to this long are remembered; longer ones are judged afresh each time.
_CACHED_KEY_LENGTH: Final = 256


@functools.lru_cache(maxsize=4096)
def _names_secret_cached(key: str) -> bool:
    return _names_secret(key)


def _names_secret(key: str) -> bool:
    words = [word.lower() for word in _WORD.findall(key)]
    letters = [word for word in words if not word.isdigit()]
    for word in letters:
        if word in _WHOLE_WORDS or word in _SECRET_KEY_WORDS:
            return True
        if any(word.endswith(strong) or word == strong + "s" for strong in _STRONG_WORDS):
            return True
    if letters and letters[-1] in ("key", "keys"):
        return len(letters) < 2 or letters[-2] not in _DATA_KEY_QUALIFIERS
    return False


def redact(config: Mapping[Any, Any]) -> dict[Any, Any]:
    """A copy of ``config`` fit to print: secret values replaced by ``***``.

    Nesting deeper than :data:`MAX_DEPTH`, or a config that contains itself,
    is masked whole rather than walked.
    """
    return _redact_mapping(config, 0)


def redact_text(text: str) -> str:
    """``text`` with embedded credentials masked by their shape.

    URL passwords, ``password=...`` pairs, ``"password": "..."`` pairs and
    ``Authorization: Bearer ...`` headers.
    """
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}{m['tail']}", text)
    text = _AUTHORIZATION.sub(lambda m: f"{m['head']}{m['scheme'] or ''}{MASK}", text)
    text = _BEARER.sub(lambda m: f"{m['head']}{MASK}", text)
    text = _QUOTED_PAIR.sub(_mask_quoted_pair, text)
    return _PAIR.sub(_mask_pair, text)


def embedded_secrets(text: str) -> set[str]:
    """The credentials :func:`redact_text` would mask in ``text``, to scrub them elsewhere."""
    found = {m["value"] for m in _AUTHORIZATION.finditer(text)}
    found.update(m["value"] for m in _BEARER.finditer(text))
    for match in _QUOTED_PAIR.finditer(text):
        if is_secret_key(match["key"][1:-1]):
            value = match["value"]
            found.add(value[1:-1] if value[:1] in "\"'" else value)
    found.update(m["value"] for m in _PAIR.finditer(text) if is_secret_key(m["key"]))
    return {value for value in found if len(value) >= MIN_SCRUB_LENGTH and MASK not in value}


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


def _mask_quoted_pair(match: re.Match[str]) -> str:
    if not is_secret_key(match["key"][1:-1]):
        return match[0]
    value = match["value"]
    quote = value[0] if value[:1] in "\"'" else ""
    return f"{match['key']}{match['sep']}{quote}{MASK}{quote}"


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
    if isinstance(value, (list, tuple)):
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
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _secrets(item, secret, depth + 1)
    elif secret and value is not None and not isinstance(value, bool):
        yield str(value)
    elif isinstance(value, str):
        yield from embedded_secrets(value)
