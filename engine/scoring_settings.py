"""The Scoring page's settings as one hashable value, and their form in a URL.

Settings travel as (weights, thresholds, clv): weights a tuple in
scoring.DIMENSIONS order, thresholds (high, potential), clv whether the
12-month CLV joins the consumption score, so they key the pages' caches.
They also live in the URL's query parameters (?weights=50,25,17,8&thresholds=70,50
&clv=1), so a browser reload, which starts a new session, keeps them, and a link
shares the view. Defaults are left out of the URL.
"""
from __future__ import annotations

from engine import scoring

DEFAULT_SETTINGS = (tuple(scoring.DEFAULT_WEIGHTS[d] for d in scoring.DIMENSIONS),
                    tuple(scoring.DEFAULT_THRESHOLDS), False)
QUERY_WEIGHTS, QUERY_THRESHOLDS, QUERY_CLV = "weights", "thresholds", "clv"
QUERY_NAMES = (QUERY_WEIGHTS, QUERY_THRESHOLDS, QUERY_CLV)


def settings_from_query(params) -> tuple | None:
    """(weights, thresholds, clv) written in query parameters (a mapping of name to text);
    None when absent or not valid (a link typed by hand: the defaults then serve). The
    sliders hold whole numbers, so the URL must too."""
    if not any(name in params for name in QUERY_NAMES):
        return None
    try:
        weights = scoring.validate_weights(weight_map(whole_numbers(
            params.get(QUERY_WEIGHTS), DEFAULT_SETTINGS[0])))
        thresholds = scoring.validate_thresholds(whole_numbers(params.get(QUERY_THRESHOLDS),
                                                               DEFAULT_SETTINGS[1]))
    except ValueError:
        return None
    return (tuple(int(weights[d]) for d in scoring.DIMENSIONS),
            tuple(int(v) for v in thresholds), params.get(QUERY_CLV) == "1")


def whole_numbers(text: str | None, default: tuple) -> list[float]:
    """Comma-separated whole numbers of a query parameter, `default` when it is absent;
    ValueError when they are not as many as `default`, or not whole."""
    if text is None:
        return list(default)
    values = [float(v) for v in str(text).split(",")]
    if len(values) != len(default) or not all(v.is_integer() for v in values):
        raise ValueError(f"expected {len(default)} whole numbers, got {text!r}")
    return values


def settings_query(settings: tuple) -> dict[str, str]:
    """The query parameters of `settings`: only those that differ from the defaults."""
    weights, thresholds, clv = settings
    query = {}
    if tuple(weights) != DEFAULT_SETTINGS[0]:
        query[QUERY_WEIGHTS] = ",".join(f"{w:g}" for w in weights)
    if tuple(thresholds) != DEFAULT_SETTINGS[1]:
        query[QUERY_THRESHOLDS] = ",".join(f"{v:g}" for v in thresholds)
    if clv:
        query[QUERY_CLV] = "1"
    return query


def weight_map(weights) -> dict[str, float]:
    """Weights in scoring.DIMENSIONS order as {dimension: weight}, as the engine takes them."""
    return dict(zip(scoring.DIMENSIONS, weights))
