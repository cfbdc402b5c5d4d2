"""VM prices: raks' Retail Prices client (azure-core over HTTPS) against the emulated API.

What a user relies on: the hourly figure shown is the Linux one, on-demand and spot apart, in the
currency asked for, complete however many pages the answer takes, fetched without a credential, and
a price API that cannot be reached leaves a note instead of an error.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from raks.adapters.azure.prices import CURRENCIES, vm_prices
from raks.cli.cloud import sandbox_target_from
from raks.sandbox.prices import RATES

SIX = ["uksouth", "swedencentral", "westeurope", "eastus", "westus2", "southcentralus"]
SIZES = ["Standard_D8_v5", "Standard_D16_v5", "Standard_ND96asr_v4"]
A100 = "Standard_ND96asr_v4"


@pytest.fixture
def target(endpoints):
    return sandbox_target_from(endpoints, "test-token")


def price_requests(control) -> list[dict[str, Any]]:
    return [e for e in control.requests() if e["api"] == "prices"]


def raw_get(endpoints: dict[str, Any], **params: str) -> tuple[int, Any]:
    """The emulated API over plain HTTPS, as curl would call it."""
    url = f"{endpoints['prices']}/api/retail/prices?" + urllib.parse.urlencode(params, safe="$'")
    ctx = ssl.create_default_context(cafile=endpoints["ca_bundle"])
    try:
        with urllib.request.urlopen(url, context=ctx, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def test_linux_on_demand_and_spot_apart_windows_and_low_priority_ignored(target, control, endpoints):
    control.set_price("eastus", A100, spot=False, hourly=20.0)
    control.set_price("eastus", A100, spot=True, hourly=6.0)
    # The API answers Windows and Low Priority meters of the same size too (listed before the
    # Linux ones), so only raks' own filtering keeps them out.
    status, body = raw_get(
        endpoints,
        **{"$filter": f"armRegionName eq 'eastus' and armSkuName eq '{A100}' and priceType eq 'Consumption'"},
    )
    assert status == 200
    names = {(i["productName"].endswith("Windows"), i["meterName"]) for i in body["Items"]}
    assert (True, "ND96asr v4") in names and (False, "ND96asr v4 Low Priority") in names

    sheet = vm_prices(target, ["eastus"], [A100])

    assert sheet.error is None
    assert sheet.price("eastus", A100, spot=False).hourly == pytest.approx(20.0)
    assert sheet.price("eastus", A100, spot=True).hourly == pytest.approx(6.0)
    assert sheet.price("EastUS", A100.lower(), spot=True).size == A100  # keys are case-insensitive
    assert sheet.price("eastus", A100, spot=True).effective == "2025-01-01"


def test_a_size_spelt_in_lower_case_is_still_priced(target, control):
    # Filter values are case-sensitive in api-version 2023-01-01-preview: raks sends Azure's spelling.
    control.set_price("eastus", A100, spot=False, hourly=20.0)
    sheet = vm_prices(target, ["eastus"], [A100.lower()])
    assert sheet.price("eastus", A100, spot=False).hourly == pytest.approx(20.0)
    (sent,) = price_requests(control)
    assert f"armSkuName eq '{A100}'" in sent["query"]["$filter"]


def test_every_catalog_size_has_sandbox_prices_and_bands():
    from raks.sandbox import catalog
    from raks.sandbox.prices import BASE_USD

    assert set(BASE_USD) == set(catalog.VM_SIZES)


def test_a_meter_the_api_lacks_is_absent_not_zero(target, control):
    control.set_price("westus2", A100, spot=True, hourly=None)
    sheet = vm_prices(target, ["westus2"], [A100])
    assert sheet.price("westus2", A100, spot=True) is None
    assert sheet.price("westus2", A100, spot=False) is not None


def test_currency_is_asked_for_and_honoured(target, control):
    control.set_price("uksouth", "Standard_D8_v5", spot=False, hourly=1.0)

    usd = vm_prices(target, ["uksouth"], ["Standard_D8_v5"])
    eur = vm_prices(target, ["uksouth"], ["Standard_D8_v5"], "eur")

    assert usd.currency == "USD" and eur.currency == "EUR"
    on_demand = eur.price("uksouth", "Standard_D8_v5", spot=False)
    assert on_demand.currency == "EUR"
    assert on_demand.hourly == pytest.approx(RATES["EUR"] * 1.0)
    sent = [e["query"].get("currencyCode") for e in price_requests(control)]
    assert sent == ["'USD'", "'EUR'"]
    assert set(RATES) == set(CURRENCIES)  # the sandbox converts to exactly the currencies raks offers


def test_every_page_is_read(target, control):
    # TEST-ONLY knob: the real API pages at 1,000 items; 5 makes 18 (region, size) pairs x 6
    # Consumption meters span 22 pages.
    control.prices(page_size=5)
    sheet = vm_prices(target, SIX, SIZES)
    assert sheet.error is None
    assert len(sheet.prices) == len(SIX) * len(SIZES) * 2
    assert {r for r, _, _ in sheet.prices} == set(SIX)
    pages = price_requests(control)
    assert len(pages) == 22
    assert [int(e["query"].get("$skip", 0)) for e in pages] == list(range(0, 110, 5))


def test_six_regions_and_all_pool_sizes_are_one_request(target, control):
    sheet = vm_prices(target, SIX, SIZES)
    assert len(sheet.prices) == len(SIX) * len(SIZES) * 2
    (only,) = price_requests(control)
    assert only["status"] == 200


def test_every_region_is_split_into_parallel_one_page_queries(tmp_path):
    from raks.regions import AZURE_REGIONS
    from raks.sandbox.client import SandboxControl
    from raks.sandbox.runner import Sandbox

    # Each answer is held `hold` seconds after the request arrived, as a round trip to Azure would:
    # a query sent only after the other's answer arrives later than `hold` after that one was handled.
    sandbox = Sandbox(tmp_path / "sandbox", "azure:2")
    endpoints = sandbox.start()
    try:
        hold = sandbox.world.profile.seconds("request")
        control = SandboxControl(endpoints)
        sizes = [*SIZES, "Standard_NC24ads_A100_v4"]
        sheet = vm_prices(sandbox_target_from(endpoints, "test-token"), sorted(AZURE_REGIONS), sizes)
        assert sheet.error is None
        assert len(sheet.prices) == len(AZURE_REGIONS) * len(sizes) * 2
        queries = price_requests(control)
    finally:
        sandbox.stop()
    assert hold > 0.1
    assert len(queries) == 2 and not any("$skip" in e["query"] for e in queries)
    first, second = sorted(queries, key=lambda e: e["start"])
    assert second["start"] < first["end"] + hold, "the second query waited for the first one's answer"


def test_no_credential_is_sent(target, control):
    vm_prices(target, ["eastus"], SIZES)
    assert [e["credential"] for e in price_requests(control)] == ["none"]


@pytest.mark.parametrize(
    ("fail", "expected"), [("unreachable", "127.0.0.1 unreachable: "), ("http500", "HTTP 500 from 127.0.0.1")]
)
def test_a_failing_api_gives_a_note_not_an_exception(target, control, fail, expected):
    control.prices(fail=fail)
    sheet = vm_prices(target, SIX, SIZES)
    assert sheet.prices == {}
    assert sheet.error is not None and sheet.error.startswith(expected)
    assert "\n" not in sheet.error
    control.prices(fail=None)
    assert vm_prices(target, SIX, SIZES).error is None


def test_a_host_that_does_not_answer_gives_a_note(target):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    target.prices_url = f"https://127.0.0.1:{port}"
    sheet = vm_prices(target, ["eastus"], SIZES)
    assert sheet.prices == {} and sheet.error.startswith("127.0.0.1 unreachable: ")


def test_an_unknown_currency_is_refused_without_a_request(target, control):
    sheet = vm_prices(target, ["eastus"], SIZES, "XYZ")
    assert sheet.error and "XYZ" in sheet.error
    assert price_requests(control) == []


@pytest.mark.parametrize(
    "flt",
    [
        "serviceName eq 'Virtual Machines' and not(contains(productName, 'Windows'))",
        "serviceName eq 'Virtual Machines' and retailPrice lt 5",
        "nonsense eq 'x'",
        "serviceName eq 'Virtual Machines' and",
        "startswith(armSkuName, 'Standard_N')",
    ],
)
def test_filters_outside_the_api_grammar_are_refused(endpoints, flt):
    status, body = raw_get(endpoints, **{"$filter": flt})
    assert status == 400
    assert body["Error"]["Code"] == "BadRequest"


def test_filter_values_are_case_sensitive_from_2023_01_01_preview(endpoints):
    flt = "armRegionName eq 'eastus' and armSkuName eq 'standard_d8_v5' and priceType eq 'Consumption'"
    status, strict = raw_get(endpoints, **{"api-version": "2023-01-01-preview", "$filter": flt})
    assert status == 200 and strict["Count"] == 0 and strict["NextPageLink"] is None
    status, lenient = raw_get(endpoints, **{"$filter": flt})
    assert status == 200 and lenient["Count"] == 6
    assert {k for k in lenient if k != "Items"} == {
        "BillingCurrency",
        "CustomerEntityId",
        "CustomerEntityType",
        "NextPageLink",
        "Count",
    }
