"""Searches per week and the share without results, for the dashboard's chart and table.

The chart is plain SVG drawn by the template from the figures computed here (bars for the
searches, a line for the zero-result share); the same figures are shown as a table, so the
chart is never the only way to read them.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.utils import timezone

from network.models import QueryLog
from network.querylog import NO_RESULTS

CHART_WIDTH = 600
CHART_HEIGHT = 200
CHART_PAD = 30


def weekly_search_figures(now: dt.datetime, weeks: int = 12) -> dict:
    """The last ``weeks`` ISO weeks (oldest first) with searches, zero-result searches and
    their share, plus the SVG geometry of every bar and line point."""
    today = timezone.localtime(now).date()
    this_monday = today - dt.timedelta(days=today.weekday())
    mondays = [this_monday - dt.timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    start = timezone.make_aware(dt.datetime.combine(mondays[0], dt.time.min))
    counts = {
        row["week"].date() if isinstance(row["week"], dt.datetime) else row["week"]: row
        for row in QueryLog.objects.filter(created_at__gte=start)
        .annotate(week=TruncWeek("created_at")).values("week")
        .annotate(searches=Count("pk"), zero=Count("pk", filter=NO_RESULTS))
    }
    rows = []
    for monday in mondays:
        row = counts.get(monday, {})
        searches, zero = row.get("searches", 0), row.get("zero", 0)
        rows.append({"monday": monday, "week": monday.isocalendar()[1], "searches": searches,
                     "zero": zero, "share": round(100 * zero / searches) if searches else 0})
    return {"rows": rows, **_geometry(rows)}


def _geometry(rows: list[dict]) -> dict:
    peak = max([r["searches"] for r in rows] + [1])
    inner_w = CHART_WIDTH - 2 * CHART_PAD
    inner_h = CHART_HEIGHT - 2 * CHART_PAD
    slot = inner_w / len(rows)
    points = []
    for i, row in enumerate(rows):
        height = inner_h * row["searches"] / peak
        row["bar"] = {"x": round(CHART_PAD + i * slot + slot * 0.15, 1),
                      "y": round(CHART_PAD + inner_h - height, 1),
                      "w": round(slot * 0.7, 1), "h": round(height, 1)}
        cx = round(CHART_PAD + i * slot + slot / 2, 1)
        cy = round(CHART_PAD + inner_h - inner_h * row["share"] / 100, 1)
        row["point"] = {"x": cx, "y": cy}
        points.append(f"{cx},{cy}")
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "peak": peak,
            "baseline": CHART_PAD + inner_h, "top": CHART_PAD,
            "line": " ".join(points)}
