"""VM prices from the Azure Retail Prices API, and spot eviction bands from Azure Resource Graph.

CONTRACT (agreed between the two helpers of issue 16; the data helper implements the bodies, the
consumer helper only calls these names). Keep the names and fields; add, do not rename.
The eviction half lives in `raks.adapters.azure.eviction` and is re-exported here.

What the Retail Prices API is, as used here (Microsoft Learn, "Azure Retail Prices overview",
learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices):
- `GET https://prices.azure.com/api/retail/prices`, public: no credential, so none is sent;
- `api-version=2023-01-01-preview` (the page's current version; it also returns the full set of
  meters unless `meterRegion='primary'` is given, which we give). In it, $filter VALUES are
  case-sensitive ("Filter values are case-sensitive ... in the 2023-01-01-preview version and
  later"), so sizes go out as Azure spells them (`Standard_NC24ads_A100_v4`) and regions lower-case;
- the currency is a query parameter `currencyCode='EUR'`, not part of $filter (the page's examples;
  inside $filter it silently returns nothing: ahmadabdalla/azure-cost-calculator#611);
- the envelope is {BillingCurrency, CustomerEntityId, CustomerEntityType, Items[], NextPageLink,
  Count} (as Learn Q&A 348412 quotes an answer); a page holds at most 1,000 items and NextPageLink
  (a full URL with `$skip`) is null on the last page (the page's "API response pagination"; Learn
  Q&A 1188465 shows the link form; openops-cloud/openops#2330 pages by $skip steps of 1,000);
- $filter takes `eq`, `and`, `or` with parentheses and `contains()`, not `not(...)`: that is a 400
  (ahmadabdalla/azure-cost-calculator#894; grafana/cloudcost-exporter#885 "The NOT operator is not
  supported"), so Windows and Low Priority meters are dropped here, not in the filter;
- items: retailPrice (per unitOfMeasure "1 Hour"), armRegionName, armSkuName, meterName, skuName,
  productName, serviceName, type ("Consumption"), effectiveStartDate, currencyCode. Windows meters
  have "Windows" in productName ("Virtual Machines Dv5 Series Windows"); spot meters end in " Spot"
  in meterName/skuName ("D8 v5 Spot"); "Low Priority" meters are the older kind, superseded by
  spot (learn.microsoft.com/azure/virtual-machines/spot-vms), and are not used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

# The eviction half of the contract (kept importable from here).
from raks.adapters.azure.eviction import BANDS as BANDS
from raks.adapters.azure.eviction import EvictionRates as EvictionRates
from raks.adapters.azure.eviction import band_rank as band_rank
from raks.adapters.azure.eviction import eviction_rates as eviction_rates

if TYPE_CHECKING:
    from raks.adapters.azure.target import AzureTarget

# The "Supported currencies" table of the Learn page above (USD is the default and Microsoft's
# own pricing currency; the others are estimates at the current exchange rate).
CURRENCIES: tuple[str, ...] = (
    "USD", "AUD", "BRL", "CAD", "CHF", "CNY", "DKK", "EUR", "GBP", "INR", "JPY", "KRW", "NOK", "NZD",
    "RUB", "SEK", "TWD",
)  # fmt: skip

API_PATH = "/api/retail/prices"
API_VERSION = "2023-01-01-preview"
PAGE_SIZE = 1000  # items per page (see the module docstring)
# Consumption meters one (region, size) pair has: Linux and Windows, each on-demand, Spot and Low
# Priority. A query asks for at most PAIRS_PER_QUERY pairs so that its answer fits in one page
# (pages of one query are sequential; separate queries run in parallel).
METERS_PER_PAIR = 6
PAIRS_PER_QUERY = PAGE_SIZE // (METERS_PER_PAIR + 2)  # a margin for extra meters
MAX_PARALLEL = 8
# Prices are an extra on plan and status: a host that does not answer must not hold them long.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 20.0


@dataclass(frozen=True)
class VmPrice:
    region: str  # armRegionName, lower case
    size: str  # armSkuName as Azure spells it
    spot: bool
    hourly: float  # retailPrice of one hour, Linux, in `currency`
    currency: str
    effective: str  # effectiveStartDate, ISO date


@dataclass(frozen=True)
class PriceSheet:
    currency: str
    source: str  # e.g. "Azure Retail Prices API (prices.azure.com, api-version 2023-01-01-preview)"
    fetched_at: str  # ISO-8601 UTC time of the read
    prices: dict[tuple[str, str, bool], VmPrice] = field(default_factory=dict)  # (region, size.lower(), spot)
    error: str | None = None  # set when the API could not be reached or answered: callers go on without prices

    def price(self, region: str, size: str, spot: bool) -> VmPrice | None:
        return self.prices.get((region.lower(), size.lower(), spot))


def vm_prices(target: AzureTarget, regions: Iterable[str], sizes: Iterable[str], currency: str = "USD") -> PriceSheet:
    """On-demand and spot hourly Linux prices of `sizes` in `regions`. Never raises for a network or
    HTTP failure: the sheet carries `error` instead. Wall time: at most two round trips for 6 regions."""
    region_list = sorted({r.lower() for r in regions if r})
    size_list = sorted({_azure_spelling(s) for s in sizes if s}, key=str.lower)
    base = getattr(target, "prices_url", "") or "https://prices.azure.com"
    host = urlsplit(base).hostname or base
    sheet_source = f"Azure Retail Prices API ({host}, api-version {API_VERSION})"
    fetched = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    currency = currency.upper()
    if currency not in CURRENCIES:
        # Callers validate the flag first; this keeps a bad value from reaching the API.
        return PriceSheet(currency, sheet_source, fetched, error=f"currency '{currency}' is not one the API offers")
    if not region_list or not size_list:
        return PriceSheet(currency, sheet_source, fetched)
    per_query = max(1, PAIRS_PER_QUERY // len(size_list))
    chunks = [region_list[i : i + per_query] for i in range(0, len(region_list), per_query)]
    client = _client(target, base)
    urls = [first_page_url(base, chunk, size_list, currency) for chunk in chunks]
    wanted_sizes = {s.lower() for s in size_list}
    wanted_regions = set(region_list)
    prices: dict[tuple[str, str, bool], VmPrice] = {}
    errors: list[str] = []
    try:
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(urls)), thread_name_prefix="raks-prices") as pool:
            results = list(pool.map(lambda url: _read_all(client, url, base, host), urls))
    finally:
        client.close()
    for items, error in results:
        if error:
            errors.append(error)
        for item in items:
            price = _vm_price(item, currency)
            if price is None or price.region not in wanted_regions or price.size.lower() not in wanted_sizes:
                continue
            key = (price.region, price.size.lower(), price.spot)
            # Several effective dates of one meter: the latest one is today's price.
            if key not in prices or price.effective > prices[key].effective:
                prices[key] = price
    return PriceSheet(currency, sheet_source, fetched, prices, errors[0] if errors else None)


# -- the query ----------------------------------------------------------------------------------
def odata_string(value: str) -> str:
    """An OData string literal: quotes doubled (OData ABNF `SQUOTE-in-string`)."""
    return "'" + value.replace("'", "''") + "'"


def price_filter(regions: list[str], sizes: list[str]) -> str:
    """serviceName, priceType, and the regions and sizes as `or` groups (one page for the lot)."""

    def any_of(name: str, values: list[str]) -> str:
        terms = [f"{name} eq {odata_string(v)}" for v in values]
        return terms[0] if len(terms) == 1 else "(" + " or ".join(terms) + ")"

    return " and ".join(
        [
            "serviceName eq 'Virtual Machines'",
            "priceType eq 'Consumption'",
            any_of("armRegionName", regions),
            any_of("armSkuName", sizes),
        ]
    )


def first_page_url(base: str, regions: list[str], sizes: list[str], currency: str) -> str:
    query = "&".join(
        [
            f"api-version={API_VERSION}",
            f"currencyCode={quote(odata_string(currency))}",
            f"meterRegion={quote(odata_string('primary'))}",
            "$filter=" + quote(price_filter(regions, sizes), safe="'()"),
        ]
    )
    return f"{base.rstrip('/')}{API_PATH}?{query}"


# -- transport ----------------------------------------------------------------------------------
def _client(target: AzureTarget, base: str) -> Any:
    """azure-core's pipeline without a credential policy (the API is public: no token is sent),
    retrying 408/429/5xx with Retry-After honoured (azure-core RetryPolicy), a refused or failed
    connection only once (an unreachable API costs about one back-off, not four)."""
    from azure.core import PipelineClient
    from azure.core.exceptions import AzureError  # noqa: F401 - loaded before the worker threads use it
    from azure.core.pipeline.policies import HeadersPolicy, RetryPolicy, UserAgentPolicy
    from azure.core.pipeline.transport import RequestsTransport
    from azure.core.rest import HttpRequest  # noqa: F401 - loaded before the worker threads use it

    backoff = target.retry_backoff_factor if target.retry_backoff_factor is not None else 0.8
    transport_kw: dict[str, Any] = {"connection_timeout": CONNECT_TIMEOUT, "read_timeout": READ_TIMEOUT}
    if target.ca_bundle:
        transport_kw["connection_verify"] = target.ca_bundle
    return PipelineClient(
        base,
        policies=[
            HeadersPolicy({"Accept": "application/json"}),
            UserAgentPolicy(sdk_moniker="raks-prices"),
            RetryPolicy(retry_total=3, retry_connect=1, retry_read=2, retry_backoff_factor=backoff),
        ],
        transport=RequestsTransport(**transport_kw),
    )


def _read_all(client: Any, url: str, base: str, host: str) -> tuple[list[dict[str, Any]], str | None]:
    """Every page of one query: (items, None), or what was read before a failure and its reason."""
    from azure.core.exceptions import AzureError
    from azure.core.rest import HttpRequest

    items: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        try:
            resp = client.send_request(HttpRequest("GET", next_url))
        except AzureError as exc:
            return items, f"{host} unreachable: {_first_line(exc)}"
        except Exception as exc:  # e.g. an unreadable CA bundle: still a note, never a crash
            return items, f"{host} unreachable: {type(exc).__name__}: {_first_line(exc)}"
        if resp.status_code != 200:
            return items, f"HTTP {resp.status_code} from {host}: {_first_line(resp.reason or '')}".rstrip(": ")
        try:
            page = resp.json()
        except ValueError:
            page = None
        if not isinstance(page, dict):
            return items, f"{host} answered something that is not a price list"
        items.extend(i for i in page.get("Items") or [] if isinstance(i, dict))
        next_url = page.get("NextPageLink") or None
        if next_url and not _same_origin(next_url, base):
            return items, f"{host} sent a NextPageLink to another host; not followed"
    return items, None


def _same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return a.scheme == b.scheme and a.hostname == b.hostname and (a.port or 443) == (b.port or 443)


def _vm_price(item: dict[str, Any], currency: str) -> VmPrice | None:
    """The item as a Linux on-demand or spot hourly price, or None for any other meter."""
    meter = f"{item.get('meterName') or ''}|{item.get('skuName') or ''}"
    if item.get("type") != "Consumption" or item.get("unitOfMeasure") != "1 Hour":
        return None
    if "Windows" in str(item.get("productName") or "") or "Low Priority" in meter:
        return None
    try:
        hourly = float(item["retailPrice"])
        region, size = str(item["armRegionName"]).lower(), str(item["armSkuName"])
    except (KeyError, TypeError, ValueError):
        return None
    spot = str(item.get("meterName") or "").endswith(" Spot") or str(item.get("skuName") or "").endswith(" Spot")
    return VmPrice(
        region=region,
        size=size,
        spot=spot,
        hourly=hourly,
        currency=str(item.get("currencyCode") or currency),
        effective=str(item.get("effectiveStartDate") or "")[:10],
    )


def _azure_spelling(size: str) -> str:
    """The size as Azure spells it when raks knows it (filter values are case-sensitive, and a
    raks.yaml may say standard_nd96asr_v4)."""
    from raks.vm_sizes import lookup

    known = lookup(size)
    return known.name if known else size


def _first_line(value: Any) -> str:
    text = str(value).strip()
    return text.splitlines()[0][:200] if text else type(value).__name__
