"""Where extracts arrive and how their identifiers are pseudonymised."""

from __future__ import annotations

from pathlib import Path

import dagster as dg


class ExtractLandingResource(dg.ConfigurableResource):
    """The landing folder (one sub-folder per extract) and the pseudonymisation key.

    ``pseudonym_key`` comes from ``MLHOPS_PSEUDONYM_KEY``. When it is unset, a random local
    key is created under the data dir and every materialisation says so in its metadata.
    """

    landing_dir: str
    pseudonym_key: str | None = None
    local_key_file: str

    def extract_folder(self, extract_id: str) -> Path:
        return Path(self.landing_dir) / extract_id

    def key(self) -> tuple[str, str]:
        """The key and a note on where it came from (never the key itself in logs)."""
        if self.pseudonym_key:
            return self.pseudonym_key, "MLHOPS_PSEUDONYM_KEY"
        from mlhops_dagster.settings import ensure_local_key_file

        return ensure_local_key_file(Path(self.local_key_file)), (
            "local demo key (data dir); set MLHOPS_PSEUDONYM_KEY from a secret store in production"
        )
