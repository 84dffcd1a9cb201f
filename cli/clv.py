"""`python -m engine clv`: fit the lifetime-value models on a database, print and write them."""
from __future__ import annotations

import json
import sys
import time

import numpy as np

from cli.common import EXIT_USAGE, iso_date, output_file
from engine import export, store
from engine.clv import (DAYS_PER_UNIT, ClvResult, ClvSettings, ClvUnavailable, fit_and_predict,
                        load_inputs)
from engine.clv_page import rounded_for_export
from engine.errors import InputRejected


def add_arguments(parser) -> None:
    """Options of `python -m engine clv`."""
    defaults = ClvSettings()
    parser.add_argument("--as-of", type=iso_date, default=None, metavar="YYYY-MM-DD",
                        help="date T of the figures (default: the latest event date)")
    parser.add_argument("--calibration-end", type=iso_date, default=None, metavar="YYYY-MM-DD",
                        help="fit on purchases up to this date and check the days after it "
                             "up to --as-of (default: the as-of date, no holdout)")
    parser.add_argument("--json", type=output_file, default=None, metavar="FILE",
                        help="write the fitted parameters and the holdout check as JSON")
    parser.add_argument("--out", type=output_file, default=None, metavar="FILE.csv",
                        help="write one row per customer (UTF-8 with BOM)")
    parser.add_argument("--time-unit", choices=sorted(DAYS_PER_UNIT),
                        default=defaults.time_unit,
                        help=f"time unit of the models (default {defaults.time_unit})")
    parser.add_argument("--discount-rate", type=float, default=defaults.annual_discount_rate,
                        help="annual discount rate, applied monthly "
                             f"(default {defaults.annual_discount_rate})")


def run(args) -> int:
    """Fit, predict, write the files asked for and print one summary line."""
    began = time.perf_counter()
    if not args.db.exists():
        raise InputRejected(f"{args.db}: no such database file")
    try:
        settings = ClvSettings(time_unit=args.time_unit,
                               annual_discount_rate=args.discount_rate)
    except ValueError as exc:   # a flag's value out of range: a usage error
        print(f"engine clv: --discount-rate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with store.connect(args.db) as con:
        as_of = args.as_of or store.date_range(con)[1]
        if as_of is None:
            raise InputRejected(f"{args.db}: the database holds no events")
        calibration_end = args.calibration_end or as_of
        if calibration_end > as_of:   # flags that contradict each other: a usage error
            print(f"engine clv: --calibration-end {calibration_end} is after the as-of date "
                  f"{as_of}", file=sys.stderr)
            return EXIT_USAGE
        calibration, current = load_inputs(con, as_of=as_of, calibration_end=calibration_end)
    try:
        result = fit_and_predict(calibration, current, calibration_end=calibration_end,
                                 as_of=as_of, settings=settings)
    except ClvUnavailable as exc:
        raise InputRejected(f"{args.db}: {exc}") from None
    _write_outputs(result, args)
    print(_summary_line(result, time.perf_counter() - began))
    if result.spend_error is not None:
        h = result.settings.horizon_months
        print(f"{args.db}: expected_spend and clv_{h}m are left empty: {result.spend_error}",
              file=sys.stderr)
    return 0


def _write_outputs(result: ClvResult, args) -> None:
    if args.out:
        export.write_csv(rounded_for_export(result.customers), args.out)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(_plain(result.to_json()), handle, ensure_ascii=False, indent=2)


def _plain(value):
    """numpy numbers as Python numbers, for json."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value.item() if isinstance(value, np.generic) else value


def _summary_line(result: ClvResult, seconds: float) -> str:
    r, alpha, a, b = result.bgnbd.params
    h = result.settings.horizon_months
    if result.gamma_gamma is None:
        spend = f"Gamma-Gamma not fitted ({result.spend_error.code})"
        value = f"{h}-month CLV not available"
    else:
        p, q, g = result.gamma_gamma.params
        spend = f"Gamma-Gamma p={p:.4g} q={q:.4g} gamma={g:.4g}"
        value = f"{h}-month CLV {result.customers[f'clv_{h}m'].sum():,.2f}"
    purchases = result.customers[f"expected_purchases_{h}m"].sum()
    line = (f"{result.bgnbd.customers:,} customers fitted up to {result.calibration_end} "
            f"(per {result.settings.time_unit}): BG/NBD r={r:.4g} alpha={alpha:.4g} "
            f"a={a:.4g} b={b:.4g}; {spend}; mean P(alive) {result.mean_p_alive:.3f}; "
            f"as of {result.as_of} over {len(result.customers):,} customers: "
            f"{purchases:,.1f} expected purchase days in {h} months, {value}")
    if result.holdout:
        line += (f"; holdout {result.holdout['start']}..{result.holdout['end']}: "
                 f"{result.holdout['actual']:,} purchase days, predicted "
                 f"{result.holdout['predicted']:,.1f}")
    return f"{line} ({seconds:.1f} s)"
