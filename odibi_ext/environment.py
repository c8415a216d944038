"""The environment variables odibi_ext reads."""

from typing import Final

#: Path of the operator's policy file (TOML), read by ``Policy.from_env()``.
CONFIG_ENV: Final = "ODIBI_EXT_CONFIG"
#: Set to ``1`` to switch the on-disk entry-point index off.
NO_CACHE_ENV: Final = "ODIBI_EXT_NO_CACHE"
#: Directory for the on-disk entry-point index (default: the user's cache directory).
CACHE_DIR_ENV: Final = "ODIBI_EXT_CACHE_DIR"
