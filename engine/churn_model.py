"""A learned churn probability next to the rules of DESIGN §4.5.

The model learns from the base's own history. At every past month end m it
takes the feature table as of m (`customer_features(con, as_of=m)`, which
counts only events on or before m) and labels each customer who had bought
by then: churned = no purchase in the following 90 days, (m, m + 90]. The
label is read from the feature table as of m + 90 (its last purchase date
is after m or not), so nothing here touches raw events.

Evaluation is out of time: the latest labelled month ends are the test set,
the model is trained on earlier month ends whose 90-day label window closed
by the first test month end (an embargo, so no training label looks at the
test period), and it is compared with the rule-based `high` flag at the
same number of alerts. The model served for today's customers is then
refitted on every labelled month end.

scikit-learn's gradient boosting runs OpenMP threads; on a 2-core machine
shared with the dashboard one thread is as fast and never stalls, so
threads are capped with threadpoolctl (`threads`, default 1).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from engine import i18n, risk, store
from engine.features import past
from engine.features.customer import EventHistory, customer_features, event_history
from engine.months import month_ends

MIN_HISTORY_MONTHS = 6
HORIZON_DAYS = 90
TEST_MONTHS = 3

# Feature-table columns the model reads, and columns derived here from its dates.
TABLE_FEATURES = (
    "spend_6m", "purchases_6m", "aov_6m", "products_6m", "interactions_6m", "events_6m",
    "median_response_hours_6m", "tenure_days", "purchase_months_12m", "ontime_share",
    "renewal", "referred_customers", "referral_interactions", "frequency_12m", "revenue_12m",
    "spend_90d", "spend_prev_90d", "complaints_90d", "interactions_30d", "interactions_90d",
    "purchase_days", "median_gap_days", "days_since_last_purchase",
)
DERIVED_FEATURES = ("days_since_last_txn", "days_since_last_interaction",
                    "days_since_first_purchase", "spend_fall", "gap_ratio", "enterprise")
MODEL_FEATURES = TABLE_FEATURES + DERIVED_FEATURES

MODEL_PARAMS = dict(max_iter=150, learning_rate=0.08, max_leaf_nodes=15, min_samples_leaf=40,
                    l2_regularization=1.0, early_stopping=False)


class NotEnoughHistory(ValueError):
    """The data is too short to learn churn from; `key` and `values` word it in either language."""

    def __init__(self, key: str, **values):
        self.key, self.values = key, values
        super().__init__(i18n.t(key, "en", **values))

    def message(self, lang: str = "en") -> str:
        return i18n.t(self.key, lang, **self.values)


@dataclass
class ChurnModel:
    """A trained churn model and its out-of-time evaluation.

    Attributes
    ----------
    model : the classifier refitted on every labelled month end (for today).
    as_of : the date T the history runs to.
    features : the MODEL_FEATURES it uses (those with a value in the training rows).
    train_snapshots, test_snapshots : month ends of the evaluation.
    embargo : whether training month ends were limited to those whose label
        window closed by the first test month end (False only when the
        history is too short for that).
    n_train, n_test : customer-snapshot rows; churn_rate_test their share churned.
    auc_model, auc_rules : ROC AUC on the test rows of the model's
        probability and of the rule level (low < medium < high).
    rules : the rule-based `high` flag on the test rows: alerts, precision, recall.
    model_at_same_alerts : the model's top `alerts` test rows: alerts, precision, recall.
    importance : permutation importance on the test rows (drop in ROC AUC),
        columns feature, importance, std, most important first.
    seconds : time spent building snapshots and training.
    """
    model: HistGradientBoostingClassifier
    as_of: date
    features: tuple[str, ...]
    train_snapshots: list[date]
    test_snapshots: list[date]
    embargo: bool
    n_train: int
    n_test: int
    churn_rate_test: float
    auc_model: float
    auc_rules: float
    rules: dict
    model_at_same_alerts: dict
    importance: pd.DataFrame
    seconds: float = field(default=0.0)

    def summary(self) -> dict:
        """The evaluation as plain numbers (for JSON, the CLI and the page)."""
        return {
            "as_of": self.as_of.isoformat(),
            "train_snapshots": [d.isoformat() for d in self.train_snapshots],
            "test_snapshots": [d.isoformat() for d in self.test_snapshots],
            "embargo": self.embargo, "n_train": self.n_train, "n_test": self.n_test,
            "churn_rate_test": self.churn_rate_test, "auc_model": self.auc_model,
            "auc_rules": self.auc_rules, "rules": self.rules,
            "model_at_same_alerts": self.model_at_same_alerts,
            "top_features": self.importance.head(10).to_dict("records"),
        }


# --- snapshots --------------------------------------------------------------

def model_frame(features: pd.DataFrame, *, as_of: date) -> pd.DataFrame:
    """The model's inputs (MODEL_FEATURES, float64) from a feature table as of T, same rows."""
    out = pd.DataFrame(
        {c: pd.to_numeric(features[c]).to_numpy(dtype="float64", na_value=np.nan)
         for c in TABLE_FEATURES}, index=features.index)
    out["days_since_last_txn"] = risk.days_since(features["last_txn_date"], as_of)
    out["days_since_last_interaction"] = risk.days_since(features["last_interaction_date"], as_of)
    out["days_since_first_purchase"] = risk.days_since(features["first_purchase_date"], as_of)
    out["spend_fall"] = risk.spend_fall(features)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["gap_ratio"] = out["days_since_last_purchase"] / out["median_gap_days"]
    out["enterprise"] = (features["customer_type"] == "enterprise").to_numpy(dtype="float64")
    return out[list(MODEL_FEATURES)]


def snapshot(con, day: date, *, history: EventHistory | None = None) -> pd.DataFrame:
    """Customers who had bought by `day`, with the model inputs and rule level as of `day`.

    Only events on or before `day` count (the feature table's own rule).
    history: `event_history` of the same data, read once for many days.
    Columns: snapshot, customer_id, risk_level, then MODEL_FEATURES.
    """
    features = past.features_as_of(con, day, customers=past.BUYERS, history=history)
    levels, _ = risk.risk_levels(features)
    head = pd.DataFrame({"snapshot": pd.Timestamp(day),
                         "customer_id": features["customer_id"].to_numpy(),
                         "risk_level": levels})
    return pd.concat([head, model_frame(features, as_of=day)], axis=1)


def churn_labels(con, day: date, *, horizon_days: int = HORIZON_DAYS,
                 history: EventHistory | None = None) -> pd.Series:
    """Per customer known at day + horizon: True when no purchase in (day, day + horizon]."""
    later = customer_features(con, as_of=day + timedelta(days=horizon_days),
                              history=history, columns=("customer_id", "last_purchase_date"))
    bought = pd.to_datetime(later["last_purchase_date"]) > pd.Timestamp(day)
    return pd.Series(~bought.to_numpy(), index=later["customer_id"].to_numpy(), name="churned")


def history_months(source, *, as_of: date) -> tuple[int, list[date]]:
    """How many month ends lie between the first event and T, and those month ends."""
    with store.session(source) as con:
        first, _ = store.date_range(con)
    if first is None or first > as_of:
        return 0, []
    ends = month_ends(first, as_of)
    return len(ends), ends


def labelled_snapshots(source, *, as_of: date, horizon_days: int = HORIZON_DAYS
                       ) -> pd.DataFrame:
    """Every month end whose next `horizon_days` lie on or before T, as training rows.

    `source` is a connection or a database path (`store.session`: with a
    path the file is held one month end at a time, not for the whole job).
    Columns: snapshot, customer_id, risk_level, MODEL_FEATURES, churned.
    """
    _, ends = history_months(source, as_of=as_of)
    ends = [day for day in ends if day + timedelta(days=horizon_days) <= as_of]
    if ends:
        with store.session(source) as con:
            history = event_history(con)
    frames = []
    for day in ends:
        with store.session(source) as con:
            rows = snapshot(con, day, history=history)
            labels = churn_labels(con, day, horizon_days=horizon_days, history=history)
        rows["churned"] = labels.reindex(rows["customer_id"].to_numpy()).to_numpy(dtype=bool)
        frames.append(rows)
    if not frames:
        return pd.DataFrame(columns=["snapshot", "customer_id", "risk_level",
                                     *MODEL_FEATURES, "churned"])
    return pd.concat(frames, ignore_index=True)


# --- training and evaluation -----------------------------------------------

def split_snapshots(snapshots: list[date], *, test_months: int = TEST_MONTHS,
                    horizon_days: int = HORIZON_DAYS) -> tuple[list[date], list[date], bool]:
    """(train, test, embargo): the latest month ends test, earlier ones train.

    Up to `test_months` month ends (at most a third, at least one) are the
    test set. Training month ends are those whose label window closed by
    the first test month end; when that leaves none (short history), all
    earlier month ends train and embargo is False.
    """
    snapshots = sorted(snapshots)
    n_test = max(1, min(test_months, len(snapshots) // 3))
    test = snapshots[-n_test:]
    earlier = snapshots[:-n_test]
    closed = [d for d in earlier if d + timedelta(days=horizon_days) <= test[0]]
    return (closed, test, True) if closed else (earlier, test, False)


def alert_quality(flagged: np.ndarray, churned: np.ndarray) -> dict:
    """Alerts, precision (None without alerts) and recall (None without churners)."""
    alerts, hits, positives = int(flagged.sum()), int((flagged & churned).sum()), int(churned.sum())
    return {"alerts": alerts,
            "precision": hits / alerts if alerts else None,
            "recall": hits / positives if positives else None}


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """A mask of the k highest scores (ties broken by position, stable)."""
    mask = np.zeros(len(scores), dtype=bool)
    if k > 0:
        mask[np.argsort(-scores, kind="stable")[:k]] = True
    return mask


def model_alerts(probability: pd.Series, alerts: int) -> pd.Series:
    """Whether the model would alert each customer if it raised as many alerts as the rules
    do: the `alerts` highest probabilities (NaN, a customer who never bought, never; ties
    by position), as in the backtest's comparison at the same number of alerts."""
    scores = np.nan_to_num(probability.to_numpy(dtype=float), nan=-np.inf)
    mask = top_k(scores, min(int(alerts), int(np.isfinite(scores).sum())))
    return pd.Series(mask, index=probability.index, name="model_alert")


def _safe_auc(y, score) -> float:
    return float(roc_auc_score(y, score)) if 0 < y.sum() < len(y) else float("nan")


def train_churn_model(source, *, as_of: date, horizon_days: int = HORIZON_DAYS,
                      test_months: int = TEST_MONTHS, random_state: int = 0, threads: int = 1,
                      importance_repeats: int = 3, max_importance_rows: int = 5_000,
                      rows: pd.DataFrame | None = None) -> ChurnModel:
    """Learn churn from the base's month-end history up to T and evaluate it out of time.

    `source` is a connection or a database path (see `labelled_snapshots`).
    `rows` may pass `labelled_snapshots(source, as_of=as_of, ...)` when the
    caller already has it (most of the time goes into building it).
    Raises NotEnoughHistory when the data spans fewer than
    MIN_HISTORY_MONTHS month ends, or when no month end has a complete
    90-day label window, or when the training rows hold only one outcome.
    """
    started = time.perf_counter()
    months, _ = history_months(source, as_of=as_of)
    if months < MIN_HISTORY_MONTHS:
        raise NotEnoughHistory("churn.error.not_enough_history", months=months,
                               as_of=as_of.isoformat(), needed=MIN_HISTORY_MONTHS)
    if rows is None:
        rows = labelled_snapshots(source, as_of=as_of, horizon_days=horizon_days)
    snapshots = sorted({d.date() for d in rows["snapshot"]})
    if len(snapshots) < 2:
        raise NotEnoughHistory("churn.error.not_enough_history", months=months,
                               as_of=as_of.isoformat(), needed=MIN_HISTORY_MONTHS)
    train_days, test_days, embargo = split_snapshots(snapshots, test_months=test_months,
                                                     horizon_days=horizon_days)
    day = rows["snapshot"].dt.date
    train, test = rows[day.isin(train_days)], rows[day.isin(test_days)]
    _check_both_outcomes(train["churned"].to_numpy())
    _check_both_outcomes(rows["churned"].to_numpy())

    # a column without any value in the training rows (no response hours,
    # no contracts in this data) cannot be learnt from: leave it out
    used = [c for c in MODEL_FEATURES if train[c].notna().any()]
    X_train, y_train = train[used], train["churned"].to_numpy()
    X_test, y_test = test[used], test["churned"].to_numpy()
    with threadpool_limits(limits=threads):
        evaluated = HistGradientBoostingClassifier(random_state=random_state, **MODEL_PARAMS)
        evaluated.fit(X_train, y_train)
        proba = evaluated.predict_proba(X_test)[:, 1]
        sample = X_test.index
        if len(sample) > max_importance_rows:
            sample = pd.Index(np.random.default_rng(random_state).choice(
                sample, max_importance_rows, replace=False)).sort_values()
        if 0 < y_test.sum() < len(y_test):
            perm = permutation_importance(
                evaluated, X_test.loc[sample], test.loc[sample, "churned"].to_numpy(),
                scoring="roc_auc", n_repeats=importance_repeats, random_state=random_state)
            importance = pd.DataFrame({"feature": used, "importance": perm.importances_mean,
                                       "std": perm.importances_std})
        else:
            importance = pd.DataFrame({"feature": used, "importance": np.nan, "std": np.nan})
        final = HistGradientBoostingClassifier(random_state=random_state, **MODEL_PARAMS)
        final.fit(rows[used], rows["churned"].to_numpy())

    high = (test["risk_level"] == "high").to_numpy()
    level = test["risk_level"].map({"low": 0, "medium": 1, "high": 2}).to_numpy()
    return ChurnModel(
        model=final, as_of=as_of, features=tuple(used),
        train_snapshots=train_days, test_snapshots=test_days, embargo=embargo,
        n_train=len(train), n_test=len(test), churn_rate_test=float(y_test.mean()),
        auc_model=_safe_auc(y_test, proba), auc_rules=_safe_auc(y_test, level),
        rules=alert_quality(high, y_test),
        model_at_same_alerts=alert_quality(top_k(proba, int(high.sum())), y_test),
        importance=importance.sort_values("importance", ascending=False, kind="stable")
        .reset_index(drop=True),
        seconds=time.perf_counter() - started)


def _check_both_outcomes(y: np.ndarray) -> None:
    if y.all() or not y.any():
        raise NotEnoughHistory("churn.error.all_churned" if y.all() else "churn.error.none_churned")


def churn_probability(trained: ChurnModel, features: pd.DataFrame, *, as_of: date,
                      threads: int = 1) -> pd.Series:
    """P(no purchase in the next 90 days) per customer, from a feature table as of T.

    Index customer_id, in the features' order; NaN for customers who have
    never bought (the model learns only from buyers).
    """
    X = model_frame(features, as_of=as_of)[list(trained.features)]
    with threadpool_limits(limits=threads):
        proba = trained.model.predict_proba(X)[:, 1]
    buyer = (pd.to_numeric(features["purchase_days"]).to_numpy() > 0)
    return pd.Series(np.where(buyer, proba, np.nan), index=features["customer_id"].to_numpy(),
                     name="churn_probability")
