"""Charts a manager looks at: Vega-Lite specs made with Altair, written offline as HTML, SVG or PNG.

Every builder takes the rows a report function returns (the JSON contract, so the API and the
dashboard can draw the same figure) and returns a Vega-Lite spec as a plain ``dict`` with the data
inline (``data.values``). ``save`` writes one: ``.svg`` and ``.png`` rendered by vl-convert (no
browser, no network), ``.html`` a self-contained page with the Vega JavaScript bundled in.

Builders:

* ``trend_chart``: rates (0..1) over periods, one line per rate;
* ``bar_chart``: one value per key (agent, team, …), or several side by side;
* ``pareto_chart``: bars by driver, most first, with the cumulative share as a line.

Altair and vl-convert are imported inside the functions: ``--help`` must stay cheap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from recontact.errors import InputFileError

FORMATS = (".html", ".svg", ".png")
WIDTH, HEIGHT = 640, 320
NO_KEY = "(none)"
ACCENT = "#d62728"  # the Pareto chart's cumulative line


def _label(value: Any) -> str:
    return NO_KEY if value is None else str(value)


def _long(rows: Sequence[Mapping[str, Any]], x: str, series: Mapping[str, str],
          split: str | None) -> list[dict[str, Any]]:
    """One point per row and series column (column -> label); with ``split``, the label is the
    row's ``split`` value instead (one column: e.g. contacts per channel)."""
    return [{"x": _label(r[x]), "series": _label(r[split]) if split else label, "value": r[col]}
            for r in rows for col, label in series.items()]


def trend_chart(rows: Sequence[Mapping[str, Any]], x: str, series: Mapping[str, str], *, title: str,
                y_title: str = "rate", percent: bool = True, split: str | None = None,
                subtitle: str | None = None) -> dict[str, Any]:
    """Lines over ``x`` (period labels, in row order): one per ``series`` column (column -> legend
    label), or with ``split`` one per value of that column. A None value is "no data": no point
    there, the line breaks. Percent axis when ``percent`` (values are fractions)."""
    import altair as alt

    values = _long(rows, x, series, split)
    order = list(dict.fromkeys(_label(r[x]) for r in rows))
    fmt = ".0%" if percent else ",.0f"
    heading = alt.TitleParams(title, subtitle=subtitle) if subtitle else title
    chart = alt.Chart(_inline(values), title=heading, width=WIDTH, height=HEIGHT).mark_line(point=True).encode(
        x=alt.X("x:O", sort=order, title=x),
        y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format=fmt)),
        color=alt.Color("series:N", title=None),
        tooltip=[alt.Tooltip("x:O", title=x), alt.Tooltip("series:N", title="measure"),
                 alt.Tooltip("value:Q", title=y_title, format=".1%" if percent else ",.1f")],
    )
    return _spec(chart)


def bar_chart(rows: Sequence[Mapping[str, Any]], x: str, series: Mapping[str, str], *, title: str,
              y_title: str = "rate", percent: bool = True) -> dict[str, Any]:
    """Bars per ``x`` (an agent, a team, …; None as "(none)"), one per ``series`` column side by
    side when there are several."""
    import altair as alt

    values = _long(rows, x, series, None)
    order = list(dict.fromkeys(_label(r[x]) for r in rows))
    fmt = ".0%" if percent else ",.0f"
    encoding: dict[str, Any] = dict(
        x=alt.X("x:N", sort=order, title=x),
        y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format=fmt)),
        color=alt.Color("series:N", title=None),
        tooltip=[alt.Tooltip("x:N", title=x), alt.Tooltip("series:N", title="measure"),
                 alt.Tooltip("value:Q", title=y_title, format=".1%" if percent else ",.1f")],
    )
    if len(series) > 1:
        encoding["xOffset"] = alt.XOffset("series:N")
    chart = alt.Chart(_inline(values), title=title, width=WIDTH, height=HEIGHT).mark_bar().encode(**encoding)
    return _spec(chart)


def distinct_colours(n: int) -> list[str]:
    """``n`` colours, no two alike: Tableau's 20 while they last, then hues a golden angle apart
    (three lightnesses), so that every series of a chart has its own."""
    tableau20 = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                 "#9c755f", "#bab0ac", "#a0cbe8", "#ffbe7d", "#ff9d9a", "#86bcb6", "#8cd17d", "#f1ce63",
                 "#d4a6c8", "#fabfd2", "#d7b5a6", "#79706e"]
    if n <= len(tableau20):
        return tableau20[:n]
    return [f"hsl({(i * 137.508) % 360:.1f}, 65%, {(35, 50, 65)[i % 3]}%)" for i in range(n)]


def stacked_bar_chart(rows: Sequence[Mapping[str, Any]], x: str, y: str, color: str, *, title: str,
                      tooltip: Sequence[str] = (), color_title: str | None = None) -> dict[str, Any]:
    """Bars per ``x`` (periods, in row order), stacked by ``color`` (e.g. the top callers of each
    week, by contacts), each value of ``color`` in its own colour; the legend titled ``color_title``."""
    import altair as alt

    keep = (x, y, color, *tooltip)
    values = [{k: (" ".join(map(str, r[k])) if isinstance(r[k], list | tuple) else r[k]) for k in keep}
              for r in rows]
    order = list(dict.fromkeys(r[x] for r in rows))
    series = sorted({r[color] for r in rows}, key=str)
    colours = distinct_colours(len(series))
    chart = alt.Chart(_inline(values), title=title, width=WIDTH, height=HEIGHT).mark_bar().encode(
        x=alt.X(f"{x}:O", sort=order, title=x),
        y=alt.Y(f"{y}:Q", title=y, stack="zero"),
        color=alt.Color(f"{color}:N", title=color_title or color, scale=alt.Scale(domain=series, range=colours),
                        legend=None if len(series) > 20 else alt.Legend()),
        tooltip=[alt.Tooltip(f"{k}:N") for k in (x, color)] + [alt.Tooltip(f"{y}:Q")]
        + [alt.Tooltip(f"{k}:N") for k in tooltip],
    )
    return _spec(chart)


def pareto_chart(rows: Sequence[Mapping[str, Any]], category: str, value: str, *, title: str,
                 value_title: str | None = None, total: float | None = None) -> dict[str, Any]:
    """A Pareto chart: a bar per ``category`` by ``value``, largest first, and a line of the
    cumulative share of the total (right axis, 0-100 %; ``total`` when the rows are the head of a
    longer list, else their own sum). Rows are ranked here (value descending, then category),
    whatever order they come in."""
    import altair as alt

    ranked = sorted(rows, key=lambda r: (-(r[value] or 0), _label(r[category])))
    total = sum(r[value] or 0 for r in ranked) if total is None else total
    running = 0.0
    values = []
    for r in ranked:
        running += r[value] or 0
        values.append({"category": _label(r[category]), "value": r[value] or 0,
                       "cumulative_share": running / total if total else None})
    order = [_label(r[category]) for r in ranked]
    base = alt.Chart(_inline(values), width=WIDTH, height=HEIGHT).encode(
        x=alt.X("category:N", sort=order, title=category, axis=alt.Axis(labelAngle=-40)))
    bars = base.mark_bar().encode(
        y=alt.Y("value:Q", title=value_title or value),
        tooltip=[alt.Tooltip("category:N"), alt.Tooltip("value:Q", title=value_title or value),
                 alt.Tooltip("cumulative_share:Q", format=".1%")])
    line = base.mark_line(point=alt.OverlayMarkDef(color=ACCENT), color=ACCENT).encode(
        y=alt.Y("cumulative_share:Q", title="cumulative share", axis=alt.Axis(format=".0%"),
                scale=alt.Scale(domain=[0, 1])))
    chart = alt.layer(bars, line, title=title).resolve_scale(y="independent")
    return _spec(chart)


def _inline(values: list[dict[str, Any]]) -> Any:
    """Rows as Vega-Lite inline data (the spec carries its data)."""
    import altair as alt

    return alt.Data(values=values)  # type: ignore[no-untyped-call]


def _spec(chart: Any) -> dict[str, Any]:
    spec: dict[str, Any] = chart.to_dict()
    return spec


def chart_data(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The inline data rows of a spec made here (for tests and for anyone re-plotting it)."""
    data = spec.get("data") or spec["layer"][0].get("data")
    values: list[dict[str, Any]] = data["values"]
    return values


def save(spec: Mapping[str, Any], path: Path) -> Path:
    """Write ``spec`` to ``path`` by its suffix: ``.svg``, ``.png`` or ``.html`` (self-contained,
    works offline). InputFileError for another suffix or a folder that cannot be written."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputFileError(f"{path}: a chart is written as {', '.join(FORMATS)} (by the file's suffix)")
    import vl_convert as vlc

    spec = dict(spec)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".svg":
            path.write_text(vlc.vegalite_to_svg(spec), encoding="utf-8")
        elif suffix == ".png":
            path.write_bytes(vlc.vegalite_to_png(spec, scale=2))
        else:
            path.write_text(vlc.vegalite_to_html(spec, bundle=True), encoding="utf-8")
    except OSError as e:
        raise InputFileError(f"{path}: cannot write the chart: {e.strerror or e}") from None
    return path


# --- the figures of each report ---------------------------------------------------------------

PERIOD_BY = ("day", "week", "month")


def _keys(by: str | Sequence[str] | None) -> tuple[str | None, str | None]:
    """(the period breakdown, the other breakdown) of ``by``; each None when absent."""
    chosen = [by] if isinstance(by, str) else list(by or [])
    period = next((b for b in chosen if b in PERIOD_BY), None)
    other = next((b for b in chosen if b not in PERIOD_BY), None)
    return period, other


def _rates_chart(rows: Sequence[Mapping[str, Any]], by: str | Sequence[str] | None, series: Mapping[str, str],
                 what: str, *, percent: bool = True, y_title: str = "rate",
                 subtitle: str | None = None) -> dict[str, Any]:
    """``series`` over periods (trend lines; one line per value of a second breakdown when there is
    one and a single series), per agent / team / … (bars), or for the whole desk (bars)."""
    period, other = _keys(by)
    if period:
        split = other if other and len(series) == 1 else None
        per = f" and {other}" if split else ""
        return trend_chart(rows, "period", series, title=f"{what} per {period}{per}", y_title=y_title,
                           percent=percent, split=split, subtitle=subtitle)
    key = other or "desk"
    flat = [{**r, "desk": "all contacts"} for r in rows] if other is None else rows
    return bar_chart(flat, key, series, title=f"{what} per {key}", y_title=y_title, percent=percent)


def fcr_chart(rows: Sequence[Mapping[str, Any]], by: str | Sequence[str] | None) -> dict[str, Any]:
    """FCR over periods (a trend line), or per agent / team / … (bars); one bar without ``by``."""
    return _rates_chart(rows, by, {"fcr": "FCR"}, "First-contact resolution", y_title="FCR",
                        subtitle="No point: no issue counted there (none opened, or all still pending: "
                                 "their follow-up window passes the latest contact)")


KPI_RATES = {"service_level": "service level", "abandonment": "abandonment", "escalation_rate": "escalation",
             "truck_roll_rate": "truck roll"}


def kpis_chart(rows: Sequence[Mapping[str, Any]], by: str | Sequence[str] | None) -> dict[str, Any]:
    """The KPI rates (service level, abandonment, escalation, truck roll) over periods or per key;
    by a period and a field (``--by week --by channel``): contact volume per period, one line per
    value of the field."""
    period, other = _keys(by)
    if period and other:
        return _rates_chart(rows, by, {"contacts": "contacts"}, "Contacts", percent=False, y_title="contacts")
    measured = {k: v for k, v in KPI_RATES.items() if any(r[k] is not None for r in rows)}  # no empty legends
    return _rates_chart(rows, by, measured or KPI_RATES, "Desk KPIs")


def drivers_chart(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The repeat drivers as a Pareto chart of repeat contacts by category."""
    return pareto_chart(rows, "category", "repeats", title="Repeat drivers: repeat contacts by category",
                        value_title="repeat contacts")


def top_chart(rows: Sequence[Mapping[str, Any]], period: str) -> dict[str, Any]:
    """Top callers: each period's top callers' contacts, stacked per customer."""
    return stacked_bar_chart(rows, "period", "contacts", "customer_key", title=f"Top callers per {period}",
                             tooltip=("identifiers",), color_title="customer")


def cost_chart(rows: Sequence[Mapping[str, Any]], head: int = 30) -> dict[str, Any]:
    """Cost to serve as a Pareto chart: the ``head`` most expensive customers over the rows' periods
    (cost summed per customer), with their cumulative share of the whole cost."""
    per: dict[str, float] = {}
    for r in rows:
        per[r["customer_key"]] = per.get(r["customer_key"], 0.0) + r["cost"]
    ranked = sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))
    periods = sorted({r["period"] for r in rows})
    span = f"{periods[0]} to {periods[-1]}" if len(periods) > 1 else (periods[0] if periods else "")
    return pareto_chart([{"customer": k, "cost": v} for k, v in ranked[:head]], "customer", "cost",
                        title=f"Cost to serve, {span}: the {min(head, len(ranked))} most expensive of "
                              f"{len(ranked):,} customers", value_title="cost", total=sum(per.values()))
