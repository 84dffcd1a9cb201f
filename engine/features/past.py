"""The feature table as of a past date (a month end, a snapshot), over a set of customers
that the caller names.

Three readers look back, each over its own set of customers, and the sets differ on
purpose:

- EVERY: every row of the feature table as of the day (`customer_features`' own rule,
  which keeps a customer with neither a first contact nor any event), as the profile's
  header ranks them today, so the tier history's last point equals the header's tier;
- KNOWN: the customers DESIGN §4.8 reviews at a month end, those with a first contact
  or an event on or before it; a customer with neither is not counted, ranked or called
  dormant then;
- BUYERS: the customers who had bought by the day, the churn model's rows.
"""
from __future__ import annotations

import datetime as dt
from typing import Sequence

import pandas as pd

from engine.features.customer import (EventHistory, customer_features,
                                      optional_columns_present, sources_at)

EVERY, KNOWN, BUYERS = "every", "known", "buyers"


def features_as_of(con, day: dt.date, *, customers: str, history: EventHistory | None = None,
                   columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The feature table as of `day` (only events on or before it count), cut down to the
    set `customers` (EVERY, KNOWN or BUYERS). `history`, the `event_history` of the same
    data, spares the query its most expensive parts when many days are due; `columns`
    must include the ones the set is judged on."""
    features = customer_features(con, as_of=day, history=history, columns=columns)
    if customers == EVERY:
        return features
    if customers == KNOWN:
        keep = features["first_contact"].notna() | features["last_txn_date"].notna()
    elif customers == BUYERS:
        keep = features["purchase_days"] > 0
    else:
        raise ValueError(f"unknown set of customers {customers!r}; use every, known or buyers")
    return features if keep.all() else features[keep].reset_index(drop=True)


def sources_as_of(con, day: dt.date, history: EventHistory | None = None) -> dict[str, bool]:
    """`optional_columns_present` as of `day`, from `history` when given (no query then)."""
    if history is None:
        return optional_columns_present(con, as_of=day)
    return sources_at(history.source_dates, as_of=day)
