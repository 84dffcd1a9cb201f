"""What the Segments page shows of a k-means segmentation (engine.segments), in the
reader's words: the overview with each segment's next step, the index heatmap, the
tier crosstab and the silhouette of the k shown."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from engine import i18n
from engine import segments as segment_engine


def segment_labels(names: Mapping, lang: str) -> dict:
    """{segment: "n · name"} of {segment: name} (a dict or a Series), in segment order."""
    return {s: i18n.t("segments.label", lang, number=s, name=n)
            for s, n in sorted(dict(names).items())}


def segment_page(features: pd.DataFrame, automatic: segment_engine.Segmentation,
                 result: segment_engine.Segmentation, k: int | None, *, tiers: pd.Series,
                 tasks: pd.DataFrame, lang: str) -> dict:
    """Everything the Segments page draws except the scatter, in the reader's words.

    automatic: the run with k chosen automatically (its curve is drawn); result:
    the segmentation shown, `automatic` itself when `k` is None, else the fit with
    that k (its silhouette read off the automatic curve: the same sample and seed).
    tiers: every customer's tier, and tasks the task list (engine.plan.task_list),
    in the features' row order and by customer_id.
    Returns k, auto, silhouette, fit_rows, customers, silhouette_rows; curve and
    auto_k of the automatic run; labels {segment: "n · name"}; overview (segment
    label, customers, shares, revenue, next_step: the playbook action most members
    are due, in words, engine.segments.segment_next_steps); heatmap (segments ×
    feature labels); crosstab (segment label × tier label counts).
    """
    profile = segment_engine.segment_profile(features, result, tiers=tiers)
    labels = segment_labels(segment_engine.segment_names(profile, lang), lang)
    feature_names = [segment_engine.feature_label(c, lang) for c in result.columns]
    heatmap = profile[[f"index_{c}" for c in result.columns]].set_axis(feature_names, axis=1)
    crosstab = segment_engine.tier_crosstab(result, tiers)
    crosstab.columns = [i18n.label("tier", c, lang) for c in crosstab.columns]
    steps = segment_engine.segment_next_steps(result, actions_of(features, tasks))
    profile["next_step"] = [
        i18n.t("segments.step.none", lang) if pd.isna(action) else
        i18n.t("segments.step.share", lang, step=i18n.t(f"segments.step.{action}", lang),
               share=share) for action, share in zip(steps["action"], steps["share"])]
    on_curve = automatic.curve.set_index("k")["silhouette"]
    silhouette = result.silhouette if k is None else float(on_curve.get(k, float("nan")))
    return {"k": result.k, "auto": result.auto, "silhouette": silhouette,
            "fit_rows": result.fit_rows, "customers": len(result.labels),
            "silhouette_rows": min(result.fit_rows, segment_engine.DEFAULT_SILHOUETTE_SAMPLE),
            "curve": automatic.curve, "auto_k": automatic.k, "labels": labels,
            "overview": profile[["customers", "customer_share", "revenue", "revenue_share",
                                 "next_step"]]
            .rename(index=labels).rename_axis("segment").reset_index(),
            "heatmap": heatmap.rename(index=labels),
            "crosstab": crosstab.rename(index=labels)}


def actions_of(features: pd.DataFrame, tasks: pd.DataFrame) -> pd.Categorical:
    """Each customer's next action (a code of the task list's categorical "action", NaN
    without a task), in the feature table's row order."""
    action = pd.Series(tasks["action"].cat.codes.to_numpy(), index=tasks["customer_id"].array)
    codes = action.reindex(features["customer_id"].array).fillna(-1).to_numpy(dtype=np.int64)
    return pd.Categorical.from_codes(codes, categories=tasks["action"].cat.categories)
