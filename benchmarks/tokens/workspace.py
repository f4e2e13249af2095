"""Per-run fixtures: the directory the filesystem server serves, the SQLite database, the journal.

Before each query the workspace is put back to the same state (fixture files, seed tables), so
every query sees the same world in both modes and queries do not depend on each other. The
servers keep running across queries (as a user's would): files are rewritten in place and tables
dropped and re-seeded through a separate SQLite connection.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.tokens.dataset import DATA_DIR

__all__ = ["FIXTURES", "Workspace"]

FIXTURES = DATA_DIR / "workspace"


@dataclass(frozen=True, slots=True)
class Workspace:
    """Paths of one run's fixtures under `root`."""

    root: Path

    @property
    def files(self) -> Path:
        """The directory the filesystem server serves ("the current directory")."""
        return self.root / "workspace"

    @property
    def db(self) -> Path:
        """The SQLite database the SQLite server opens."""
        return self.root / "bench.sqlite"

    @property
    def journal(self) -> Path:
        """Where replay servers log every call."""
        return self.root / "journal.jsonl"

    def reset(self) -> None:
        """Put files and tables back to the fixture state."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self.files.exists():
            for child in self.files.iterdir():
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        shutil.copytree(FIXTURES / "files", self.files, dirs_exist_ok=True)
        with sqlite3.connect(self.db) as conn:
            names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for name in names:
                if not name.startswith("sqlite_"):
                    conn.execute(f'DROP TABLE IF EXISTS "{name}"')
            conn.executescript((FIXTURES / "seed.sql").read_text(encoding="utf-8"))
        self.journal.touch()

    def journal_offset(self) -> int:
        """The journal's current size: calls after this offset belong to the next query."""
        return self.journal.stat().st_size if self.journal.exists() else 0

    def journal_since(self, offset: int) -> list[dict[str, Any]]:
        """Replayed calls logged after `offset`."""
        if not self.journal.exists():
            return []
        with self.journal.open("rb") as fh:
            fh.seek(offset)
            data = fh.read().decode("utf-8", errors="replace")
        return [json.loads(line) for line in data.splitlines() if line.strip()]

    def read_file(self, rel: str) -> str | None:
        """A workspace file's text, or None when it does not exist."""
        path = self.files / rel
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None

    def table_rows(self, name: str) -> int | None:
        """Row count of a table, or None when it does not exist."""
        with sqlite3.connect(self.db) as conn:
            found = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone()
            if not found:
                return None
            return int(conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0])
