"""SQLite storage: table definitions, items, global secondary index entries and transaction tokens.

Items are stored under the order-preserving bytes of their hash and range keys (see
``attributes.encode_key``), so every Query is a range read on SQLite's index and every Scan a walk
in key order: no request loads a whole table or partition. Each global secondary index keeps its own
rows (only for items that carry the index's key attributes), maintained on every write.

One connection serves every thread, guarded by a lock; each API operation runs inside one SQLite
transaction (:meth:`Database.transaction`), so it is atomic and a failure leaves no trace.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .attributes import Item, KeySchema, index_key, item_size
from .exceptions import DynamoError, table_not_found

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tables (
    name TEXT PRIMARY KEY,
    tid INTEGER NOT NULL UNIQUE,
    definition TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    tid INTEGER NOT NULL,
    idx TEXT NOT NULL,
    items INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (tid, idx)
);
CREATE TABLE IF NOT EXISTS items (
    tid INTEGER NOT NULL,
    hk BLOB NOT NULL,
    rk BLOB NOT NULL,
    size INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS items_by_key ON items (tid, hk, rk);
CREATE TABLE IF NOT EXISTS index_items (
    tid INTEGER NOT NULL,
    idx TEXT NOT NULL,
    hk BLOB NOT NULL,
    rk BLOB NOT NULL,
    thk BLOB NOT NULL,
    trk BLOB NOT NULL,
    size INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS index_items_by_key ON index_items (tid, idx, hk, rk, thk, trk);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS tokens_by_time ON tokens (at);
"""

TOKEN_LIFETIME = 600.0


@dataclass(frozen=True)
class Index:
    """A global secondary index: its key and which attributes its entries carry."""

    name: str
    key: KeySchema
    projection: str  # ALL, KEYS_ONLY or INCLUDE
    include: frozenset[str] = frozenset()

    def entry(self, table_key: KeySchema, item: Item) -> Item:
        """The part of an item that the index holds."""
        if self.projection == "ALL":
            return item
        wanted = set(table_key.names()) | set(self.key.names()) | self.include
        return {name: value for name, value in item.items() if name in wanted}


@dataclass
class Table:
    """A table as the server knows it; ``definition`` is what DescribeTable shows that never changes
    on its own, ``ttl`` the UpdateTimeToLive setting."""

    tid: int
    name: str
    key: KeySchema
    indexes: dict[str, Index]
    definition: dict[str, Any]
    ttl: dict[str, Any] = field(default_factory=dict)

    def check_index_keys(self, item: Item) -> None:
        """Refuses an item whose index key attributes have the wrong type (or are empty)."""
        for index in self.indexes.values():
            index_key(index.key, item, index.name)


def _schema(elements: list[dict[str, str]], types: dict[str, str]) -> KeySchema:
    hash_name = next(e["AttributeName"] for e in elements if e["KeyType"] == "HASH")
    range_name = next((e["AttributeName"] for e in elements if e["KeyType"] == "RANGE"), None)
    return KeySchema(hash_name, types[hash_name], range_name, types[range_name] if range_name else None)


def table_from_definition(tid: int, definition: dict[str, Any], ttl: dict[str, Any]) -> Table:
    types = {d["AttributeName"]: d["AttributeType"] for d in definition["AttributeDefinitions"]}
    indexes = {}
    for described in definition.get("GlobalSecondaryIndexes", []):
        projection = described["Projection"]
        indexes[described["IndexName"]] = Index(
            described["IndexName"],
            _schema(described["KeySchema"], types),
            projection["ProjectionType"],
            frozenset(projection.get("NonKeyAttributes", [])),
        )
    return Table(
        tid, definition["TableName"], _schema(definition["KeySchema"], types), indexes, definition, ttl
    )


@dataclass(frozen=True)
class Row:
    """An item (or index entry) read from storage, with its size by DynamoDB's rule."""

    item: Item
    size: int


def _dumps(item: Item) -> str:
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False)


class Database:
    """The SQLite database behind the server; ``path`` None keeps everything in memory."""

    def __init__(self, path: str | None) -> None:
        if path is not None and path != ":memory:":
            folder = os.path.dirname(os.path.abspath(path))
            os.makedirs(folder, exist_ok=True)
        self._lock = threading.Lock()
        connection = sqlite3.connect(path or ":memory:", isolation_level=None, check_same_thread=False)
        self._connection: sqlite3.Connection | None = connection
        if path is not None and path != ":memory:":
            connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.executescript(_SCHEMA)
        self._tables: dict[str, Table] = {}
        for name, tid, stored in connection.execute("SELECT name, tid, definition FROM tables"):
            saved = json.loads(stored)
            self._tables[name] = table_from_definition(tid, saved["definition"], saved.get("ttl", {}))

    @property
    def sql(self) -> sqlite3.Connection:
        if self._connection is None:
            raise DynamoError("InternalServerError", "The server is shutting down", status=500)
        return self._connection

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[None]:
        """One atomic operation: holds the lock and an SQLite transaction, rolled back on any error."""
        with self._lock:
            connection = self.sql
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            tables = dict(self._tables)
            try:
                yield
            except BaseException:
                connection.execute("ROLLBACK")
                self._tables = tables
                raise
            connection.execute("COMMIT")

    def close(self) -> None:
        """Waits for the operation under way, if any, then closes the database."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    # Tables.

    def table(self, name: object) -> Table:
        """The table by name, or by ARN (which requests may give instead of the name)."""
        if isinstance(name, str) and name.startswith("arn:") and ":table/" in name:
            name = name.split(":table/", 1)[1]
        table = self._tables.get(name) if isinstance(name, str) else None
        if table is None:
            raise table_not_found(str(name))
        return table

    def has_table(self, name: str) -> bool:
        return name in self._tables

    def table_names(self) -> list[str]:
        return sorted(self._tables)

    def create_table(self, definition: dict[str, Any]) -> Table:
        (top,) = self.sql.execute("SELECT COALESCE(MAX(tid), 0) FROM tables").fetchone()
        table = table_from_definition(int(top) + 1, definition, {})
        self._save(table, insert=True)
        for name in ["", *table.indexes]:
            self.sql.execute("INSERT INTO counters VALUES (?, ?, 0, 0)", (table.tid, name))
        self._tables[table.name] = table
        return table

    def _save(self, table: Table, insert: bool = False) -> None:
        stored = json.dumps({"definition": table.definition, "ttl": table.ttl})
        if insert:
            self.sql.execute("INSERT INTO tables VALUES (?, ?, ?)", (table.name, table.tid, stored))
        else:
            self.sql.execute("UPDATE tables SET definition = ? WHERE name = ?", (stored, table.name))

    def set_ttl(self, table: Table, ttl: dict[str, Any]) -> None:
        table.ttl = ttl
        self._save(table)

    def delete_table(self, table: Table) -> None:
        for statement in (
            "DELETE FROM items WHERE tid = ?",
            "DELETE FROM index_items WHERE tid = ?",
            "DELETE FROM counters WHERE tid = ?",
            "DELETE FROM tables WHERE tid = ?",
        ):
            self.sql.execute(statement, (table.tid,))
        del self._tables[table.name]

    def counts(self, table: Table, index: str = "") -> tuple[int, int]:
        """The number of items and their total size, for the table or one of its indexes."""
        row = self.sql.execute(
            "SELECT items, bytes FROM counters WHERE tid = ? AND idx = ?", (table.tid, index)
        ).fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def _count(self, table: Table, index: str, items: int, size: int) -> None:
        self.sql.execute(
            "UPDATE counters SET items = items + ?, bytes = bytes + ? WHERE tid = ? AND idx = ?",
            (items, size, table.tid, index),
        )

    # Items.

    def get(self, table: Table, key: tuple[bytes, bytes]) -> Item | None:
        row = self.sql.execute(
            "SELECT body FROM items WHERE tid = ? AND hk = ? AND rk = ?", (table.tid, *key)
        ).fetchone()
        if row is None:
            return None
        item: Item = json.loads(row[0])
        return item

    def write(self, table: Table, key: tuple[bytes, bytes], old: Item | None, new: Item | None) -> None:
        """Replaces ``old`` (None if there was no item) by ``new`` (None to delete) under ``key``, and
        keeps the indexes and counters in step. The caller has checked ``new`` already."""
        old_size = item_size(old) if old is not None else 0
        new_size = item_size(new) if new is not None else 0
        if new is None:
            self.sql.execute("DELETE FROM items WHERE tid = ? AND hk = ? AND rk = ?", (table.tid, *key))
        elif old is None:
            self.sql.execute(
                "INSERT INTO items VALUES (?, ?, ?, ?, ?)", (table.tid, *key, new_size, _dumps(new))
            )
        else:
            self.sql.execute(
                "UPDATE items SET size = ?, body = ? WHERE tid = ? AND hk = ? AND rk = ?",
                (new_size, _dumps(new), table.tid, *key),
            )
        self._count(table, "", (new is not None) - (old is not None), new_size - old_size)
        for index in table.indexes.values():
            self._write_entry(table, index, key, old, new)

    def _write_entry(
        self, table: Table, index: Index, key: tuple[bytes, bytes], old: Item | None, new: Item | None
    ) -> None:
        old_key = index_key(index.key, old, index.name) if old is not None else None
        new_key = index_key(index.key, new, index.name) if new is not None else None
        items, size = 0, 0
        if old_key is not None and old is not None:
            self.sql.execute(
                "DELETE FROM index_items WHERE tid = ? AND idx = ? AND hk = ? AND rk = ? "
                "AND thk = ? AND trk = ?",
                (table.tid, index.name, *old_key, *key),
            )
            items, size = -1, -item_size(index.entry(table.key, old))
        if new_key is not None and new is not None:
            entry = index.entry(table.key, new)
            entry_size = item_size(entry)
            self.sql.execute(
                "INSERT INTO index_items VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (table.tid, index.name, *new_key, *key, entry_size, _dumps(entry)),
            )
            items, size = items + 1, size + entry_size
        if items or size:
            self._count(table, index.name, items, size)

    # Reads in key order.

    def _rows(self, sql: str, parameters: list[Any]) -> Generator[Row, None, None]:
        """Rows one by one as SQLite steps through them; closing the generator ends the statement."""
        cursor = self.sql.execute(sql, parameters)
        try:
            for body, size in cursor:
                yield Row(json.loads(body), int(size))
        finally:
            cursor.close()

    def query(
        self,
        table: Table,
        index: Index | None,
        hash_key: bytes,
        bounds: tuple[tuple[bytes, bool] | None, tuple[bytes, bool] | None],
        forward: bool,
        start: tuple[bytes, ...] | None,
    ) -> Generator[Row, None, None]:
        """The items (or index entries) of one partition whose sort key lies within ``bounds``
        (each bound is (bytes, inclusive) or None), in sort-key order, after ``start`` if given."""
        if index is None:
            sql = "SELECT body, size FROM items WHERE tid = ? AND hk = ?"
            parameters: list[Any] = [table.tid, hash_key]
            order: tuple[str, ...] = ("rk",)
        else:
            sql = "SELECT body, size FROM index_items WHERE tid = ? AND idx = ? AND hk = ?"
            parameters = [table.tid, index.name, hash_key]
            order = ("rk", "thk", "trk")
        low, high = bounds
        if start is not None:
            # The start key replaces the bound on its side, so that SQLite seeks straight to it (given
            # both, it may seek by the bound and filter row by row). A start outside the bounds is moot.
            edge = low if forward else high
            beyond = edge is None or start[0] != edge[0] or edge[1]
            beyond = beyond and (edge is None or (start[0] >= edge[0] if forward else start[0] <= edge[0]))
            if beyond:
                low, high = (None, high) if forward else (low, None)
            else:
                start = None
        if low is not None:
            sql += " AND rk >= ?" if low[1] else " AND rk > ?"
            parameters.append(low[0])
        if high is not None:
            sql += " AND rk <= ?" if high[1] else " AND rk < ?"
            parameters.append(high[0])
        if start is not None:
            columns = ", ".join(order)
            marks = ", ".join("?" * len(order))
            sql += f" AND ({columns}) {'>' if forward else '<'} ({marks})"
            parameters.extend(start)
        direction = "ASC" if forward else "DESC"
        sql += " ORDER BY " + ", ".join(f"{column} {direction}" for column in order)
        return self._rows(sql, parameters)

    def scan(
        self, table: Table, index: Index | None, start: tuple[bytes, ...] | None
    ) -> Generator[Row, None, None]:
        """Every item (or index entry) in key order, after ``start`` if given."""
        if index is None:
            sql = "SELECT body, size FROM items WHERE tid = ?"
            parameters: list[Any] = [table.tid]
            order: tuple[str, ...] = ("hk", "rk")
        else:
            sql = "SELECT body, size FROM index_items WHERE tid = ? AND idx = ?"
            parameters = [table.tid, index.name]
            order = ("hk", "rk", "thk", "trk")
        if start is not None:
            sql += f" AND ({', '.join(order)}) > ({', '.join('?' * len(order))})"
            parameters.extend(start)
        sql += " ORDER BY " + ", ".join(order)
        return self._rows(sql, parameters)

    # Client request tokens of TransactWriteItems.

    def token_digest(self, token: str, now: float) -> str | None:
        """The digest of the request that last succeeded with this token in the past ten minutes."""
        self.sql.execute("DELETE FROM tokens WHERE at < ?", (now - TOKEN_LIFETIME,))
        row = self.sql.execute("SELECT digest FROM tokens WHERE token = ?", (token,)).fetchone()
        return str(row[0]) if row else None

    def remember_token(self, token: str, digest: str, now: float) -> None:
        self.sql.execute("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)", (token, digest, now))
