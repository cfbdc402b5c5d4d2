"""Spot eviction bands: raks' Resource Graph query (azure-mgmt-resourcegraph) against the emulated
`POST /providers/Microsoft.ResourceGraph/resources`.

What a user relies on: the band of every (region, size) asked for, in one request however many
there are; a size Azure has no band for shows none; a Resource Graph outage is a note, a refused
credential an error; and the sandbox refuses queries it does not really answer.
"""

from __future__ import annotations

from typing import Any

import pytest

from helpers.azure_clients import StaticToken
from helpers.requests_log import writes
from raks.adapters.azure.arm import Arm
from raks.adapters.azure.prices import band_rank, eviction_rates
from raks.cli.cloud import sandbox_target_from
from raks.errors import AuthError

A100 = "Standard_ND96asr_v4"
T4 = "Standard_NC16as_T4_v3"


@pytest.fixture
def arm(endpoints) -> Arm:
    return Arm(sandbox_target_from(endpoints, "test-token"))


def graph_requests(control) -> list[dict[str, Any]]:
    return [e for e in control.requests() if e["path"].lower() == "/providers/microsoft.resourcegraph/resources"]


def test_two_regions_two_sizes_in_one_request(arm, control):
    control.spot(
        set=[
            {"region": "eastus", "size": A100, "band": "0-5"},
            {"region": "eastus", "size": T4, "band": "20+"},
            {"region": "westeurope", "size": A100, "band": "10-15"},
            {"region": "westeurope", "size": T4, "band": None},  # Azure publishes no band for it
        ]
    )
    rates = eviction_rates(arm, ["eastus", "WestEurope"], [A100, T4.lower()])

    assert rates.error is None
    assert rates.bands == {
        ("eastus", A100.lower()): "0-5",
        ("eastus", T4.lower()): "20+",
        ("westeurope", A100.lower()): "10-15",
    }
    assert rates.band("EastUS", A100) == "0-5" and rates.band("westeurope", T4) is None
    (query,) = graph_requests(control)
    assert query["method"] == "POST" and query["status"] == 200
    assert query["query"]["api-version"] == "2021-03-01"
    assert writes(control.requests()) == []  # a Resource Graph query is a read


def test_rows_beyond_a_page_are_followed_with_the_skip_token(arm, control):
    control.spot(page_size=2)  # TEST-ONLY: Resource Graph pages at 1,000 rows
    rates = eviction_rates(arm, ["eastus", "westus2", "uksouth"], [A100, T4])
    assert rates.error is None and len(rates.bands) == 6
    assert len(graph_requests(control)) == 3


def test_an_outage_is_a_note(arm, control):
    control.spot(fail="http500")
    rates = eviction_rates(arm, ["eastus"], [A100])
    assert rates.bands == {} and rates.error and "\n" not in rates.error


def test_a_refused_credential_is_an_auth_error(arm, control):
    control.spot(fail="forbidden")
    with pytest.raises(AuthError):
        eviction_rates(arm, ["eastus"], [A100])


def test_band_rank_orders_bands_and_puts_unknown_last():
    bands = ["20+", None, "5-10", "0-5", "15-20", "10-15", "weird"]
    assert sorted(bands, key=band_rank)[:5] == ["0-5", "5-10", "10-15", "15-20", "20+"]
    assert band_rank(None) == band_rank("weird") > band_rank("20+")


def _client(endpoints: dict[str, Any]) -> Any:
    from azure.mgmt.resourcegraph import ResourceGraphClient

    return ResourceGraphClient(
        StaticToken(),
        base_url=endpoints["arm"],
        connection_verify=endpoints["ca_bundle"],
        credential_scopes=["https://management.azure.com/.default"],
        retry_backoff_factor=0.01,
    )


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("Resources | project name", "InvalidQueryLanguage"),  # a table the sandbox does not hold
        ("SpotResources | summarize count() by location", "InvalidQueryLanguage"),
        ("SpotResources | where type ~~ 'x'", "ParserFailure"),
        ("SpotResources | where location in~ ('eastus'", "ParserFailure"),
    ],
)
def test_queries_outside_the_subset_are_refused_like_resource_graph(endpoints, query, detail):
    from azure.core.exceptions import HttpResponseError
    from azure.mgmt.resourcegraph.models import QueryRequest

    with pytest.raises(HttpResponseError) as caught:
        _client(endpoints).resources(QueryRequest(query=query))
    err = caught.value
    assert err.status_code == 400
    assert err.error.code == "BadRequest"
    assert [d.code for d in err.error.details] == ["InvalidQuery", detail]


def test_the_subset_answers_in_the_documented_shape(endpoints, control):
    from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

    control.set_eviction_band("eastus", A100, "5-10")
    result = _client(endpoints).resources(
        QueryRequest(
            query="SpotResources | where type =~ 'Microsoft.Compute/skuSpotEvictionRate/location' "
            f"and location == 'eastus' | where sku.name in~ ('{A100.upper()}') "
            "| project location, rate = tostring(properties.evictionRate)",
            options=QueryRequestOptions(result_format="objectArray"),
        )
    )
    assert result.total_records == 1 and result.count == 1 and result.result_truncated == "false"
    assert result.data == [{"location": "eastus", "rate": "5-10"}] and result.facets == []


def test_an_api_version_resource_graph_does_not_have_is_refused(endpoints):
    from azure.core.exceptions import HttpResponseError
    from azure.mgmt.resourcegraph.models import QueryRequest

    with pytest.raises(HttpResponseError) as caught:
        _client(endpoints).resources(QueryRequest(query="SpotResources"), api_version="2031-01-01")
    assert caught.value.status_code == 400 and caught.value.error.code == "NoRegisteredProviderFound"
