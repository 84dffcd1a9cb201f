"""The monthly review as one self-contained HTML file that opens offline.

The charts are the page's own plotly figures (`report.figures`), written
with plotly.js inlined once (`include_plotlyjs=True` on the first chart, the
others reuse it), so the file needs no network. Text is escaped; tables are
those of the Excel workbook (`report.review.review_tables`).
"""
from __future__ import annotations

import html

import pandas as pd

from engine import i18n
from engine.currency import DEFAULT as DEFAULT_CURRENCY
from engine.months import month_key
from engine.review import MonthlyReview
from report.figures import kpi_cards, rate_cards, review_figures
from report.review import percent_columns, review_tables, summary_lines

STYLE = """
body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       margin: 2rem auto; max-width: 1100px; color: #262730; padding: 0 1rem; }
h1 { margin-bottom: .2rem; } .meta { color: #6b6f76; margin-top: 0; }
.cards { display: flex; flex-wrap: wrap; gap: .8rem; margin: 1rem 0; }
.card { border: 1px solid #d6d8dc; border-radius: .5rem; padding: .6rem .9rem; min-width: 170px; }
.card .label { color: #6b6f76; font-size: .85rem; } .card .value { font-size: 1.6rem; }
.card .detail { color: #6b6f76; font-size: .85rem; }
table { border-collapse: collapse; margin: .5rem 0 1.5rem; font-size: .9rem; }
th, td { border: 1px solid #d6d8dc; padding: .25rem .6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.chart { margin-bottom: 1.5rem; }
"""

# Figures of the report in order, with the catalogue key of their heading.
SECTIONS = (("rate_trend", "review.trend.title"), ("followup_trend", "review.trend.followup_title"),
            ("tier_mix", "review.tier_mix.title"), ("heatmap", "review.transitions.title"),
            ("sankey_movers", "review.transitions.movers_only"),
            ("complaints", "review.complaints.title"),
            ("satisfaction", "review.satisfaction.title"), ("revenue", "review.revenue.title"))


def _card(label: str, value: str, detail: str | None) -> str:
    detail_html = f'<div class="detail">{html.escape(detail)}</div>' if detail else ""
    return (f'<div class="card"><div class="label">{html.escape(label)}</div>'
            f'<div class="value">{html.escape(value)}</div>{detail_html}</div>')


def _table(frame: pd.DataFrame, percents: set[str]) -> str:
    shown = frame.copy()
    for column in shown.columns:
        if column in percents:
            shown[column] = shown[column].map(lambda v: "—" if pd.isna(v) else f"{v:.1%}")
        elif pd.api.types.is_float_dtype(shown[column]):
            shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:,.2f}")
    return shown.to_html(index=False, escape=True, na_rep="", border=0)


def review_html(review: MonthlyReview, lang: str = "en",
                currency: str = DEFAULT_CURRENCY) -> str:
    """The whole report as one HTML document (UTF-8 text); money with `currency`'s sign."""
    t = lambda key, **values: i18n.t(key, lang, **values)  # noqa: E731
    m, p = month_key(review.month), month_key(review.previous)
    title = t("review.report.title", month=m)
    meta = t("review.report.generated", previous=p, end=review.data_end or "—")
    parts = [f"<h1>{html.escape(title)}</h1>", f'<p class="meta">{html.escape(meta)}</p>',
             f"<h2>{html.escape(t('review.summary_title', month=m))}</h2>",
             "<ul>" + "".join(f"<li>{html.escape(line)}</li>"
                              for line in summary_lines(review, lang, currency)) + "</ul>",
             f"<h2>{html.escape(t('review.report.rates'))}</h2>", '<div class="cards">']
    parts += [_card(c["label"], c["value"], c["detail"]) for c in rate_cards(review, lang)]
    parts += [_card(c["label"], c["value"], c["delta"]) for c in kpi_cards(review, lang)]
    parts.append("</div>")
    figures = review_figures(review, lang)
    for i, (name, heading) in enumerate(SECTIONS):
        if heading:
            parts.append(f"<h2>{html.escape(t(heading, month=m, previous=p))}</h2>")
        div = figures[name].to_html(full_html=False, include_plotlyjs=(i == 0),
                                    config={"displaylogo": False, "responsive": True},
                                    div_id=f"chart-{name}")
        parts.append(f'<div class="chart">{div}</div>')
    parts.append(f"<h2>{html.escape(t('review.report.tables'))}</h2>")
    for name, frame in review_tables(review, lang, currency).items():
        parts.append(f"<h3>{html.escape(name)}</h3>{_table(frame, percent_columns(lang))}")
    return ("<!DOCTYPE html>\n"
            f'<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(parts) + "\n</body>\n</html>\n")
