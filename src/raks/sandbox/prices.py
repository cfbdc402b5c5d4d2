"""The emulated Azure Retail Prices API, served under `/prices` on the main server (endpoints.json
`prices` is the base URL raks uses as its prices_url): `GET {prices}/api/retail/prices`.

What it follows (Microsoft Learn "Azure Retail Prices overview",
learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices, unless noted):
- no credential is needed (the API is public); a request with one is answered the same;
- query parameters: `$filter`, `currencyCode` ('EUR' quoted as the page shows, or bare: EUR works
  too, ahmadabdalla/azure-cost-calculator#611), `api-version`, `meterRegion='primary'`, `$skip`;
- $filter: OData `eq`/`ne` comparisons and `contains(field, 'x')`, joined with `and`/`or` and
  parentheses ('and' binds tighter, as in OData). `not(...)` is refused with 400
  (ahmadabdalla/azure-cost-calculator#894; grafana/cloudcost-exporter#885); so is anything else
  outside that grammar, and a field the page does not list as filterable;
- filter VALUES are case-sensitive from api-version 2023-01-01-preview on and case-insensitive
  before (the page's "Filter values are case-sensitive");
- answers {BillingCurrency, CustomerEntityId "Default", CustomerEntityType "Retail", Items,
  NextPageLink, Count}, at most 1,000 items a page (the page's "API response pagination";
  openops-cloud/openops#2330 steps $skip by 1,000), NextPageLink = the same query with `$skip`
  (Learn Q&A 1188465 shows `...&$skip=100`), null on the last page (Learn Q&A 348412 quotes the
  empty answer {"BillingCurrency": "USD", "CustomerEntityId": "Default", "CustomerEntityType":
  "Retail", "Items": [], "NextPageLink": null, "Count": 0});
- items carry the page's fields. Each (region, size) has Linux and Windows meters (Windows:
  productName ends "Windows"), each on-demand, Spot and Low Priority (meterName/skuName end " Spot"
  / " Low Priority"), plus 1- and 3-year Reservation items: so raks' own filtering is exercised.

Not found in public sources, so not claimed: the body of a 400 (answered here as
{"Error": {"Code": "BadRequest", "Message": ...}}; raks reads only the status) and what the API
does with a currency it does not offer (the sandbox answers 400: it has no rate for it).

The figures are SANDBOX FIGURES, not today's Azure prices: a USD on-demand Linux hourly price per
size of the sandbox catalog (the order of magnitude of Azure's list prices), times a fixed factor
per region; spot is a fraction of it that varies by region and size; other currencies are the USD
figure times the fixed rates in RATES. Tests set exact figures through the control API
(`PUT /_sandbox/prices`, see `control`).
"""

from __future__ import annotations

import re
import uuid
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from raks.regions import AZURE_REGIONS
from raks.sandbox.http import Request, Response

if TYPE_CHECKING:
    from raks.sandbox.world import World

API_PATH = "/prices/api/retail/prices"
PAGE_SIZE = 1000
# Fixed conversion rates from the sandbox's USD figures (sandbox figures, not market rates). The
# keys are the currencies of the Learn page's "Supported currencies" table.
RATES: dict[str, float] = {
    "USD": 1.0, "AUD": 1.52, "BRL": 5.4, "CAD": 1.37, "CHF": 0.88, "CNY": 7.2, "DKK": 6.85, "EUR": 0.92,
    "GBP": 0.79, "INR": 83.5, "JPY": 150.0, "KRW": 1350.0, "NOK": 10.6, "NZD": 1.65, "RUB": 92.0,
    "SEK": 10.5, "TWD": 32.0,
}  # fmt: skip
# USD per hour, Linux on-demand, in a 1.00 region (sandbox figures).
BASE_USD: dict[str, float] = {
    "standard_d4s_v5": 0.192, "standard_d8s_v5": 0.384, "standard_d16s_v5": 0.768,
    "standard_d4_v5": 0.192, "standard_d8_v5": 0.384, "standard_d16_v5": 0.768, "standard_d32_v5": 1.536,
    "standard_e16s_v5": 1.008, "standard_nd96asr_v4": 27.197, "standard_nd96amsr_a100_v4": 32.77,
    "standard_nc24ads_a100_v4": 3.673, "standard_nc48ads_a100_v4": 7.346, "standard_nc96ads_a100_v4": 14.692,
    "standard_nc4as_t4_v3": 0.526, "standard_nc8as_t4_v3": 0.752, "standard_nc16as_t4_v3": 1.204,
    "standard_nc64as_t4_v3": 4.352, "standard_nc40ads_h100_v5": 6.98, "standard_nd96isr_h100_v5": 98.32,
}  # fmt: skip
REGION_FACTOR: dict[str, float] = {
    "eastus": 1.0, "eastus2": 1.0, "westus2": 1.0, "westus3": 0.98, "centralus": 1.05, "southcentralus": 1.02,
    "northcentralus": 1.03, "westus": 1.08, "canadacentral": 1.1, "uksouth": 1.12, "ukwest": 1.15,
    "westeurope": 1.14, "northeurope": 1.08, "swedencentral": 1.06, "francecentral": 1.16,
    "germanywestcentral": 1.18, "switzerlandnorth": 1.3, "norwayeast": 1.25, "japaneast": 1.25,
    "koreacentral": 1.22, "australiaeast": 1.3, "southeastasia": 1.2, "eastasia": 1.28, "centralindia": 1.05,
    "brazilsouth": 1.55, "uaenorth": 1.2, "southafricanorth": 1.3,
}  # fmt: skip
EFFECTIVE = "2025-01-01T00:00:00Z"
# The fields the Learn page lists as filterable (matched case-insensitively: it spells them
# `productid`, `Location` where items say `productId`, `location`).
FILTERABLE = {
    f.lower(): f
    for f in (
        "armRegionName", "location", "meterId", "meterName", "productId", "skuId", "productName", "skuName",
        "serviceName", "serviceId", "serviceFamily", "priceType", "armSkuName",
    )
}  # fmt: skip
ITEM_FIELD = {"pricetype": "type"}  # the filter's priceType is the item's `type`


def _h(*parts: str) -> int:
    return zlib.crc32("|".join(parts).encode())


def region_factor(region: str) -> float:
    return REGION_FACTOR.get(region, 1.0 + (_h(region) % 30) / 100)


def spot_fraction(region: str, size: str) -> float:
    """Spot as a fraction of on-demand: deeper discounts on general-purpose sizes than on GPUs."""
    base = 0.35 if size.lower().startswith(("standard_n",)) else 0.2
    return round(base * (0.85 + (_h(region, size.lower()) % 30) / 100), 4)


@dataclass(frozen=True)
class _Meter:
    os: str  # "Linux" / "Windows"
    kind: str  # "" (on-demand) / "Spot" / "Low Priority" / "1 Year" / "3 Years"


# Windows before Linux and Low Priority before Spot, so a client that kept the first meter of a
# size would show the wrong one.
METERS = tuple(
    _Meter(os, kind) for os in ("Windows", "Linux") for kind in ("Low Priority", "Spot", "", "1 Year", "3 Years")
)


class PriceError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message

    def response(self) -> Response:
        return Response(self.status, {"Error": {"Code": "BadRequest", "Message": self.message}})


class PricesApi:
    def __init__(self, world: World) -> None:
        self.world = world

    @property
    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.world.state.setdefault("prices", {})
        state.setdefault("overrides", {})  # "region|size|spot" -> USD per hour, or None (no meter)
        state.setdefault("fail", None)  # None, "unreachable" or "http500"
        state.setdefault("page_size", None)  # TEST-ONLY: a smaller page (the real API has no such knob)
        return state

    # -- the API ---------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        fail = self.state["fail"]
        if fail == "unreachable":
            return Response(0, reset=True)
        if fail == "http500":
            return Response(500, {"Error": {"Code": "InternalServerError", "Message": "sandbox: made to fail"}})
        if req.path.rstrip("/").lower() != API_PATH or req.method not in ("GET", "HEAD"):
            return Response(404, {"Error": {"Code": "NotFound", "Message": f"no such path {req.path}"}})
        try:
            return self._query(req)
        except PriceError as exc:
            return exc.response()

    def _query(self, req: Request) -> Response:
        version = req.q("api-version") or ""
        case_sensitive = version >= "2023-01-01"
        currency = (req.q("currencyCode") or "USD").strip("'").upper()
        if currency not in RATES:
            raise PriceError(400, f"currencyCode '{currency}' is not offered")
        meter_region = req.q("meterRegion")
        if meter_region is not None and meter_region.strip("'").lower() != "primary":
            raise PriceError(400, f"meterRegion {meter_region} is not supported")
        try:
            skip = int(req.q("$skip") or 0)
        except ValueError:
            raise PriceError(400, "$skip must be a number") from None
        expr = parse_filter(req.q("$filter") or "")
        regions = sorted(narrow(expr, "armregionname") or AZURE_REGIONS)
        sizes = sorted(narrow(expr, "armskuname") or BASE_USD)
        items = [
            item
            for region in regions
            for size in sizes
            for item in self.meters(region, size, currency)
            if expr is None or evaluate(expr, item, case_sensitive)
        ]
        page_size = int(self.state["page_size"] or PAGE_SIZE)
        page = items[skip : skip + page_size]
        next_link = None
        if skip + page_size < len(items):
            query = "&".join(
                f"{quote(k, safe='$')}={quote(v[0], safe=chr(39))}" for k, v in req.query.items() if k != "$skip" and v
            )
            next_link = f"{self.world.base_url}{API_PATH}?{query}&$skip={skip + page_size}"
        return Response(
            200,
            {
                "BillingCurrency": currency,
                "CustomerEntityId": "Default",
                "CustomerEntityType": "Retail",
                "Items": page,
                "NextPageLink": next_link,
                "Count": len(page),
            },
        )

    # -- the catalog of meters ---------------------------------------------------------------
    def meters(self, region: str, size_key: str, currency: str) -> list[dict[str, Any]]:
        """Every meter of one size in one region (Linux and Windows; on-demand, Spot, Low Priority,
        reservations), in `currency`; sizes the sandbox does not price have none."""
        from raks.vm_sizes import lookup

        size = lookup(size_key)
        if size is None or size.name.lower() not in BASE_USD:
            return []
        on_demand = self._usd(region, size.name, False)
        spot = self._usd(region, size.name, True)
        short = size.name.removeprefix("Standard_").replace("_", " ")
        series = re.sub(r"\d+", "", size.name.removeprefix("Standard_")).replace("_", "")
        rate = RATES[currency]
        out = []
        for meter in METERS:
            base = spot if meter.kind in ("Spot", "Low Priority") else on_demand
            if base is None:
                continue  # the control API removed this meter
            hourly = base + (0.046 * size.vcpus if meter.os == "Windows" else 0.0)
            reservation = meter.kind in ("1 Year", "3 Years")
            if reservation:
                hours, discount = (8760, 0.62) if meter.kind == "1 Year" else (26280, 0.4)
                hourly = hourly * hours * discount  # a reservation item's price is for the whole term
            name = f"{short} {meter.kind}".strip() if meter.kind in ("Spot", "Low Priority") else short
            product = f"Virtual Machines {series} Series" + (" Windows" if meter.os == "Windows" else "")
            price = round(hourly * rate, 6)
            item: dict[str, Any] = {
                "currencyCode": currency,
                "tierMinimumUnits": 0.0,
                "retailPrice": price,
                "unitPrice": price,
                "armRegionName": region,
                "location": region,
                "effectiveStartDate": EFFECTIVE,
                "meterId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"raks-sandbox/{region}/{size.name}/{meter}")),
                "meterName": name,
                "productId": f"SBX{_h(product) % 10**8:08d}",
                "skuId": f"SBX{_h(product) % 10**8:08d}/{_h(name) % 10**4:04d}",
                "productName": product,
                "skuName": name,
                "serviceName": "Virtual Machines",
                "serviceId": "DZH313Z7MMC8",
                "serviceFamily": "Compute",
                "unitOfMeasure": "1 Hour",
                "type": "Reservation" if reservation else "Consumption",
                "isPrimaryMeterRegion": True,
                "armSkuName": size.name,
            }
            if reservation:
                item["reservationTerm"] = meter.kind
            out.append(item)
        return out

    def _usd(self, region: str, size: str, spot: bool) -> float | None:
        key = f"{region}|{size.lower()}|{'spot' if spot else 'ondemand'}"
        overrides = self.state["overrides"]
        if key in overrides:
            value = overrides[key]
            return None if value is None else float(value)
        on_demand = BASE_USD[size.lower()] * region_factor(region)
        return round(on_demand * spot_fraction(region, size) if spot else on_demand, 4)

    # -- control -----------------------------------------------------------------------------
    def control(self, body: dict[str, Any]) -> Response:
        """{"set": [{"region", "size", "spot", "hourly" (USD, or null: no such meter)}],
        "clear": true, "fail": null | "unreachable" | "http500", "page_size": n | null (test-only)}."""
        state = self.state
        if body.get("clear"):
            state["overrides"].clear()
        for entry in body.get("set") or []:
            region, size = str(entry["region"]).lower(), str(entry["size"]).lower()
            if region not in AZURE_REGIONS:
                raise ValueError(f"unknown region {region}")
            if size not in BASE_USD:
                raise ValueError(f"the sandbox has no price for size {entry['size']}")
            hourly = entry["hourly"]
            key = f"{region}|{size}|{'spot' if entry.get('spot') else 'ondemand'}"
            state["overrides"][key] = None if hourly is None else float(hourly)
        if "fail" in body:
            if body["fail"] not in (None, "unreachable", "http500"):
                raise ValueError("fail is null, 'unreachable' or 'http500'")
            state["fail"] = body["fail"]
        if "page_size" in body:
            state["page_size"] = None if body["page_size"] is None else max(1, int(body["page_size"]))
        return Response(200, {k: state[k] for k in ("overrides", "fail", "page_size")})


# -- the $filter subset ---------------------------------------------------------------------------
_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<punct>[(),])|(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<bad>\S))")
Node = tuple[Any, ...]  # ("or"|"and", [nodes]) | ("cmp", field, op, value) | ("contains", field, value)


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            break
        pos = m.end()
        kind = m.lastgroup or "bad"
        value = m.group(kind)
        if kind == "bad":
            raise PriceError(400, f"Invalid $filter: unexpected '{value}'")
        out.append((kind, value))
    return out


def parse_filter(text: str) -> Node | None:
    if not text.strip():
        return None
    toks = _tokens(text)
    node, pos = _parse_or(toks, 0)
    if pos != len(toks):
        raise PriceError(400, f"Invalid $filter: unexpected '{toks[pos][1]}'")
    return node


def _parse_or(toks: list[tuple[str, str]], pos: int) -> tuple[Node, int]:
    parts = []
    node, pos = _parse_and(toks, pos)
    parts.append(node)
    while pos < len(toks) and toks[pos] == ("word", "or"):
        node, pos = _parse_and(toks, pos + 1)
        parts.append(node)
    return (parts[0] if len(parts) == 1 else ("or", parts)), pos


def _parse_and(toks: list[tuple[str, str]], pos: int) -> tuple[Node, int]:
    parts = []
    node, pos = _parse_term(toks, pos)
    parts.append(node)
    while pos < len(toks) and toks[pos] == ("word", "and"):
        node, pos = _parse_term(toks, pos + 1)
        parts.append(node)
    return (parts[0] if len(parts) == 1 else ("and", parts)), pos


def _expect(toks: list[tuple[str, str]], pos: int, kind: str, value: str | None = None) -> str:
    if pos >= len(toks) or toks[pos][0] != kind or (value is not None and toks[pos][1] != value):
        found = toks[pos][1] if pos < len(toks) else "end of $filter"
        raise PriceError(400, f"Invalid $filter: expected {value or kind} at '{found}'")
    return toks[pos][1]


def _field(name: str) -> str:
    if name.lower() not in FILTERABLE:
        raise PriceError(400, f"Invalid $filter: '{name}' is not a filterable field")
    return name.lower()


def _literal(token: str) -> str:
    return token[1:-1].replace("''", "'")


def _parse_term(toks: list[tuple[str, str]], pos: int) -> tuple[Node, int]:
    if pos >= len(toks):
        raise PriceError(400, "Invalid $filter: it ends too early")
    kind, value = toks[pos]
    if (kind, value) == ("punct", "("):
        node, pos = _parse_or(toks, pos + 1)
        _expect(toks, pos, "punct", ")")
        return node, pos + 1
    if kind != "word":
        raise PriceError(400, f"Invalid $filter: unexpected '{value}'")
    if value == "contains":
        _expect(toks, pos + 1, "punct", "(")
        field = _field(_expect(toks, pos + 2, "word"))
        _expect(toks, pos + 3, "punct", ",")
        text = _literal(_expect(toks, pos + 4, "str"))
        _expect(toks, pos + 5, "punct", ")")
        return ("contains", field, text), pos + 6
    if pos + 1 < len(toks) and toks[pos + 1] == ("punct", "("):
        # not(...), startswith(...), tolower(...): outside what the API takes (see the docstring).
        raise PriceError(400, f"Invalid $filter: function '{value}' is not supported")
    field = _field(value)
    op = _expect(toks, pos + 1, "word")
    if op not in ("eq", "ne"):
        raise PriceError(400, f"Invalid $filter: operator '{op}' is not supported")
    return ("cmp", field, op, _literal(_expect(toks, pos + 2, "str"))), pos + 3


def _value(item: dict[str, Any], field: str) -> str:
    return str(item.get(ITEM_FIELD.get(field, FILTERABLE[field]), ""))


def evaluate(node: Node, item: dict[str, Any], case_sensitive: bool) -> bool:
    def same(a: str, b: str) -> bool:
        return a == b if case_sensitive else a.lower() == b.lower()

    if node[0] == "or":
        return any(evaluate(n, item, case_sensitive) for n in node[1])
    if node[0] == "and":
        return all(evaluate(n, item, case_sensitive) for n in node[1])
    if node[0] == "contains":
        value, part = _value(item, node[1]), node[2]
        return part in value if case_sensitive else part.lower() in value.lower()
    _, field, op, literal = node
    equal = same(_value(item, field), literal)
    return equal if op == "eq" else not equal


def narrow(node: Node | None, field: str) -> set[str] | None:
    """The values `field` can take for `node` to hold, when a top-level `and` pins it to a list of
    `eq` literals (so only those regions/sizes are generated); None when unknown. Values are
    lower-cased: the generator's keys are; `evaluate` still applies the case rule to each item."""
    if node is None:
        return None
    conjuncts = node[1] if node[0] == "and" else [node]
    for part in conjuncts:
        options = part[1] if part[0] == "or" else [part]
        if all(o[0] == "cmp" and o[1] == field and o[2] == "eq" for o in options):
            return {o[3].lower() for o in options}
    return None
