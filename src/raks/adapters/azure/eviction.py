"""Spot eviction bands from Azure Resource Graph, for some VM sizes in some regions, in one query.

Azure publishes the eviction rate of spot VMs only as a band per (size, region), for now, in the
Resource Graph table `SpotResources`, rows of type `microsoft.compute/skuspotevictionrate/location`
with `sku.name`, `location` and `properties.evictionRate` (the query of Microsoft's "Azure Resource
Graph sample queries for Azure Spot", also used by redhat-developer/mapt `pkg/provider/azure/data`
spot.go and described at caleta.io/blog/azure-spot-eviction-history-50-days). The bands are
"0-5", "5-10", "10-15", "15-20" and "20+" (percent per hour; mapt's ordered `evictionRates`).

The query is sent at tenant scope (no `subscriptions`), as those samples do: SpotResources is data
about Azure, not about a subscription's resources, and the caleta.io study reports it must run at
tenant scope. A page holds up to 1,000 rows (the default and the maximum of `$top`); more come
with `$skipToken` (learn.microsoft.com/azure/governance/resource-graph/concepts/work-with-data and
paging-results).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from raks.adapters.azure.arm import Arm

BANDS: tuple[str, ...] = ("0-5", "5-10", "10-15", "15-20", "20+")
EVICTION_TYPE = "microsoft.compute/skuspotevictionrate/location"
MAX_PAGES = 20  # 20,000 rows: far more than every size in every region


@dataclass(frozen=True)
class EvictionRates:
    bands: dict[tuple[str, str], str] = field(default_factory=dict)  # (region, size.lower()) -> "0-5" … "20+"
    error: str | None = None

    def band(self, region: str, size: str) -> str | None:
        return self.bands.get((region.lower(), size.lower()))


def band_rank(band: str | None) -> int:
    """Sort key of an eviction band: lower evicts less; an unknown band sorts last."""
    try:
        return BANDS.index(str(band))
    except ValueError:
        return len(BANDS)


def kql_string(value: str) -> str:
    """A KQL string literal (backslash escapes, as in Kusto's string literals)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def eviction_query(regions: list[str], sizes: list[str]) -> str:
    """The one query for all regions and sizes (`in~`: Resource Graph compares case-insensitively)."""
    return " | ".join(
        [
            "SpotResources",
            f"where type =~ {kql_string(EVICTION_TYPE)}",
            f"where location in~ ({', '.join(kql_string(r) for r in regions)})",
            f"where sku.name in~ ({', '.join(kql_string(s) for s in sizes)})",
            "project skuName = tostring(sku.name), location = tostring(location), "
            "evictionRate = tostring(properties.evictionRate)",
        ]
    )


def eviction_rates(arm: Arm, regions: Iterable[str], sizes: Iterable[str]) -> EvictionRates:
    """Spot eviction bands of `sizes` in `regions`, one Resource Graph query. Never raises for a
    cloud failure other than authentication: `error` is set instead."""
    from raks.adapters.azure.errors import translate
    from raks.errors import AuthError, RaksError

    region_list = sorted({r.lower() for r in regions if r})
    size_list = sorted({s for s in sizes if s}, key=str.lower)
    if not region_list or not size_list:
        return EvictionRates()
    query = eviction_query(region_list, size_list)
    bands: dict[tuple[str, str], str] = {}
    token: str | None = None
    try:
        for _ in range(MAX_PAGES):
            page = _query_page(arm, query, token)
            for row in _rows(page.get("data")):
                region, size = str(row.get("location") or "").lower(), str(row.get("skuName") or "")
                band = str(row.get("evictionRate") or "")
                if region in region_list and band:
                    bands[(region, size.lower())] = band
            token = page.get("$skipToken") or page.get("skipToken")
            if not token:
                break
    except Exception as exc:
        err = exc if isinstance(exc, RaksError) else translate(exc, what="query spot eviction rates (Resource Graph)")
        if isinstance(err, AuthError):
            raise err from None
        return EvictionRates(bands, str(err).splitlines()[0] if str(err) else type(err).__name__)
    return EvictionRates(bands)


def _query_page(arm: Arm, query: str, skip_token: str | None) -> dict[str, Any]:
    from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

    from raks.adapters.azure.arm import to_wire

    options = QueryRequestOptions(result_format="objectArray", top=1000, skip_token=skip_token)
    return to_wire(arm.graph_client().resources(QueryRequest(query=query, options=options)))


def _rows(data: Any) -> list[dict[str, Any]]:
    """objectArray rows; a `table` answer ({columns, rows}) is turned into the same shape."""
    if isinstance(data, list):
        return [r for r in data if isinstance(r, dict)]
    if isinstance(data, dict) and "columns" in data:
        names = [c.get("name") for c in data.get("columns") or []]
        return [dict(zip(names, row, strict=False)) for row in data.get("rows") or []]
    return []
