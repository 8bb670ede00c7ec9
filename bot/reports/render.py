"""A report as text: an aligned table for people, CSV with a header row, JSON with stable keys."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from bot.reports.model import DepartmentFigures, Figures, Hours, Report

#: The CSV's columns, in order (also the keys of each JSON row); durations in wall-clock hours.
CSV_COLUMNS = (
    "department",
    "name",
    "opened",
    "closed",
    "first_response_hours_median",
    "first_response_hours_p90",
    "resolution_hours_median",
    "resolution_hours_p90",
    "with_target",
    "within_target",
    "within_target_percent",
    "transferred",
    "menu_chosen",
    "ratings",
    "rating_mean",
    "ratings_1_to_5",
    "languages",
    "platforms",
)
HOURS_NOTE = "Times are wall-clock hours from the citizen's first message (nights, weekends and holidays count)."


def _number(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _percent(figures: Figures) -> float | None:
    share = figures.within_target_share
    return None if share is None else share * 100


def _counts(pairs: tuple[tuple[str, int], ...]) -> str:
    return " ".join(f"{key}:{count}" for key, count in pairs)


def row_values(row: DepartmentFigures) -> dict[str, str]:
    """One row's cells, as the CSV and the desk's table show them."""
    f = row.figures
    return {
        "department": row.key,
        "name": row.name,
        "opened": str(f.opened),
        "closed": str(f.closed),
        "first_response_hours_median": _number(f.first_response.median),
        "first_response_hours_p90": _number(f.first_response.p90),
        "resolution_hours_median": _number(f.resolution.median),
        "resolution_hours_p90": _number(f.resolution.p90),
        "with_target": str(f.with_target),
        "within_target": str(f.within_target),
        "within_target_percent": _number(_percent(f), 0),
        "transferred": str(f.transferred),
        "menu_chosen": str(f.menu_chosen),
        "ratings": str(f.ratings.count),
        "rating_mean": _number(f.ratings.mean, 2),
        "ratings_1_to_5": " ".join(str(n) for n in f.ratings.distribution),
        "languages": _counts(f.languages),
        "platforms": _counts(f.platforms),
    }


def as_csv(report: Report) -> str:
    """One row per department and a last row ``(all)``, under a header row."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in report.rows:
        writer.writerow(row_values(row))
    return out.getvalue()


def _hours_json(hours: Hours) -> dict[str, Any]:
    return {"cases": hours.count, "median": hours.median, "p90": hours.p90}


def _figures_json(figures: Figures) -> dict[str, Any]:
    return {
        "opened": figures.opened,
        "closed": figures.closed,
        "first_response_hours": _hours_json(figures.first_response),
        "resolution_hours": _hours_json(figures.resolution),
        "answer_target": {
            "with_target": figures.with_target,
            "within_target": figures.within_target,
            "share": figures.within_target_share,
        },
        "transferred": figures.transferred,
        "menu_chosen": figures.menu_chosen,
        "languages": dict(figures.languages),
        "platforms": dict(figures.platforms),
        "ratings": {
            "count": figures.ratings.count,
            "mean": figures.ratings.mean,
            "distribution": {str(score): n for score, n in enumerate(figures.ratings.distribution, start=1)},
        },
    }


def as_json(report: Report) -> str:
    """The report as JSON, keys sorted; durations in hours as numbers, a missing figure as null."""
    period = report.period
    data = {
        "since": period.since.isoformat(),
        "until": period.until.isoformat(),
        "time_zone": period.zone_name,
        "hours": "wall-clock",
        "departments": [{"key": r.key, "name": r.name, **_figures_json(r.figures)} for r in report.departments],
        "overall": _figures_json(report.overall),
    }
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


_TABLE = (
    ("Department", "name"),
    ("Opened", "opened"),
    ("Closed", "closed"),
    ("1st resp. h med", "first_response_hours_median"),
    ("p90", "first_response_hours_p90"),
    ("Resolve h med", "resolution_hours_median"),
    ("p90", "resolution_hours_p90"),
    ("In target", "within_target_percent"),
    ("Transf.", "transferred"),
    ("Menu", "menu_chosen"),
    ("Ratings", "ratings"),
    ("Mean", "rating_mean"),
)


def as_table(report: Report) -> str:
    """An aligned table for a terminal, then each row's languages and platforms, and what the hours mean."""
    period = report.period
    head = [label for label, _ in _TABLE]
    lines = [[row_values(r)[key] or "–" for _, key in _TABLE] for r in report.rows]
    for values, row in zip(lines, report.rows, strict=True):
        f = row.figures
        if f.with_target:
            values[7] = f"{values[7]}% of {f.with_target}"
    widths = [max(len(cell) for cell in column) for column in zip(head, *lines, strict=True)]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        return "  ".join([first, *(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))]).rstrip()

    out = [
        f"Cases opened {period.since} to {period.until} (until not included), {period.zone_name}",
        "",
        line(head),
        line(["-" * w for w in widths]),
    ]
    out += [line(values) for values in lines]
    out.append("")
    for row in report.rows:
        f = row.figures
        if f.opened:
            out.append(f"{row.name}: languages {_counts(f.languages)}; platforms {_counts(f.platforms)}")
    out += ["", HOURS_NOTE, "In target: first answer before the department's answer target (cases with a target)."]
    return "\n".join(out) + "\n"
