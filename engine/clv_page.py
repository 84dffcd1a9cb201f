"""What the Lifetime value page shows, from a `engine.clv.ClvResult`: the calibration
window offered, the lenses, distributions, top and slipping customers, totals, the
parameter table, and the per-customer frame for a file."""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from engine import i18n, scoring
from engine.clv.compute import ClvResult
from engine.clv.model import ClvSettings
from engine.segment_page import segment_labels
from engine.words import id_and_name, in_words


# ---- what the page shows ------------------------------------------------------------------

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


PAST_VALUE_COLUMNS = ("customer_id", "name", "revenue_12m", "purchase_days",
                      "first_purchase_date", "last_purchase_date", "days_since_last_purchase")


def small_data(features: pd.DataFrame, settings: ClvSettings = ClvSettings()) -> dict:
    """What the page still shows when the models cannot be fitted, from the feature table.

    Returns
    -------
    dict with buyers (customers with a purchase), repeat_buyers (of them, purchases on 2
    or more days: the `x` > 0 the models learn from), needed (settings.min_repeat_buyers),
    purchase_days (DataFrame purchase_days, customers: how many buyers bought on 1, 2, …
    days) and past (the buyers, PAST_VALUE_COLUMNS, the most 12-month revenue first, then
    the most purchase days, then customer_id).
    """
    days = pd.to_numeric(features["purchase_days"]).fillna(0).astype("int64")
    bought = features[days.to_numpy() > 0]
    counts = days[days > 0].value_counts().sort_index()
    past = bought[list(PAST_VALUE_COLUMNS)].sort_values(
        ["revenue_12m", "purchase_days", "customer_id"], ascending=[False, False, True],
        kind="stable", na_position="last")
    return {"buyers": len(bought), "repeat_buyers": int((days >= 2).sum()),
            "needed": settings.min_repeat_buyers,
            "purchase_days": pd.DataFrame({"purchase_days": counts.index.to_numpy(),
                                           "customers": counts.to_numpy()}),
            "past": past.reset_index(drop=True)}


def default_calibration_end(as_of: date, months: int = 6) -> date:
    """The last day of the month `months` before as_of's month: the start of a holdout.

    2026-06-30 and 2026-06-15 both give 2025-12-31 with the default six months.
    """
    first_of_month = as_of.replace(day=1)
    year, month = divmod(first_of_month.year * 12 + first_of_month.month - 1 - months + 1, 12)
    return date(year, month + 1, 1) - timedelta(days=1)


def calibration_end_range(first: date, as_of: date, *, min_calibration_days: int = 90,
                          min_holdout_days: int = 28) -> tuple[date, date] | None:
    """The calibration ends worth offering for a holdout check, or None when the history
    is too short: at least `min_calibration_days` after the first event `first` and at
    least `min_holdout_days` before `as_of`."""
    low = first + timedelta(days=min_calibration_days)
    high = as_of - timedelta(days=min_holdout_days)
    return (low, high) if low <= high else None


def calibration_choice(first: date, as_of: date) -> tuple[date, date, date] | None:
    """(default, earliest, latest) calibration end for the holdout check, the default
    (default_calibration_end) kept within calibration_end_range; None when the history
    is too short for one."""
    span = calibration_end_range(first, as_of)
    if span is None:
        return None
    return min(max(default_calibration_end(as_of), span[0]), span[1]), *span


LENSES = ("tier", "segment", "pyramid")


def lens_columns(features: pd.DataFrame, tiers: pd.Series, lang: str,
                 segments: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict]:
    """Every customer's lenses in the reader's words, for `with_lenses`, and each lens's
    labels in their order (for the charts' axes).

    tiers: every customer's tier code, row by row with `features`; segments:
    customer_id, segment and segment_name (None when there are none: the
    segment lens is then empty). Returns (customer_id, name, tier, segment,
    pyramid, revenue_12m, revenue_rank; {lens: [labels]}).
    """
    levels = scoring.pyramid(features)
    categories = {kind: [i18n.label(kind, code, lang) for code in codes]
                  for kind, codes in (("tier", scoring.TIERS), ("pyramid", scoring.PYRAMID_LEVELS))}
    lenses = in_words(pd.DataFrame({
        "customer_id": features["customer_id"].reset_index(drop=True),
        "name": features["name"].reset_index(drop=True),
        "tier": tiers.to_numpy(), "segment": None, "pyramid": levels["pyramid"].to_numpy(),
        "revenue_12m": levels["revenue_12m"].to_numpy(),
        "revenue_rank": levels["revenue_rank"].to_numpy()}),
        lang, {"tier": "tier", "pyramid": "pyramid"})
    categories["segment"] = []
    if segments is not None:
        named = segments[["segment", "segment_name"]].drop_duplicates("segment")
        words = segment_labels(dict(zip(named["segment"], named["segment_name"])), lang)
        rows = rows_of(segments["customer_id"], lenses["customer_id"])
        lenses["segment"] = segments["segment"].reset_index(drop=True).reindex(rows) \
            .map(words).to_numpy(dtype=object)
        categories["segment"] = list(words.values())
    return lenses, categories


def rows_of(keys: pd.Series, wanted: pd.Series) -> np.ndarray:
    """The position in `keys` of each wanted key (its first, if repeated), -1 where
    there is none: both factorised together, instead of an index of a million strings
    looked up a million times (a second in pandas' Arrow strings)."""
    codes, uniques = pd.factorize(pd.concat([keys, wanted], ignore_index=True))
    first = np.full(len(uniques), -1, dtype=np.int64)
    present, at = np.unique(codes[:len(keys)], return_index=True)
    first[present] = at
    return first[codes[len(keys):]]


def with_lenses(customers: pd.DataFrame, lenses: pd.DataFrame) -> pd.DataFrame:
    """The per-customer figures with each customer's master data and lenses.

    Parameters
    ----------
    customers : the frame of `predict_customers` (`ClvResult.customers`).
    lenses : one row per customer: customer_id and any other columns
        (name, tier, segment, revenue_12m, revenue_rank, ...).

    Returns
    -------
    DataFrame in the order of `customers`: customer_id, the lenses'
    columns (NaN for a customer they do not hold), then the figures.
    """
    rows = rows_of(lenses["customer_id"], customers["customer_id"])
    joined = lenses.drop(columns="customer_id").reset_index(drop=True).reindex(rows) \
        .reset_index(drop=True)
    figures = customers.reset_index(drop=True)
    return pd.concat([figures[["customer_id"]], joined, figures.drop(columns="customer_id")],
                     axis=1)


def distribution_by(table: pd.DataFrame, group: str, *, categories,
                    columns=("p_alive", "clv_12m"),
                    quantiles=QUANTILES) -> pd.DataFrame:
    """How `columns` are spread within each category of `group`.

    Returns
    -------
    DataFrame with one row per category, in `categories` order: key,
    customers (int64), and for every column c: c_mean, c_sum, c_share (of
    the column's total over all categories; NaN when that is not positive)
    and c_q10, c_q25, c_q50, c_q75, c_q90 (the quantiles asked for, named
    by percent). Statistics are NaN for an empty group or a column with no
    value (such as CLV in a partial result). Rows whose `group` is outside
    `categories` are not counted.
    """
    keys = pd.Categorical(table[group], categories=list(categories))
    counted = table[keys.codes >= 0]
    by = pd.Categorical(counted[group], categories=list(categories))
    out = pd.DataFrame({"key": list(categories),
                        "customers": np.bincount(by.codes, minlength=len(categories))
                        .astype(np.int64)})
    for column in columns:
        grouped = counted[column].astype(float).groupby(by, observed=False)
        total = counted[column].sum(min_count=1)
        sums = grouped.sum(min_count=1).to_numpy()
        out[f"{column}_mean"] = grouped.mean().to_numpy()
        out[f"{column}_sum"] = sums
        out[f"{column}_share"] = sums / total if total > 0 else np.nan
        for q in quantiles:
            out[f"{column}_q{round(q * 100)}"] = grouped.quantile(q).to_numpy()
    return out


def top_customers(table: pd.DataFrame, n: int, *, by: str = "clv_12m") -> pd.DataFrame:
    """The `n` customers with the largest `by`, ties by customer_id; none without a value.

    Only the customers at or above the n-th largest value are sorted (a million
    customers' full sort by value and id took 2 s for a top 20); every tie at that
    value is among them, so the order is the full sort's.
    """
    n = max(int(n), 0)
    values = table[by].to_numpy(dtype=float, na_value=np.nan)
    known = ~np.isnan(values)
    count = min(n, int(known.sum()))
    if count:
        known &= values >= np.partition(values[known], -count)[-count]
    else:
        known[:] = False
    ranked = table[known].sort_values([by, "customer_id"], ascending=[False, True])
    return ranked.head(n).reset_index(drop=True)


def top_for_chart(table: pd.DataFrame, n: int) -> pd.DataFrame:
    """`top_customers` by 12-month CLV with a "label" of id and name for a chart's axis."""
    top = top_customers(table, n)
    return top.assign(label=id_and_name(top))


def valuable_and_slipping(table: pd.DataFrame, *, base_size: int, top_share: float = 0.2,
                          max_p_alive: float = 0.5) -> pd.DataFrame:
    """High past value, low chance of still being a customer.

    Parameters
    ----------
    table : `with_lenses` output holding revenue_12m and revenue_rank
        (rank by 12-month revenue among all customers, ties sharing the
        better rank, as in `engine.scoring.pyramid`) and p_alive.
    base_size : all customers ranked (N).
    top_share : high past value means revenue_rank / N ≤ top_share and
        revenue_12m > 0 (the default 0.2 is the pyramid's gold and above).
    max_p_alive : slipping means P(alive) below this.

    Returns
    -------
    The matching rows, highest revenue_12m first (ties by customer_id).
    """
    if not 0 < top_share <= 1:
        raise ValueError(f"top_share must be above 0 and at most 1, got {top_share!r}.")
    if not 0 <= max_p_alive <= 1:
        raise ValueError(f"max_p_alive must be between 0 and 1, got {max_p_alive!r}.")
    valuable = ((table["revenue_rank"] <= top_share * base_size + 1e-9)
                & (table["revenue_12m"] > 0))
    slipping = table["p_alive"] < max_p_alive
    found = table[valuable & slipping]
    return found.sort_values(["revenue_12m", "customer_id"],
                             ascending=[False, True]).reset_index(drop=True)


def totals(result: ClvResult) -> dict:
    """Headline figures as of `as_of`: customers, mean_p_alive, expected purchases in
    the short horizon and the horizon, and the horizon's CLV (None in a partial result)."""
    h, d = result.settings.horizon_months, result.settings.short_horizon_days
    frame = result.customers
    return {"customers": len(frame),
            "mean_p_alive": float(frame["p_alive"].mean()) if len(frame) else None,
            "expected_purchases_short": float(frame[f"expected_purchases_{d}d"].sum()),
            "expected_purchases": float(frame[f"expected_purchases_{h}m"].sum()),
            "clv": None if result.partial else float(frame[f"clv_{h}m"].sum())}


def parameter_table(result: ClvResult) -> pd.DataFrame:
    """The fitted parameters: model, parameter, value, standard_error (delta method).

    Rate parameters (BG/NBD alpha) are per `settings.time_unit`; Gamma-Gamma
    gamma is in the currency. A partial result lists BG/NBD only.
    """
    rows = []
    for model, fit in (("BG/NBD", result.bgnbd), ("Gamma-Gamma", result.gamma_gamma)):
        if fit is None:
            continue
        errors = fit.standard_errors()
        rows += [(model, name, float(value), errors[name])
                 for name, value in zip(fit.params._fields, fit.params)]
    return pd.DataFrame(rows, columns=["model", "parameter", "value", "standard_error"])


def rounded_for_export(customers: pd.DataFrame) -> pd.DataFrame:
    """The per-customer frame for a file: money to cents, the rest to 6 decimals.

    Write it with `engine.export.write_csv` / `to_csv_bytes` (UTF-8 with
    BOM, dot decimals, formula-safe text; DESIGN §5).
    """
    money = [c for c in customers.columns if c == "expected_spend" or c.startswith("clv_")]
    others = [c for c in customers.columns if c not in money and c != "customer_id"]
    return customers.round({**{c: 2 for c in money}, **{c: 6 for c in others}})
