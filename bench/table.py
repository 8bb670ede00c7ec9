"""The printer: the rows as a Markdown table (what README shows) and as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.common import Row

HEADER = ("measurement", "backend", "result", "floor", "ratio", "notes")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(rows: Sequence[Row]) -> str:
    """One Markdown table, a row per measurement and backend."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for row in rows:
        ratio = f"{row.ratio:.2f}" if row.ratio is not None else ""
        cells = (row.measurement, row.backend, row.result, row.floor, ratio, row.notes)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def machine_line(machine: dict[str, Any]) -> str:
    """The machine, in one line under the table."""
    load = ", ".join(f"{x:.2f}" for x in machine["load_average"])
    return (
        f"Machine: {machine['nproc']} × {machine['cpu']}, {machine['ram_gib']} GiB RAM, Python {machine['python']}, "
        f"SQLite {machine['sqlite']}, PostgreSQL {machine['postgresql']}; load average before the run {load}."
    )


def write_json(path: Path, rows: Sequence[Row], machine: dict[str, Any], *, quick: bool, seconds: float) -> None:
    """The same rows, with the machine, as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"quick": quick, "seconds": seconds, "machine": machine, "rows": [asdict(row) for row in rows]}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
