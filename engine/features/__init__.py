"""Aggregations over raw events, as SQL, one table per concept (DESIGN §2).

`customer` yields the per-customer feature table that scoring, RFM, the
pyramid, risk and lifecycle read; other modules here hold other aggregates
(for example `activity` for the monthly overview).
"""
from engine.features.customer import (FEATURE_COLUMNS, SOURCES, customer_features,
                                      latest_event_date, optional_columns_present,
                                      event_history)

__all__ = ["FEATURE_COLUMNS", "SOURCES", "customer_features", "latest_event_date",
           "optional_columns_present", "event_history"]
