"""Throwaway drivers for the contract's own tests: a correct SQL driver on sqlite3 and
pandas, and variants of it each broken (or unusual but correct) in one way.

Every variant is the reference source plus a few lines appended that replace
one method or attribute, so the difference is exactly the breakage named.
"""

from __future__ import annotations

#: A correct SQL driver: what Odibi's pandas engine calls, quoting, binding, a lock.
REFERENCE_SQL = """
import os
import sqlite3
import threading

KNOWN = {"path", "password", "url", "auth_mode", "type", "validation_mode"}


def _quote(name):
    return '"' + str(name).replace('"', '""') + '"'


def _plain(value):
    import pandas as pd

    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ")
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _sql_type(dtype):
    return {"i": "INTEGER", "u": "INTEGER", "b": "INTEGER", "f": "REAL"}.get(dtype.kind, "TEXT")


class Conn:
    default_schema = "main"
    sql_dialect = "sqlite"

    def __init__(self, name, config):
        unknown = sorted(set(config) - KNOWN)
        if unknown:
            raise ValueError(f"kit-sql: unknown config keys {unknown}; known: path, password")
        self.name = name
        self._path = config["path"]
        self._password = config.get("password")
        self._url = config.get("url")
        self._lock = threading.Lock()
        self._db = None
        if config.get("validation_mode") == "eager":
            self.validate()

    def __repr__(self):
        return f"<Conn {self.name!r} path={self._path!r}>"

    def _conn(self):
        if self._db is None:
            self._db = sqlite3.connect(self._path, check_same_thread=False)
        return self._db

    def get_path(self, relative_path):
        return relative_path

    def validate(self):
        folder = os.path.dirname(self._path)
        if folder and not os.path.isdir(folder):
            raise FileNotFoundError(f"kit-sql: directory {folder!r} does not exist")
        with self._lock:
            self._conn().execute("SELECT 1")

    def quote_identifier(self, name):
        return _quote(name)

    def qualify_table(self, table_name, schema=""):
        schema = schema or self.default_schema
        if schema:
            return f"{self.quote_identifier(schema)}.{self.quote_identifier(table_name)}"
        return self.quote_identifier(table_name)

    def build_select_query(self, table_name, schema="", where="", limit=-1, columns="*"):
        query = f"SELECT {columns} FROM {self.qualify_table(table_name, schema)}"
        if where:
            query += f" WHERE {where}"
        if limit >= 0:
            query += f" LIMIT {limit}"
        return query

    def _query(self, query, params=None):
        import pandas as pd

        with self._lock:
            return pd.read_sql_query(query, self._conn(), params=params)

    def read_sql_query(self, query, params=None):
        return self._query(query, params)

    def read_sql(self, query, params=None):
        return self._query(query, params)

    def read_table(self, table_name, schema=""):
        return self._query(self.build_select_query(table_name, schema))

    def _target(self, table_name, schema):
        schema = schema or self.default_schema
        master = f"{_quote(schema)}.sqlite_master" if schema else "sqlite_master"
        table = f"{_quote(schema)}.{_quote(table_name)}" if schema else _quote(table_name)
        return table, master

    def _values(self, df):
        return [tuple(_plain(v) for v in row) for row in df.itertuples(index=False, name=None)]

    def _columns(self, df):
        return ", ".join(f"{_quote(c)} {_sql_type(df[c].dtype)}" for c in df.columns)

    def write_table(self, df, table_name, schema="", if_exists="fail", chunksize=1000):
        table, master = self._target(table_name, schema)
        with self._lock:
            db = self._conn()
            query = f"SELECT count(*) FROM {master} WHERE name = ?"
            exists = db.execute(query, (table_name,)).fetchone()[0]
            if exists and if_exists == "fail":
                raise ValueError(f"kit-sql: table {table_name!r} exists")
            if if_exists == "replace":
                db.execute(f"DROP TABLE IF EXISTS {table}")
            db.execute(f"CREATE TABLE IF NOT EXISTS {table} ({self._columns(df)})")
            names = ", ".join(_quote(c) for c in df.columns)
            marks = ", ".join("?" for _ in df.columns)
            db.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", self._values(df))
            db.commit()
        return len(df)

    def close(self):
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def create(name, config):
    return Conn(name, dict(config))
"""

#: The same driver on Odibi's own BaseConnection: no close(), no `with`.
ON_ODIBI_BASE = (
    REFERENCE_SQL.replace(
        "import threading\n",
        "import threading\n\nfrom odibi.connections.base import BaseConnection\n",
    )
    .replace("class Conn:", "class Conn(BaseConnection):")
    .replace(
        """    def close(self):
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
""",
        "",
    )
)

#: variant name -> lines appended to REFERENCE_SQL, for the correct but unusual drivers.
CORRECT_VARIANTS = {
    # BaseConnection's default: Odibi passes schema '' and the database's default applies.
    "empty-default-schema": 'Conn.default_schema = ""\n',
    # Odibi splits get_path's result on the first '.': main.orders reads main.orders.
    "qualified-get-path": ("Conn.get_path = lambda self, p: p if '.' in p else 'main.' + p\n"),
    # Odibi ignores what validate() returns.
    "validate-returns": (
        "_validate = Conn.validate\n"
        "def validate(self):\n"
        "    _validate(self)\n"
        "    return True\n"
        "Conn.validate = validate\n"
    ),
    # A name it cannot store, refused with a message naming it: Odibi shows it, clearly.
    "refuses-quotes": (
        "_write = Conn.write_table\n"
        "def write_table(self, df, table_name, schema='', if_exists='fail', chunksize=1000):\n"
        "    for name in (table_name, *map(str, df.columns)):\n"
        "        if '\"' in name:\n"
        "            raise ValueError(\n"
        "                f'kit-sql: the name {name!r} holds a \\'\"\\' this driver refuses'\n"
        "            )\n"
        "    return _write(self, df, table_name, schema, if_exists, chunksize)\n"
        "Conn.write_table = write_table\n"
    ),
    # A key that looks secret by its name but holds a public value, shown in repr.
    "auth-mode-shown": (
        "_init = Conn.__init__\n"
        "def __init__(self, name, config):\n"
        "    _init(self, name, config)\n"
        "    self._auth = config.get('auth_mode')\n"
        "Conn.__init__ = __init__\n"
        "Conn.__repr__ = lambda self: f'<Conn {self.name!r} auth_mode={self._auth!r}>'\n"
    ),
}

#: variant name -> (lines appended to REFERENCE_SQL, the rule it breaks, words its message holds)
BROKEN_VARIANTS = {
    "append-needs-table": (
        "_write = Conn.write_table\n"
        "def write_table(self, df, table_name, schema='', if_exists='fail', chunksize=1000):\n"
        "    table, master = self._target(table_name, schema)\n"
        "    with self._lock:\n"
        "        query = f'SELECT count(*) FROM {master} WHERE name = ?'\n"
        "        n = self._conn().execute(query, (table_name,)).fetchone()[0]\n"
        "    if if_exists == 'append' and not n:\n"
        "        raise LookupError(f'kit-sql: no table {table_name!r} to append to')\n"
        "    return _write(self, df, table_name, schema, if_exists, chunksize)\n"
        "Conn.write_table = write_table\n",
        "sql_append_creates_the_table",
        ["if_exists='append'", "the table is new", "no table", "create the table"],
    ),
    "replace-keeps-columns": (
        "def write_table(self, df, table_name, schema='', if_exists='fail', chunksize=1000):\n"
        "    table, master = self._target(table_name, schema)\n"
        "    with self._lock:\n"
        "        db = self._conn()\n"
        "        db.execute(f'CREATE TABLE IF NOT EXISTS {table} ({self._columns(df)})')\n"
        "        if if_exists == 'replace':\n"
        "            db.execute(f'DELETE FROM {table}')\n"
        "        have = [r[1] for r in db.execute(f'PRAGMA table_info({_quote(table_name)})')]\n"
        "        kept = df[[c for c in df.columns if c in have]]\n"
        "        names = ', '.join(_quote(c) for c in kept.columns)\n"
        "        marks = ', '.join('?' for _ in kept.columns)\n"
        "        insert = f'INSERT INTO {table} ({names}) VALUES ({marks})'\n"
        "        db.executemany(insert, self._values(kept))\n"
        "        db.commit()\n"
        "Conn.write_table = write_table\n",
        "sql_replace_takes_new_columns",
        ["'added'", "dropped silently", "DROP TABLE and CREATE TABLE"],
    ),
    "read-ignores-schema": (
        "Conn.read_table = lambda self, table_name, schema='': "
        "self._query(f'SELECT * FROM {_quote(table_name)}')\n",
        "sql_honours_schema",
        ["odibi_ext_contract_no_such_schema", "staging.orders", "read from the schema given"],
    ),
    "ignores-schema": (
        "Conn._target = lambda self, t, s: (_quote(t), 'sqlite_master')\n"
        "Conn.qualify_table = lambda self, t, schema='': _quote(t)\n",
        "sql_honours_schema",
        ["odibi_ext_contract_no_such_schema", "never overwrite the default schema"],
    ),
    "shared-database": (
        "_SHARED = {}\n"
        "def _conn(self):\n"
        "    if 'db' not in _SHARED:\n"
        "        _SHARED['db'] = sqlite3.connect(self._path, check_same_thread=False)\n"
        "    return _SHARED['db']\n"
        "Conn._conn = _conn\n"
        "Conn.close = lambda self: None\n",
        "connections_are_isolated",
        ["share one database", "module-level"],
    ),
    "no-build-select-query": (
        "del Conn.build_select_query\n"
        "Conn.read_table = lambda self, table_name, schema='': "
        "self._query(f'SELECT * FROM {self.qualify_table(table_name, schema)}')\n",
        "sql_filtered_read",
        ["no build_select_query()", "AttributeError"],
    ),
    "no-read-sql-query": (
        "del Conn.read_sql_query\n",
        "sql_filtered_read",
        ["no read_sql_query()", "ignores a read's filter", "every row"],
    ),
    "timestamp-unbound": (
        "_plain_before = _plain\n"
        "def _plain(value):\n"
        "    if hasattr(value, 'isoformat'):\n"
        "        return value\n"
        "    return _plain_before(value)\n",
        "sql_data_shapes",
        ["write_table(df=<3 rows", "Timestamp"],
    ),
    "numpy-blobs": (
        "def _plain(value):\n"
        "    import pandas as pd\n"
        "    if value is None or (not isinstance(value, str) and pd.isna(value)):\n"
        "        return None\n"
        "    return value.isoformat(sep=' ') if hasattr(value, 'isoformat') else value\n",
        "sql_data_shapes",
        ["numpy int", "bytes", "value.item()", "BLOB"],
    ),
    "nulls-as-empty-text": (
        "_plain_before = _plain\n"
        "def _plain(value):\n"
        "    converted = _plain_before(value)\n"
        "    return '' if converted is None else converted\n",
        "sql_data_shapes",
        ["row 2", "read back ''", "write NULL"],
    ),
    "types-from-first-row": (
        "def _columns(self, df):\n"
        "    first = df.iloc[0]\n"
        "    return ', '.join(_quote(c) + (' REAL' if isinstance(first[c], float) else '') "
        "for c in df.columns)\n"
        "Conn._columns = _columns\n",
        "sql_data_shapes",
        ["a filter matched no row", "IndexError", "write_table(df=<0 rows"],
    ),
    "quote-not-escaped": (
        "Conn.quote_identifier = lambda self, name: '\"' + name + '\"'\n",
        "sql_filtered_read",
        ['we"ird', "doubling an embedded"],
    ),
    "quote-not-overridden": (
        "Conn.quote_identifier = lambda self, name: name\n",
        "sql_filtered_read",
        ["orders-2024", "quote_identifier"],
    ),
    "one-thread-only": (
        "def _conn(self):\n"
        "    if self._db is None:\n"
        "        self._db = sqlite3.connect(self._path)  # bound to the thread opening it\n"
        "    return self._db\n"
        "Conn._conn = _conn\n",
        "usable_from_another_thread",
        ["another thread", "ProgrammingError", "--parallel", "check_same_thread=False"],
    ),
    "eager-by-str": (
        "_init = Conn.__init__\n"
        "def __init__(self, name, config):\n"
        "    mode = config.get('validation_mode')\n"
        "    config = {k: v for k, v in config.items() if k != 'validation_mode'}\n"
        "    _init(self, name, config)\n"
        "    if str(mode) == 'eager':\n"
        "        self.validate()\n"
        "Conn.__init__ = __init__\n",
        "eager_mode_validates_at_creation",
        ["ValidationMode.EAGER", "str(mode) gives 'ValidationMode.EAGER'"],
    ),
    "url-password-in-repr": (
        "Conn.__repr__ = lambda self: f'<Conn {self.name!r} url={self._url!r}>'\n",
        "secrets_stay_hidden",
        ["key 'url' (the password in its URL)", "repr(connection)"],
    ),
    "password-in-read-error": (
        "_read = Conn.read_table\n"
        "def read_table(self, table_name, schema=''):\n"
        "    try:\n"
        "        return _read(self, table_name, schema)\n"
        "    except Exception as exc:\n"
        "        raise RuntimeError(f'kit-sql: cannot read {table_name} as user with password "
        "{self._password}: {exc}') from None\n"
        "Conn.read_table = read_table\n",
        "secrets_stay_hidden",
        ["key 'password' (its name looks secret)", "read_table of the missing table"],
    ),
    "validate-never-raises": (
        "Conn.validate = lambda self: None\n",
        "lazy_mode_defers_validation",
        ["validate() returned for invalid_config"],
    ),
    "password-in-write-error": (
        "_write = Conn.write_table\n"
        "def write_table(self, df, table_name, schema='', if_exists='fail', chunksize=1000):\n"
        "    try:\n"
        "        return _write(self, df, table_name, schema, if_exists, chunksize)\n"
        "    except Exception as exc:\n"
        "        raise RuntimeError(f'kit-sql: write failed (password={self._password}): {exc}')\n"
        "Conn.write_table = write_table\n",
        "secrets_stay_hidden",
        ["key 'password' (its name looks secret)", "write_table(if_exists='fail')"],
    ),
    "password-in-log": (
        "import logging\n"
        "_validate = Conn.validate\n"
        "def validate(self):\n"
        "    logging.getLogger('kit_sql').debug('connecting to %s', self._url)\n"
        "    _validate(self)\n"
        "Conn.validate = validate\n",
        "secrets_stay_hidden",
        ["key 'url' (the password in its URL)", "log record of 'kit_sql'"],
    ),
    "dbo-on-sqlite": (
        "Conn.default_schema = 'dbo'\n",
        "sql_replace_and_append",
        ["schema='dbo'", "Odibi passes default_schema ('dbo')", "SQLite: 'main'"],
    ),
    "mutates-config": (
        "def create(name, config):\n"
        "    config.pop('type', None)\n"
        "    path = config.pop('path')\n"
        "    return Conn(name, {'path': path, **config})\n",
        "creates_a_connection",
        ["changed the config dict", "path", "dict(config)"],
    ),
}

#: A file driver whose get_path ignores its base path: files land in the working directory.
RELATIVE_FILES = """
KNOWN = {"root", "type", "validation_mode"}


class Files:
    def __init__(self, name, config):
        unknown = sorted(set(config) - KNOWN)
        if unknown:
            raise ValueError(f"kit-files: unknown config keys {unknown}; known: root")
        self._root = config["root"]

    def get_path(self, relative_path):
        return relative_path

    def validate(self):
        pass


def create(name, config):
    return Files(name, config)
"""

#: A read-only source (no write_table) whose read_table ignores schema.
READ_ONLY_SQL = (
    REFERENCE_SQL
    + "del Conn.write_table\n"
    + "Conn.read_table = lambda self, table_name, schema='': "
    "self._query(f'SELECT * FROM {_quote(table_name)}')\n"
)

#: A driver importing pandas at import time without declaring it.
UNDECLARED_IMPORT = "import pandas\n" + REFERENCE_SQL
