"""The Fed's supervisory scenario tables, read from CRUCIBLE_FED_DIR (default: the project's copy in data/)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.conf import settings

from governance.errors import InvalidInput
from scenarios.engines.fed_tables import FedTable, read_fed_directory
from scenarios.engines.supervisory import fed_path_from_tables


def fed_tables(directory: str | Path | None = None) -> dict[str, FedTable]:
    directory = Path(directory or settings.CRUCIBLE_FED_DIR)
    try:
        return read_fed_directory(directory)
    except ValueError as error:
        raise InvalidInput(f"the Fed supervisory tables could not be read from {directory}: {error}",
                           code="fed_tables_unavailable") from error


def fed_table(edition: str, kind: str, region: str = "domestic", directory=None) -> FedTable:
    tables = fed_tables(directory)
    key = f"{edition}/{kind}/{region}"
    if key not in tables:
        raise InvalidInput(f"no Fed table {key}; available: {', '.join(sorted(tables))}",
                           details={"supervisory": [key]})
    return tables[key]


def fed_table_sha256(table: FedTable, directory=None) -> str:
    path = Path(directory or settings.CRUCIBLE_FED_DIR) / table.source
    return hashlib.sha256(path.read_bytes()).hexdigest()


def supervisory_path(edition: str, scenario: str, directory=None) -> tuple[dict, dict]:
    """The JSON-able quarterly path of a supervisory scenario (jump-off from the historic table),
    and where it came from (file, SHA-256, edition)."""
    table = fed_table(edition, scenario, "domestic", directory)
    historic = fed_table(edition, "historic", "domestic", directory)
    source = {"file": table.source, "sha256": fed_table_sha256(table, directory), "edition": edition}
    return fed_path_from_tables(table, historic), source
