"""The monthly review in words and tables (DESIGN §4.8): the summary lines, the Excel workbook.

Renderings of `engine.review.MonthlyReview`; the HTML report (report.html) and
the Review page show the same lines and tables.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine import export, i18n
from engine.currency import DEFAULT as DEFAULT_CURRENCY, written
from engine.months import month_key
from engine.review import RATES, TIERS, MonthlyReview


def _percent(value: float | None, lang: str) -> str:
    return i18n.t("review.na", lang) if value is None else f"{value:.1%}"


def _signed(value: float, decimals: int) -> float:
    """`value` rounded, with −0 made 0 (so a change shows as +0.0, never −0.0)."""
    return round(value, decimals) + 0.0


def summary_lines(review: MonthlyReview, lang: str = "en",
                  currency: str = DEFAULT_CURRENCY) -> list[str]:
    """The month's notable changes in words, one sentence each, from the catalogue's templates;
    money with the shop's `currency` sign (engine.currency)."""
    t = lambda key, **values: i18n.t(f"review.summary.{key}", lang, **values)  # noqa: E731
    m, p = month_key(review.month), month_key(review.previous)
    lines = []
    if not review.complete:
        lines.append(t("incomplete", month=m, end=review.data_end or "—"))
    high = review.high_share()
    counts_now = review.tier_counts(review.month)
    counts_before = review.tier_counts(review.previous)
    if high["current"] is not None:
        change = (t("high_change", pp=_signed(high["change"] * 100, 1), previous=p)
                  if high["change"] is not None else "")
        lines.append(t("high", n=counts_now["high"], share=high["current"] * 100,
                       month=m, change=change,
                       diff=counts_now["high"] - counts_before.get("high", 0)))
    moves = review.moves()
    lines.append(t("moves", up=moves["up"], down=moves["down"],
                   new=sum(review.new_customers.values())))
    wake = review.wake_up
    lines.append(t("wake_up", woken=wake["woken"], eligible=wake["eligible"],
                   rate=_percent(wake["rate"], lang)) if wake["eligible"]
                 else t("wake_up_none", previous=p))
    win = review.win_back
    if win["eligible"]:
        lines.append(t("win_back", won=win["won"], eligible=win["eligible"],
                       rate=_percent(win["rate"], lang),
                       with_rate=_percent(win["with_followup"]["rate"], lang),
                       with_n=win["with_followup"]["eligible"],
                       without_rate=_percent(win["without_followup"]["rate"], lang),
                       without_n=win["without_followup"]["eligible"]))
    else:
        lines.append(t("win_back_none", previous=p))
    ret = review.retention
    if ret["eligible"]:
        lines.append(t("retention", rate=_percent(ret["rate"], lang), retained=ret["retained"],
                       eligible=ret["eligible"]))
    now, before = review.complaints_in(review.month), review.complaints_in(review.previous)
    lines.append(t("complaints", n=now, diff=now - before, previous=p))
    rising = review.complaints[review.complaints["change"] > 0]
    if len(rising):
        top = rising.sort_values(["change", "current"], ascending=False).iloc[0]
        lines.append(t("complaints_rising", topic=i18n.label("topic", top["topic"], lang),
                       diff=int(top["change"]), n=int(top["current"])))
    sat_now, sat_before = review.mean_satisfaction(review.month), \
        review.mean_satisfaction(review.previous)
    if sat_now is None:
        lines.append(t("satisfaction_none", month=m))
    elif sat_before is None:
        lines.append(t("satisfaction", mean=sat_now, change=""))
    else:
        lines.append(t("satisfaction", mean=sat_now,
                       change=t("satisfaction_change", diff=_signed(sat_now - sat_before, 2),
                                        previous=p)))
    revenue, revenue_before = review.revenue(review.month), review.revenue(review.previous)
    rows = review.summaries[review.summaries["month"] == m]
    high_revenue = float(rows.loc[rows["tier"] == "high", "revenue"].sum())
    lines.append(t("revenue", revenue=written(revenue, currency),
                   change=(t("revenue_change", pct=_signed((revenue - revenue_before)
                                                            / abs(revenue_before) * 100, 1),
                             previous=p)
                           if revenue_before else ""),
                   share=high_revenue / revenue * 100 if revenue > 0 else 0.0))
    return lines


def _tier_wide(review: MonthlyReview, value: str, lang: str) -> pd.DataFrame:
    wide = review.summaries.pivot(index="month", columns="tier", values=value)
    wide = wide.reindex(index=[month_key(m) for m in review.months], columns=list(TIERS))
    wide.columns = [i18n.label("tier", c, lang) for c in wide.columns]
    return wide.rename_axis(i18n.t("review.col.month", lang)).reset_index()


def review_tables(review: MonthlyReview, lang: str = "en",
                  currency: str = DEFAULT_CURRENCY) -> dict[str, pd.DataFrame]:
    """{sheet name: table} for the workbook and the HTML report, headed in `lang`."""
    t = lambda key, **values: i18n.t(f"review.col.{key}", lang, **values)  # noqa: E731
    m, p = month_key(review.month), month_key(review.previous)
    rates = [(key, figure_of(review.rates()), count) for key, figure_of, count in RATES]
    rate_table = pd.DataFrame({
        t("figure"): [i18n.t(f"review.rate.{key}", lang) for key, _, _ in rates],
        t("eligible"): [f["eligible"] for _, f, _ in rates],
        t("count"): [f[count] for _, f, count in rates],
        t("rate"): [f["rate"] for _, f, _ in rates]})
    mix = _tier_wide(review, "customers", lang)
    mix[t("customers")] = mix.iloc[:, 1:].sum(axis=1)
    mix[t("high_share")] = _tier_wide(review, "share", lang).iloc[:, 1].to_numpy()
    names = [i18n.label("tier", c, lang) for c in TIERS]
    transitions = pd.DataFrame(
        np.vstack([review.transitions.to_numpy(), [review.new_customers[c] for c in TIERS]]),
        columns=names)
    transitions.insert(0, t("transition", previous=p, month=m), names + [t("new_customers")])
    complaints = pd.DataFrame({
        t("topic"): [i18n.label("topic", x, lang) for x in review.complaints["topic"]],
        p: review.complaints["previous"].to_numpy(), m: review.complaints["current"].to_numpy(),
        t("change"): review.complaints["change"].to_numpy()})
    satisfaction = review.satisfaction.rename(columns={
        "month": t("month"), "interactions": t("interactions"), "complaints": t("complaints"),
        "rated": t("rated"), "mean_satisfaction": t("mean_satisfaction")})
    summary = pd.DataFrame({i18n.t("review.sheet.summary", lang):
                            summary_lines(review, lang, currency)})
    return {
        i18n.t("review.sheet.summary", lang): summary,
        i18n.t("review.sheet.rates", lang): rate_table,
        i18n.t("review.sheet.rate_trend", lang): rate_trend_table(review, lang),
        i18n.t("review.sheet.tier_mix", lang): mix,
        i18n.t("review.sheet.transitions", lang): transitions,
        i18n.t("review.sheet.complaints", lang): complaints,
        i18n.t("review.sheet.satisfaction", lang): satisfaction,
        i18n.t("review.sheet.revenue", lang): _tier_wide(review, "revenue", lang),
    }


def rate_trend_table(review: MonthlyReview, lang: str = "en") -> pd.DataFrame:
    """One row per month of the trend: each rate of RATES, then its eligible customers and
    its count (won, woken, retained); an empty rate where nobody was eligible."""
    wide = review.rate_trend.pivot(index="month", columns="figure",
                                   values=["rate", "eligible", "count"])
    table = pd.DataFrame({i18n.t("review.col.month", lang): wide.index.to_numpy()})
    for key, _, _ in RATES:
        name = i18n.t(f"review.rate.{key}", lang)
        table[name] = wide[("rate", key)].to_numpy()
        for column in ("eligible", "count"):
            table[i18n.t(f"review.col.{column}_of", lang, rate=name)] = \
                wide[(column, key)].to_numpy(dtype=np.int64)
    return table


def percent_columns(lang: str = "en") -> set[str]:
    """Headers of the columns of `review_tables` that hold fractions shown as percents."""
    return {i18n.t("review.col.rate", lang), i18n.t("review.col.high_share", lang),
            *(i18n.t(f"review.rate.{key}", lang) for key, _, _ in RATES)}


def review_workbook(review: MonthlyReview, lang: str = "en",
                    currency: str = DEFAULT_CURRENCY) -> bytes:
    """An .xlsx workbook with one sheet per table of `review_tables`, formula-safe."""
    return export.workbook_bytes(review_tables(review, lang, currency),
                                 percent_columns=percent_columns(lang), column_width=16)
