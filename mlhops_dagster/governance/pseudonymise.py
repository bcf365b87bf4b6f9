"""Keyed pseudonyms for patient and encounter identifiers.

HMAC-SHA256 with a secret key: the same source id always gives the same pseudonym (so
extracts delivered months apart link up), but without the key nobody can recompute it
from a guessed id, which a plain hash would allow.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac

import duckdb
from duckdb import func

MIN_KEY_LENGTH = 16


class PseudonymKeyError(ValueError):
    """The pseudonymisation key is missing or too weak."""


def check_key(key: str | None) -> bytes:
    if not key or len(key) < MIN_KEY_LENGTH:
        raise PseudonymKeyError(f"MLHOPS_PSEUDONYM_KEY must be set to a secret of at least {MIN_KEY_LENGTH} characters")
    return key.encode()


def pseudonym(key: str, kind: str, source_id: str) -> str:
    """Pseudonym of one id; ``kind`` separates namespaces (a patient and an encounter never collide)."""
    return hmac.new(check_key(key), f"{kind}:{source_id}".encode(), hashlib.sha256).hexdigest()


def register_pseudonym_udf(con: duckdb.DuckDBPyConnection, key: str) -> None:
    """Expose ``pseudonym(kind, id)`` to SQL so ingest pseudonymises inside DuckDB."""
    secret = check_key(key)

    def _udf(kind: str | None, source_id: str | None) -> str | None:
        if source_id is None or source_id == "":
            return None
        return hmac.new(secret, f"{kind}:{source_id}".encode(), hashlib.sha256).hexdigest()

    with contextlib.suppress(duckdb.InvalidInputException):  # first registration on this connection
        con.remove_function("pseudonym")
    con.create_function(
        "pseudonym",
        _udf,
        [duckdb.sqltype("VARCHAR"), duckdb.sqltype("VARCHAR")],
        duckdb.sqltype("VARCHAR"),
        null_handling=func.FunctionNullHandling.SPECIAL,
        side_effects=False,
    )
