"""What a driver's type name is: a str (a str-enum member counts as its value)."""

from __future__ import annotations


def type_name_of(type_name: object) -> str:
    """``type_name`` as a plain str; a str-enum member (``ConnectionType.LOCAL``) is its value.

    Raises ``TypeError`` for anything that is not a str.
    """
    if type(type_name) is str:
        return type_name
    if not isinstance(type_name, str):
        raise TypeError(f"a driver's type name is a str, not {type(type_name).__qualname__}")
    # str() of a str-enum member is "ConnectionType.LOCAL"; its str data is the value.
    return str.__str__(type_name)
