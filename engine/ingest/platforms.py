"""Order reports of the shop platforms, recognised by their headers (DESIGN §3).

Managers bring the order exports of Taobao/Tmall, JD, Pinduoduo, Youzan,
Douyin shop, WeChat shop, Shopify and WooCommerce, and the UCI "Online
Retail" layouts. Each has headers of its own, and some of them name the
wrong thing for an automatic match (Shopify's order number is "Name", its
buyer "Email"). A platform is declared once here as data: the headers that
tell it (all must be present) and the mapping that imports it in one step,
in `platforms.json` beside this file.
Headers are compared as `parse.normalise` does, a bracketed unit dropped.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from engine.ingest.parse import normalise

_BRACKETS = re.compile(r"[(\[（【［].*?[)\]）】］]")


@dataclass(frozen=True)
class Platform:
    """One platform's order report: `key` names it in the catalogue (ingest.platform.KEY).
    `order_amount`: its amount column is the order's, which an export of one row per
    product line may repeat on every line of the order."""
    key: str
    signature: tuple[str, ...]
    mapping: dict[str, str]
    order_amount: bool = False


PLATFORMS: tuple[Platform, ...] = tuple(
    Platform(p["key"], tuple(p["signature"]), p["mapping"], p.get("order_amount", False))
    for p in json.loads((Path(__file__).resolve().parent / "platforms.json").read_text("utf-8")))


def _key(header: str) -> str:
    return normalise(_BRACKETS.sub("", header)) or normalise(header)


def detect_platform(headers: list[str]) -> Platform | None:
    """The platform whose report these headers are, or None."""
    present = {_key(h) for h in headers}
    for platform in PLATFORMS:
        if all(_key(h) in present for h in platform.signature):
            return platform
    return None


def takes_order_amount(platform: Platform | None, mapping: dict) -> bool:
    """Whether `mapping` takes amount from the platform's order amount column."""
    if platform is None or not platform.order_amount:
        return False
    ours = {_key(h) for h, t in platform.mapping.items() if t == "amount"}
    return any(t == "amount" and _key(h) in ours for h, t in mapping.items())


def platform_mapping(platform: Platform, headers: list[str]) -> dict[str, str]:
    """The platform's mapping in the file's own spelling of its headers."""
    by_key = {_key(h): h for h in headers}
    return {by_key[_key(h)]: target for h, target in platform.mapping.items()
            if _key(h) in by_key}
