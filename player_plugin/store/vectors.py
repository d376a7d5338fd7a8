"""Track vectors: one float32 vector per (track, model)."""

from __future__ import annotations

import time

import numpy as np

from player_plugin.matrix_file import FileRows, RowsBuilder
from player_plugin.models import TrackId
from player_plugin.store.db import Database


class VectorRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, track_id: TrackId, model_id: str, vector: np.ndarray, text_hash: str) -> None:
        vec = np.ascontiguousarray(vector, dtype="<f4").ravel()
        self.db.conn.execute(
            "INSERT INTO track_vectors (track_id, model_id, dim, vector, text_hash, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(track_id, model_id) DO UPDATE SET "
            "dim = excluded.dim, vector = excluded.vector, text_hash = excluded.text_hash, "
            "created_at = excluded.created_at",
            (track_id, model_id, int(vec.size), vec.tobytes(), text_hash, time.time()),
        )

    def get(self, track_id: TrackId, model_id: str) -> np.ndarray | None:
        row = self.db.conn.execute(
            "SELECT dim, vector FROM track_vectors WHERE track_id = ? AND model_id = ?",
            (track_id, model_id),
        ).fetchone()
        if row is None:
            return None
        return np.frombuffer(row["vector"], dtype="<f4", count=row["dim"]).astype(np.float32)

    def matrix(self, model_id: str) -> tuple[np.ndarray, np.ndarray | FileRows]:
        """All vectors of a model as (track ids, float32 matrix [n, dim]); a big library's matrix is
        in a private file, read by rows (player_plugin/matrix_file.py)."""
        conn = self.db.conn
        n, dim_lo, dim_hi = conn.execute(
            "SELECT count(*), min(dim), max(dim) FROM track_vectors WHERE model_id = ?", (model_id,)
        ).fetchone()
        if not n:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        if dim_lo != dim_hi:
            raise ValueError(f"model {model_id!r} has vectors of several sizes: {dim_lo}..{dim_hi}")
        # Filled row by row: one copy of the matrix at most (rows, joined bytes, array would be three).
        ids = np.empty(n, dtype=np.int64)
        rows = RowsBuilder(n, dim_lo)
        cursor = conn.execute(
            "SELECT track_id, vector FROM track_vectors WHERE model_id = ? ORDER BY track_id", (model_id,)
        )
        count = 0
        for track_id, blob in cursor:
            if count >= n:
                break
            ids[count] = track_id
            rows.add(blob)
            count += 1
        return ids[:count], rows.finish()

    def text_hashes(self, model_id: str) -> dict[TrackId, str]:
        rows = self.db.conn.execute("SELECT track_id, text_hash FROM track_vectors WHERE model_id = ?", (model_id,))
        return {r["track_id"]: r["text_hash"] for r in rows}

    def count(self, model_id: str | None = None) -> int:
        if model_id is None:
            return int(self.db.conn.execute("SELECT count(*) FROM track_vectors").fetchone()[0])
        return int(
            self.db.conn.execute("SELECT count(*) FROM track_vectors WHERE model_id = ?", (model_id,)).fetchone()[0]
        )
