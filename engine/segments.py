"""K-means customer segments: automatic k, stable numbering, named profiles.

Pure functions of the feature table of `engine.features.customer_features`
(one row per customer). The pipeline, for the chosen numeric columns:

1. Missing values are filled by what a missing value means (see
   `fill_values`): a "days since" column that is empty because the event
   never happened (days_since_last_purchase, recency_days_12m,
   median_gap_days) gets the largest value seen, i.e. the most lapsed;
   an undefined rate or median (median_response_hours_6m, ontime_share)
   gets the column's median, i.e. neutral; anything else, counts and money
   included, gets 0 (nothing happened). An empty column is all 0.
2. Every value x is log-transformed as sign(x) · log(1 + |x|): log1p for
   the usual non-negative values, mirrored for negative ones (net spend is
   negative when refunds exceed purchases), so the map stays monotone and
   continuous through 0.
3. The logged columns are standardised (mean 0, standard deviation 1 on
   the fitting sample; a constant column stays 0).
4. K-means (scikit-learn, k-means++, fixed random_state) is fitted on a
   random sample of at most `sample_size` customers, for every k of
   `k_range` when k is automatic: the elbow curve (inertia per k) and the
   silhouette on a fixed sub-sample are returned, and the k with the best
   silhouette wins (the smaller k on a tie). The range is 3–8 by default:
   the silhouette (how much nearer each customer is to its own segment than
   to the next, Rousseeuw 1987) tends to prefer 2 groups, "good" and "the
   rest", which a manager cannot act on, and more than 8 groups is more
   playbooks than a team runs. Best silhouettes measured: the demo (5,000
   customers, seed 7) 0.367 at k = 5 (0.418 at 2 outside the range); the
   CDNOW sample 0.506 at 5 (0.552 at 2); the planted groups of the tests
   0.811 at 4. A k set by hand is fitted alone.
5. Every customer is assigned to the nearest centroid, in chunks, with a
   progress callback.
6. Segments are numbered 1..k by descending mean `revenue_12m` of their
   members (ties by the centroid's coordinates), so on the same data number
   1 is always the same group, whatever order k-means found them in.

Profiles (`segment_profile`) give size, revenue share, each feature's mean
as an index against the whole base (100 = average) and the tier mix; names
(`segment_name_codes`, `segment_names`) are made from the profile and
translated through the catalogue.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from engine import i18n

DEFAULT_FEATURES = ("days_since_last_purchase", "frequency_12m", "monetary_12m",
                    "interactions_6m", "tenure_days")
K_RANGE = (3, 8)      # automatic k: the range a manager can act on (module docstring)
DEFAULT_SAMPLE_SIZE = 30_000
DEFAULT_SILHOUETTE_SAMPLE = 3_000
DEFAULT_N_INIT = 3
# OpenMP/BLAS threads while k-means runs. Measured at 1M customers on the 2-core
# machine with other processes busy: 1 thread 1.9–5.2 s, 2 threads 4.5–17 s.
DEFAULT_THREADS = 1
RANDOM_STATE = 0
ORDER_COLUMN = "revenue_12m"
REVENUE_COLUMN = "revenue_12m"

# What an empty cell means, per column (module docstring, step 1).
FILL_WITH_MAX = ("days_since_last_purchase", "recency_days_12m", "median_gap_days")
FILL_WITH_MEDIAN = ("median_response_hours_6m", "ontime_share")

# Columns that name a segment. A role is one idea a manager reads
# ("spend"); its text comes from `segments.trait.<role>.<high|low>`.
TRAIT_ROLES = {
    "spend": ("monetary_12m", "revenue_12m", "spend_6m", "spend_90d", "aov_6m"),
    "frequency": ("frequency_12m", "purchases_6m", "purchase_days", "purchase_months_12m"),
    "recency": ("days_since_last_purchase", "recency_days_12m"),
    "engagement": ("interactions_6m", "interactions_90d", "interactions_30d", "events_6m"),
    "tenure": ("tenure_days",),
    "complaints": ("complaints_90d",),
}
ROLE_OF = {column: role for role, columns in TRAIT_ROLES.items() for column in columns}
# how traits read in a name: "big spenders, lapsing", "new, active"
ROLE_ORDER = ("prospect", "spend", "frequency", "tenure", "recency", "engagement", "complaints")
HIGH_RANK = 0.6      # members on average at or above the 60th percentile: a "high" trait
LOW_RANK = 0.4       # at or below the 40th: a "low" trait
NAME_TRAITS = 2      # traits in a name (more only to tell two segments apart)
PROSPECT_SHARE = 0.5  # a segment where ≥ half never bought is "no purchase yet"
LAPSED_DAYS = 180     # a lapsing segment whose members average more days than this is "lapsed"
                      # (DESIGN §4.6: a customer is churned 180 days after the last purchase)
NO_TRAIT = "mainstream"
# Traits that say nothing to a manager and never name a segment.
SILENT_TRAITS = {("complaints", "low")}

Progress = Callable[[float], None]


# --- preparing the matrix ------------------------------------------------------------

def numeric_features(features: pd.DataFrame) -> list[str]:
    """The columns a user may cluster on: numeric (not boolean), in table order."""
    return [c for c in features.columns
            if pd.api.types.is_numeric_dtype(features[c].dtype)
            and not pd.api.types.is_bool_dtype(features[c].dtype)]


def validate_columns(features: pd.DataFrame, columns: Sequence[str]) -> tuple[str, ...]:
    """The columns as a tuple, or a ValueError that says what to change."""
    columns = tuple(dict.fromkeys(columns))
    if len(columns) < 2:
        raise ValueError(f"segments need at least 2 feature columns, got {len(columns)} "
                         f"({', '.join(columns) or 'none'}).")
    missing = [c for c in columns if c not in features.columns]
    if missing:
        raise ValueError(f"unknown feature column(s): {', '.join(missing)}; choose among "
                         f"{', '.join(numeric_features(features))}.")
    allowed = set(numeric_features(features))
    bad = [c for c in columns if c not in allowed]
    if bad:
        raise ValueError(f"feature column(s) {', '.join(bad)} are not numeric; choose among "
                         f"{', '.join(numeric_features(features))}.")
    return columns


def _column(features: pd.DataFrame, column: str) -> np.ndarray:
    return features[column].to_numpy(dtype=float, na_value=np.nan)


def fill_values(features: pd.DataFrame, columns: Sequence[str]) -> tuple[float, ...]:
    """The value that stands in for an empty cell of each column (module docstring)."""
    out = []
    for column in columns:
        x = _column(features, column)
        known = x[~np.isnan(x)]
        if known.size == 0:
            out.append(0.0)
        elif column in FILL_WITH_MAX:
            out.append(float(known.max()))
        elif column in FILL_WITH_MEDIAN:
            out.append(float(np.median(known)))
        else:
            out.append(0.0)
    return tuple(out)


def filled_matrix(features: pd.DataFrame, columns: Sequence[str],
                  fills: Sequence[float]) -> np.ndarray:
    """n × p float matrix of the columns with empty cells filled (raw units)."""
    out = np.empty((len(features), len(columns)))
    for j, (column, fill) in enumerate(zip(columns, fills)):
        x = _column(features, column)
        out[:, j] = np.where(np.isnan(x), fill, x)
    return out


def signed_log1p(x: np.ndarray) -> np.ndarray:
    """sign(x) · log(1 + |x|): log1p for x ≥ 0, mirrored below 0."""
    if x.size and x.min() >= 0:
        return np.log1p(x)
    return np.sign(x) * np.log1p(np.abs(x))


# --- the model -----------------------------------------------------------------------

@dataclass(frozen=True)
class SegmentModel:
    """A fitted segmentation: enough to assign any feature table.

    columns, fills: the feature columns and the values for their empty cells.
    mean_, scale_: standardisation of the logged columns (on the fit sample).
    centers_: k × p centroids in standardised units, row i = segment i + 1.
    """
    columns: tuple[str, ...]
    fills: tuple[float, ...]
    mean_: np.ndarray
    scale_: np.ndarray
    centers_: np.ndarray

    @property
    def k(self) -> int:
        return len(self.centers_)

    def transform(self, features: pd.DataFrame) -> np.ndarray:
        """The standardised matrix (n × p) the centroids live in."""
        raw = filled_matrix(features, self.columns, self.fills)
        return (signed_log1p(raw) - self.mean_) / self.scale_

    def predict(self, features: pd.DataFrame, *, progress: Progress | None = None,
                chunk: int = 200_000) -> np.ndarray:
        """Segment number (1..k, int64) of every row: the nearest centroid."""
        return nearest_center(self.transform(features), self.centers_, progress=progress,
                              chunk=chunk) + 1


def nearest_center(z: np.ndarray, centers: np.ndarray, *, progress: Progress | None = None,
                   chunk: int = 200_000) -> np.ndarray:
    """Index of the nearest centre (squared Euclidean) for each row of z, in chunks."""
    n = len(z)
    out = np.empty(n, dtype=np.int64)
    c2 = (centers ** 2).sum(axis=1)
    for start in range(0, n, chunk):
        block = z[start:start + chunk]
        # |z - c|² = |z|² - 2 z·c + |c|²; |z|² is the same for every centre
        out[start:start + chunk] = np.argmin(c2 - 2.0 * block @ centers.T, axis=1)
        if progress is not None:
            progress(min(start + chunk, n) / n)
    return out


@dataclass(frozen=True)
class Segmentation:
    """The result of `segment_customers`.

    labels: segment number 1..k of every customer, in the features' row order.
    curve: DataFrame k, inertia, silhouette for every k tried (empty when k
        was set by hand and no curve was asked for); inertia is on the fit
        sample in standardised units.
    silhouette: the silhouette of the chosen k on the silhouette sample
        (NaN when not computed).
    auto: whether k was chosen automatically.
    fit_rows: how many customers the centroids were fitted on.
    """
    model: SegmentModel
    labels: np.ndarray
    k: int
    auto: bool
    curve: pd.DataFrame
    silhouette: float
    fit_rows: int
    customer_ids: pd.Series = field(repr=False, default=None)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.model.columns

    def assignment(self) -> pd.DataFrame:
        """customer_id and segment (int64 1..k), in the features' row order."""
        return pd.DataFrame({"customer_id": self.customer_ids.reset_index(drop=True),
                             "segment": self.labels})


def segmentation_parts(result: Segmentation) -> dict:
    """A segmentation as dicts, numbers and frames: what engine.derived keeps in the file
    (never a pickle); `from_parts` gives it back."""
    model = result.model
    return {"model": {"columns": list(model.columns), "fills": list(model.fills),
                      "mean": model.mean_.tolist(), "scale": model.scale_.tolist(),
                      "centers": model.centers_.tolist()},
            "assigned": pd.DataFrame({"customer_id": result.customer_ids.reset_index(drop=True),
                                      "segment": result.labels}),
            "k": result.k, "auto": result.auto, "curve": result.curve,
            "silhouette": result.silhouette, "fit_rows": result.fit_rows}


def from_parts(parts: dict) -> Segmentation:
    """The Segmentation `segmentation_parts` was given."""
    m = parts["model"]
    model = SegmentModel(tuple(m["columns"]), tuple(m["fills"]), np.array(m["mean"]),
                         np.array(m["scale"]), np.array(m["centers"]))
    assigned = parts["assigned"]
    return Segmentation(model=model, labels=assigned["segment"].to_numpy(), k=parts["k"],
                        auto=parts["auto"], curve=parts["curve"],
                        silhouette=parts["silhouette"], fit_rows=parts["fit_rows"],
                        customer_ids=assigned["customer_id"])


def _progress_part(progress: Progress | None, start: float, end: float) -> Progress | None:
    if progress is None:
        return None
    return lambda fraction: progress(start + (end - start) * min(max(fraction, 0.0), 1.0))


def _sample(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    if n <= size:
        return np.arange(n)
    return np.sort(rng.choice(n, size=size, replace=False))


def _kmeans(z: np.ndarray, k: int, *, n_init: int, random_state: int):
    from sklearn.cluster import KMeans
    return KMeans(n_clusters=k, n_init=n_init, random_state=random_state).fit(z)


def _silhouette(distances: np.ndarray, labels: np.ndarray) -> float:
    """Silhouette from a precomputed distance matrix (shared by every k)."""
    from sklearn.metrics import silhouette_score
    if len(np.unique(labels)) < 2:
        return float("nan")
    return float(silhouette_score(distances, labels, metric="precomputed"))


def _thread_cap(threads: int | None):
    """Cap OpenMP and BLAS threads (threadpoolctl) while k-means runs.

    scikit-learn is imported first: threadpoolctl only caps the thread pools
    of libraries already loaded, and sklearn brings its own OpenMP runtime.
    """
    import sklearn.cluster  # noqa: F401  (loads the OpenMP runtime)
    import sklearn.metrics  # noqa: F401
    return threadpool_limits(limits=threads) if threads else _nothing()


def segment_customers(features: pd.DataFrame, *,
                      columns: Sequence[str] = DEFAULT_FEATURES,
                      k: int | None = None,
                      k_range: tuple[int, int] = K_RANGE,
                      curve: bool | None = None,
                      sample_size: int = DEFAULT_SAMPLE_SIZE,
                      silhouette_sample: int = DEFAULT_SILHOUETTE_SAMPLE,
                      n_init: int = DEFAULT_N_INIT,
                      random_state: int = RANDOM_STATE,
                      threads: int | None = DEFAULT_THREADS,
                      progress: Progress | None = None) -> Segmentation:
    """K-means segments of every customer in the feature table (module docstring).

    Parameters
    ----------
    features : the feature table; reads customer_id, the columns, and
        revenue_12m (for numbering) when present.
    columns : numeric feature columns, at least 2.
    k : number of segments, or None to choose it over k_range by silhouette.
    k_range : (smallest, largest) k to try when automatic, both included;
        capped below the number of distinct points in the sample.
    curve : compute the elbow/silhouette curve; default: only when k is automatic.
    sample_size : fit on a random sample of this many customers at most;
        everyone is then assigned to the nearest centroid.
    silhouette_sample : the silhouette is computed on this many of the sample.
    n_init : k-means++ restarts per k (the best inertia wins).
    random_state : seeds the samples and k-means; same data, same segments
        (in any row order: the sample is drawn in customer_id order).
    threads : cap on OpenMP threads for k-means (None: the library default).
    progress : called with a fraction 0–1 as the work advances.

    Returns
    -------
    Segmentation; `labels` numbers segments 1..k by descending mean revenue_12m.
    """
    columns = validate_columns(features, columns)
    n = len(features)
    if k is not None and (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2):
        raise ValueError(f"k must be a whole number of at least 2, got {k!r}.")
    low, high = k_range
    if not 2 <= low <= high:
        raise ValueError(f"k_range must be (low, high) with 2 ≤ low ≤ high, got {k_range!r}.")
    if sample_size < 2 or silhouette_sample < 2:
        raise ValueError("sample_size and silhouette_sample must be at least 2.")
    want_curve = (k is None) if curve is None else curve

    fills = fill_values(features, columns)
    logged = signed_log1p(filled_matrix(features, columns, fills))
    rng = np.random.default_rng(random_state)
    fit_rows = _canonical_order(features)[_sample(n, sample_size, rng)]
    sample = logged[fit_rows]
    distinct = len(np.unique(sample, axis=0)) if len(sample) else 0
    if distinct < 2:
        raise ValueError(f"segments need at least 2 customers with different values of "
                         f"{', '.join(columns)}; found {distinct}.")
    if k is not None and k > distinct:
        raise ValueError(f"k = {k} is more than the {distinct} distinct customers "
                         f"(in the sample) of {', '.join(columns)}; choose a smaller k.")
    mean = sample.mean(axis=0)
    scale = sample.std(axis=0)
    scale[scale == 0] = 1.0
    z_fit = (sample - mean) / scale
    sil_rows = _sample(len(z_fit), silhouette_sample, rng)

    top = min(high, distinct - 1 if distinct > 2 else 2)     # a small base caps k
    ks = list(range(min(low, top), top + 1)) if want_curve else []
    if k is not None and want_curve and k not in ks:
        ks = sorted({*ks, k})
    fitting = _progress_part(progress, 0.0, 0.8)
    fits, rows = {}, []
    with _thread_cap(threads):
        if ks:
            from sklearn.metrics import pairwise_distances
            distances = pairwise_distances(z_fit[sil_rows])
        for i, kk in enumerate(ks):
            km = _kmeans(z_fit, kk, n_init=n_init, random_state=random_state)
            fits[kk] = km
            sil = (_silhouette(distances, km.labels_[sil_rows])
                   if kk < len(sil_rows) else float("nan"))
            rows.append({"k": kk, "inertia": float(km.inertia_), "silhouette": sil})
            if fitting:
                fitting((i + 1) / (len(ks) + (k is not None and k not in fits)))
        table = pd.DataFrame(rows, columns=["k", "inertia", "silhouette"])
        if k is None:
            best = table["silhouette"].fillna(-np.inf)
            chosen = int(table.loc[best.idxmax(), "k"])  # first (smallest) k on a tie
        else:
            chosen = int(k)
            if chosen not in fits:
                fits[chosen] = _kmeans(z_fit, chosen, n_init=n_init, random_state=random_state)
    if fitting:
        fitting(1.0)
    km = fits[chosen]
    silhouette = (float(table.loc[table["k"] == chosen, "silhouette"].iloc[0])
                  if chosen in set(table["k"]) else float("nan"))

    z_all = (logged - mean) / scale
    raw_labels = nearest_center(z_all, km.cluster_centers_,
                                progress=_progress_part(progress, 0.8, 1.0))
    order = _segment_order(features, raw_labels, km.cluster_centers_)
    rank = np.empty(chosen, dtype=np.int64)
    rank[order] = np.arange(chosen)
    model = SegmentModel(columns, fills, mean, scale, km.cluster_centers_[order])
    return Segmentation(model=model, labels=rank[raw_labels] + 1, k=chosen, auto=k is None,
                        curve=table, silhouette=silhouette, fit_rows=len(fit_rows),
                        customer_ids=features["customer_id"] if "customer_id" in features
                        else pd.Series(np.arange(n)))


def _canonical_order(features: pd.DataFrame) -> np.ndarray:
    """Row positions in customer_id order, so the fit does not depend on row order."""
    if "customer_id" not in features:
        return np.arange(len(features))
    ids = features["customer_id"]
    if ids.is_monotonic_increasing:
        return np.arange(len(features))
    return np.argsort(ids.to_numpy(), kind="stable")


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _segment_order(features: pd.DataFrame, labels: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Cluster indices in segment order: descending mean revenue_12m, then by centroid."""
    k = len(centers)
    if ORDER_COLUMN in features:
        value = np.nan_to_num(_column(features, ORDER_COLUMN))
        sums = np.bincount(labels, weights=value, minlength=k)
        counts = np.maximum(np.bincount(labels, minlength=k), 1)
        mean = np.round(sums / counts, 6)
    else:
        mean = np.zeros(k)
    # lexsort: last key first; ties on revenue fall back to the centroid, largest first
    keys = [-centers[:, j] for j in reversed(range(centers.shape[1]))] + [-mean]
    return np.lexsort(keys)


def assign_segments(features: pd.DataFrame, *, columns: Sequence[str] = DEFAULT_FEATURES,
                    k: int | None = None, lang: str = "en",
                    progress: Progress | None = None, **options) -> pd.DataFrame:
    """The segment of every customer, for the scorecard and the customer list.

    Fits `segment_customers(features, columns=..., k=..., **options)`.

    Returns
    -------
    DataFrame in the features' row order (index reset): customer_id,
    segment (int64, 1..k, 1 = highest mean revenue_12m), segment_name (the
    plain-language name in `lang`).
    """
    result = segment_customers(features, columns=columns, k=k, progress=progress, **options)
    names = segment_names(segment_profile(features, result), lang)
    out = result.assignment()
    out["segment_name"] = names.reindex(out["segment"]).to_numpy()
    return out


# --- profiles and names ------------------------------------------------------------------

def segment_profile(features: pd.DataFrame, result: Segmentation, *,
                    tiers=None, revenue: str = REVENUE_COLUMN) -> pd.DataFrame:
    """One row per segment: who is in it and how it differs from the base.

    Means are taken over the filled values the clustering saw (module
    docstring, step 1), in raw units.

    Returns
    -------
    DataFrame indexed by segment (1..k) with columns:
      customers         members
      customer_share    members / all customers
      revenue           sum of `revenue` (revenue_12m) over members, 0 without the column
      revenue_share     revenue / total revenue (NaN when the total is ≤ 0)
      mean_<column>     mean of each feature column
      index_<column>    100 × segment mean / base mean (100 = average); NaN
                        where the base mean is ≤ 0
      rank_<column>     members' mean percentile rank in the whole base (0–1,
                        ties share the mean rank; 0.5 = typical), which names read
      never_bought_share  share of members without a purchase ever (from
                        days_since_last_purchase or purchase_days; NaN without them)
      tier_<tier>       share of members in each tier, when `tiers` is given
                        (categorical or codes, in the features' row order)
    """
    labels = result.labels
    k = result.k
    columns = result.columns
    index = pd.RangeIndex(1, k + 1, name="segment")
    counts = np.bincount(labels, minlength=k + 1)[1:]
    out = pd.DataFrame({"customers": counts}, index=index)
    n = len(labels)
    out["customer_share"] = counts / n if n else np.nan
    value = (np.nan_to_num(_column(features, revenue)) if revenue in features
             else np.zeros(n))
    sums = np.bincount(labels, weights=value, minlength=k + 1)[1:]
    total = value.sum()
    out["revenue"] = sums
    out["revenue_share"] = sums / total if total > 0 else np.nan
    raw = filled_matrix(features, columns, result.model.fills)
    base = raw.mean(axis=0) if n else np.full(len(columns), np.nan)
    safe_counts = np.maximum(counts, 1)

    def segment_mean(values: np.ndarray) -> np.ndarray:
        means = np.bincount(labels, weights=values, minlength=k + 1)[1:] / safe_counts
        return np.where(counts > 0, means, np.nan)

    for j, column in enumerate(columns):
        means = segment_mean(raw[:, j])
        out[f"mean_{column}"] = means
        out[f"index_{column}"] = 100.0 * means / base[j] if base[j] > 0 else np.nan
    for j, column in enumerate(columns):
        out[f"rank_{column}"] = segment_mean(percentile_ranks(raw[:, j]))
    never = _never_bought(features)
    if never is not None:
        out["never_bought_share"] = (np.bincount(labels, weights=never, minlength=k + 1)[1:]
                                     / safe_counts)
    else:
        out["never_bought_share"] = np.nan
    if tiers is not None:
        mix = tier_crosstab(result, tiers)
        shares = mix.div(mix.sum(axis=1).where(lambda s: s > 0), axis=0)
        for tier in mix.columns:
            out[f"tier_{tier}"] = shares[tier].to_numpy()
    return out


def percentile_ranks(x: np.ndarray) -> np.ndarray:
    """Each value's mid-percentile in x, 0–1: (values below + equal values / 2) / n.

    Ties share it, a column of equal values is 0.5 everywhere, and the mean
    over all of x is exactly 0.5.
    """
    n = len(x)
    if n == 0:
        return np.zeros(0)
    # One sort, then each run of equal values (NaNs as one run, last, as np.sort puts
    # them) spans [below, at_most): 5x faster than searching the sorted values for each
    # of a million customers' values.
    order = np.argsort(x, kind="stable")
    ordered = x[order]
    changes = np.ones(n, bool)
    changes[1:] = (ordered[1:] != ordered[:-1]) & ~(np.isnan(ordered[1:]) & np.isnan(ordered[:-1]))
    starts = np.flatnonzero(changes)
    run = np.cumsum(changes) - 1
    ends = np.append(starts[1:], n)
    ranks = np.empty(n)
    ranks[order] = (starts[run] + ends[run]) / (2.0 * n)
    return ranks


def _never_bought(features: pd.DataFrame) -> np.ndarray | None:
    if "purchase_days" in features:
        return (np.nan_to_num(_column(features, "purchase_days")) <= 0).astype(float)
    if "days_since_last_purchase" in features:
        return np.isnan(_column(features, "days_since_last_purchase")).astype(float)
    return None


def tier_crosstab(result: Segmentation, tiers) -> pd.DataFrame:
    """Customers per segment (rows 1..k) and tier (columns, in the tiers' category order)."""
    tiers = pd.Series(pd.Categorical(tiers) if not isinstance(
        getattr(tiers, "dtype", None), pd.CategoricalDtype) else tiers)
    categories = list(tiers.cat.categories)
    codes = tiers.cat.codes.to_numpy()
    keep = codes >= 0
    k, m = result.k, len(categories)
    cells = np.bincount((result.labels[keep] - 1) * m + codes[keep], minlength=k * m)
    return pd.DataFrame(cells.reshape(k, m), columns=pd.Index(categories, name="tier"),
                        index=pd.RangeIndex(1, k + 1, name="segment"))


def _traits(row: pd.Series, columns: Sequence[str]) -> list[tuple[str, str, float]]:
    """(role or column, 'high'/'low', strength) of one profile row, in name order.

    A feature whose members sit on average at or above the HIGH_RANK
    percentile of the whole base (`rank_<column>`) is a 'high' trait, at or
    below LOW_RANK a 'low' one, provided the segment's mean agrees (index
    ≥ 100 for high, ≤ 100 for low, where there is an index); its strength is
    the distance from the middle (0.5). Percentiles, unlike means of money
    and day counts, are not decided by a few very large customers or by the
    mass at 0; the mean keeps an upper-middle group from being called high
    when a much larger one exists. Columns of
    one role give one trait (the strongest). Spend comes first when it is a
    trait (a manager asks first what a group is worth), then the others,
    strongest first. A segment where ≥ PROSPECT_SHARE never bought gets
    ('prospect', 'high') first, in place of the spend, frequency and recency
    traits that it implies.
    """
    found: dict[str, tuple[str, str, float]] = {}
    for column in columns:
        rank = row.get(f"rank_{column}")
        if rank is None or not np.isfinite(rank) or LOW_RANK < rank < HIGH_RANK:
            continue
        direction = "high" if rank >= HIGH_RANK else "low"
        index = row.get(f"index_{column}")
        if index is not None and np.isfinite(index) and (index < 100 if direction == "high"
                                                          else index > 100):
            continue  # the mean disagrees: upper-middle, not high (or the reverse)
        role = ROLE_OF.get(column, column)
        if (role, direction) in SILENT_TRAITS:
            continue
        strength = abs(float(rank) - 0.5)
        if role not in found or strength > found[role][2]:
            found[role] = (role, direction, strength)
    if found.get("recency", ("", ""))[1] == "high" and _mean_days_since(row) > LAPSED_DAYS:
        found["recency"] = ("recency", "lapsed", found["recency"][2])
    traits = sorted(found.values(), key=lambda t: (t[0] != "spend", -t[2]))
    share = row.get("never_bought_share")
    if share is not None and np.isfinite(share) and share >= PROSPECT_SHARE:
        traits = [("prospect", "high", math.inf)] + [
            t for t in traits if t[0] not in ("spend", "frequency", "recency")]
    return traits


def _mean_days_since(row: pd.Series) -> float:
    """The members' mean days since their last purchase, NaN when not clustered on."""
    for column in TRAIT_ROLES["recency"]:
        value = row.get(f"mean_{column}")
        if value is not None and np.isfinite(value):
            return float(value)
    return float("nan")


def _named(traits: list, used: int) -> list:
    """The first `used` traits, and the recency trait wherever it ranks: whether a group
    still buys (active, lapsing, lapsed) decides what can be done with it."""
    return traits[:used] + [t for t in traits[used:] if t[0] == "recency"]


def _reading_order(traits) -> list[tuple[str, str]]:
    rank = {role: i for i, role in enumerate(ROLE_ORDER)}
    return [(r, d) for r, d, _ in sorted(traits, key=lambda t: rank.get(t[0], len(rank)))]


def segment_name_codes(profile: pd.DataFrame, columns: Sequence[str] | None = None
                       ) -> pd.Series:
    """The name of every segment as a tuple of (role or column, 'high'/'low') traits.

    Up to NAME_TRAITS of the strongest traits (see `_traits`), and recency
    whenever it is a trait, in reading order (ROLE_ORDER, other columns
    last); () when no feature stands out. Where two segments would share a
    name, each takes its next strongest trait until they differ or run out.
    """
    if columns is None:
        columns = [c.removeprefix("rank_") for c in profile.columns if c.startswith("rank_")]
    traits = {seg: _traits(row, columns) for seg, row in profile.iterrows()}
    used = {seg: min(NAME_TRAITS, len(t)) for seg, t in traits.items()}
    for _ in range(max((len(t) for t in traits.values()), default=0)):
        names = {seg: tuple(_reading_order(_named(traits[seg], used[seg]))) for seg in traits}
        clash = [seg for seg in traits
                 if sum(names[other] == names[seg] for other in traits) > 1
                 and used[seg] < len(traits[seg])]
        if not clash:
            break
        for seg in clash:
            used[seg] += 1
    return pd.Series({seg: tuple(_reading_order(_named(traits[seg], used[seg])))
                      for seg in traits}, dtype=object).rename_axis("segment")


def trait_text(role: str, direction: str, lang: str) -> str:
    """One trait in words: ('spend', 'high') -> 'big spenders' / '高消费'."""
    key = f"segments.trait.{role}.{direction}"
    if key in i18n.catalogue():
        return i18n.t(key, lang)
    return i18n.t(f"segments.trait.generic.{direction}", lang,
                  feature=feature_label(role, lang))


def feature_label(column: str, lang: str) -> str:
    """A feature column in words; the column name itself when the catalogue lacks it."""
    key = f"segments.feature.{column}"
    return i18n.t(key, lang) if key in i18n.catalogue() else column


def name_text(codes: Sequence[tuple[str, str]], lang: str) -> str:
    """A name from its trait codes, joined the way `lang` joins them."""
    if not codes:
        return i18n.t(f"segments.trait.{NO_TRAIT}", lang)
    parts = [trait_text(role, direction, lang) for role, direction in codes]
    return i18n.t("segments.name.join", lang).join(parts)


def segment_names(profile: pd.DataFrame, lang: str) -> pd.Series:
    """The plain-language name of every segment in `lang`, indexed by segment."""
    return segment_name_codes(profile).map(lambda codes: name_text(codes, lang))


def segment_next_steps(result: Segmentation, actions) -> pd.DataFrame:
    """The playbook's next step for each segment: the action most of its members are due.

    actions : each customer's next action code (engine.plan.next_actions; None or NaN
        without one), in the features' row order.

    Returns
    -------
    DataFrame indexed by segment (1..k): action (the code most members are due, the
    earlier of `actions`' categories on a tie, a plain list's in alphabetical order; NA
    when no member has one), share (members due that action / members).
    """
    actions = pd.Categorical(actions)        # a Categorical keeps its categories' order
    codes, names = actions.codes.astype(np.int64), list(actions.categories)
    k, m = result.k, max(len(names), 1)
    counted = codes >= 0
    cells = np.bincount((result.labels[counted] - 1) * m + codes[counted],
                        minlength=k * m).reshape(k, m)
    members = np.bincount(result.labels, minlength=k + 1)[1:]
    best = cells.argmax(axis=1)
    top = cells[np.arange(k), best]
    return pd.DataFrame({
        "action": [names[b] if n > 0 else None for b, n in zip(best, top)],
        "share": np.where(members > 0, top / np.maximum(members, 1), np.nan)},
        index=pd.RangeIndex(1, k + 1, name="segment"))


# --- drawing helpers ---------------------------------------------------------------------

def scatter_points(features: pd.DataFrame, result: Segmentation, *, x: str | None = None,
                   y: str | None = None, max_points: int = 4_000,
                   random_state: int = RANDOM_STATE) -> tuple[pd.DataFrame, tuple[float, float]]:
    """Points to draw: a random sample of at most max_points customers.

    With x and y None, the first two principal components of the
    standardised matrix (PCA fitted on the drawn points); otherwise the two
    feature columns in raw units (empty cells filled as for the clustering).

    Returns
    -------
    (DataFrame customer_id, x, y, segment; (explained variance share of x,
    of y) for PCA, (NaN, NaN) for a pair of columns).
    """
    n = len(features)
    rows = _sample(n, max_points, np.random.default_rng(random_state))
    part = features.iloc[rows]
    if x is None and y is None:
        from sklearn.decomposition import PCA
        z = result.model.transform(part)
        if len(z) < 2:
            xy, ratio = np.zeros((len(z), 2)), (np.nan, np.nan)
        else:
            pca = PCA(n_components=2, svd_solver="full").fit(z)
            xy, ratio = pca.transform(z), tuple(float(r) for r in pca.explained_variance_ratio_)
    else:
        allowed = set(numeric_features(features))
        if x not in allowed or y not in allowed:
            raise ValueError(f"scatter axes must be numeric feature columns, got {x!r} and {y!r}.")
        fills = fill_values(features, (x, y))
        xy, ratio = filled_matrix(part, (x, y), fills), (np.nan, np.nan)
    ids = part["customer_id"].to_numpy() if "customer_id" in part else rows
    frame = pd.DataFrame({"customer_id": ids, "x": xy[:, 0], "y": xy[:, 1],
                          "segment": result.labels[rows]})
    return frame, ratio


def members(features: pd.DataFrame, result: Segmentation, names: pd.Series, *,
            segment: int | None = None, extra: Sequence[str] = ("name", "owner")) -> pd.DataFrame:
    """The members of one segment (or all with None) for a download.

    Columns: customer_id, the `extra` master columns present, segment,
    segment_name, then the feature columns in raw units (empty where empty).
    """
    keep = np.ones(len(features), dtype=bool) if segment is None else result.labels == segment
    part = features.loc[keep]
    out = pd.DataFrame({"customer_id": part["customer_id"].to_numpy()})
    for column in extra:
        if column in part:
            out[column] = part[column].to_numpy()
    labels = result.labels[keep]
    out["segment"] = labels
    out["segment_name"] = names.reindex(labels).to_numpy()
    for column in result.columns:
        out[column] = part[column].to_numpy()
    return out


# --- synthetic data, for the benchmark and the tests ---------------------------------

# Planted groups: (share, days since last purchase or None for never,
# purchases 12m, spend 12m, interactions 6m, tenure days), centres in raw units.
PLANTED_GROUPS = (
    (0.20, 10, 30, 100_000, 8, 900),    # big spenders, active
    (0.35, 300, 2, 3_000, 1, 700),      # lapsing
    (0.25, 15, 3, 5_000, 5, 60),        # new and active
    (0.20, None, 0, 0, 2, 200),         # no purchase yet
)


def synthetic_features(customers: int, *, seed: int = 0, spread: float = 0.25) -> pd.DataFrame:
    """A feature frame with PLANTED_GROUPS, for `python -m bench` and tests.

    Each group's values are log-normal around its centre (σ = `spread` in
    log units), counts rounded. Columns: customer_id, the DEFAULT_FEATURES
    (days_since_last_purchase Int64, NA for never; monetary_12m NaN for
    non-buyers, a few negative), revenue_12m, purchase_days, and
    planted_segment (the group's position in PLANTED_GROUPS, the truth).
    """
    rng = np.random.default_rng(seed)
    shares = np.array([g[0] for g in PLANTED_GROUPS])
    group = rng.choice(len(PLANTED_GROUPS), size=customers, p=shares / shares.sum())

    def around(values) -> np.ndarray:
        centre = np.array(values, dtype=float)[group]
        return centre * np.exp(rng.normal(0.0, spread, customers))

    days_centre = [np.nan if g[1] is None else g[1] for g in PLANTED_GROUPS]
    days = np.rint(around(days_centre))
    frequency = np.rint(around([g[2] for g in PLANTED_GROUPS])).astype(np.int64)
    buyer = frequency > 0
    monetary = np.where(buyer, np.round(around([g[3] for g in PLANTED_GROUPS]), 2), np.nan)
    refunded = buyer & (rng.random(customers) < 0.002)  # refunds beyond purchases
    monetary[refunded] = -monetary[refunded] / 10
    return pd.DataFrame({
        "customer_id": pd.Series(np.arange(customers)).map("C{:07d}".format),
        "days_since_last_purchase": pd.array(np.where(np.isnan(days), None, days),
                                             dtype="Int64"),
        "frequency_12m": frequency,
        "monetary_12m": monetary,
        "interactions_6m": np.rint(around([g[4] for g in PLANTED_GROUPS])).astype(np.int64),
        "tenure_days": pd.array(np.rint(around([g[5] for g in PLANTED_GROUPS])), dtype="Int64"),
        "revenue_12m": np.nan_to_num(monetary),
        "purchase_days": frequency,
        "planted_segment": group,
    })
