"""What a deployment costs per hour, in `raks plan` and `raks status`: per region and in total, at the
pools' min and max counts (status: and now), spot and on-demand apart, from the prices the sandbox's
Retail Prices API serves (set through its control API). Without prices, plan and status still work."""

from __future__ import annotations

import json

import pytest
import yaml
from jsonschema import Draft202012Validator

from helpers.ci import REPO

RG = "aks-anyscale-rg"
REGIONS = ["uksouth", "swedencentral"]
D8, D16, ND96 = "Standard_D8_v5", "Standard_D16_v5", "Standard_ND96asr_v4"
# The reference pools: sys 3 × D8 (3..3), cpu D16 (3..6), a100 spot ND96asr (0..3).
PRICES = {
    "uksouth": {(D8, False): 0.5, (D16, False): 1.0, (ND96, True): 10.0},
    "swedencentral": {(D8, False): 0.4, (D16, False): 0.8, (ND96, True): 8.0},
}


def set_prices(served, fail: str | None = None) -> None:
    entries = [
        {"region": r, "size": size, "spot": spot, "hourly": h}
        for r, p in PRICES.items()
        for (size, spot), h in p.items()
    ]
    served.control.prices(set=entries, fail=fail)


def valid(command: str, text: str) -> dict:
    doc = json.loads(text)
    schema = json.loads((REPO / "schemas" / f"{command}.schema.json").read_text())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft202012Validator(schema).iter_errors(doc)]
    assert errors == [], errors
    return doc


def hourly(spot: float, on_demand: float) -> dict[str, float]:
    return {"spot": spot, "on_demand": on_demand, "total": round(spot + on_demand, 4)}


def test_plan_shows_min_and_max_cost_per_region_and_in_total(served, capsys):
    set_prices(served)
    code, out, err = served.raks(capsys, "-o", "json", "plan", "--regions", *REGIONS)
    assert code == 0, err
    cost = valid("plan", out)["cost"]
    assert (cost["currency"], cost["available"]) == ("USD", True)
    assert cost["source"].startswith("Azure Retail Prices API") and cost["fetched_at"]
    regions = {r["region"]: r for r in cost["regions"]}
    # uksouth: min 3 × 0.5 + 3 × 1.0 on-demand; max 3 × 0.5 + 6 × 1.0 on-demand + 3 × 10 spot.
    assert (regions["uksouth"]["min"], regions["uksouth"]["max"]) == (hourly(0.0, 4.5), hourly(30.0, 7.5))
    assert (regions["swedencentral"]["min"], regions["swedencentral"]["max"]) == (hourly(0.0, 3.6), hourly(24.0, 6.0))
    assert cost["total"] == {"min": hourly(0.0, 8.1), "max": hourly(54.0, 13.5)}
    a100 = next(p for p in regions["uksouth"]["pools"] if p["pool"] == "a100")
    assert a100 == {"pool": "a100", "vm_size": ND96, "spot": True, "hourly_price": 10.0, "min": 0, "max": 3}

    code, out, err = served.raks(capsys, "plan", "--regions", *REGIONS)
    assert code == 0, err
    lines = out.splitlines()
    at = next(i for i, x in enumerate(lines) if x.startswith("Cost per hour in USD (Azure Retail Prices API"))
    assert "read " in lines[at] and "disks, network and the AKS tier fee excluded" in lines[at + 1]
    assert lines[at + 2].split() == ["REGION", "AT", "MIN", "ON-DEMAND", "SPOT", "TOTAL", "AT", "MAX", "ON-DEMAND",
                                     "SPOT", "TOTAL"]  # fmt: skip
    assert lines[at + 3].split() == ["uksouth", "4.50", "0.00", "4.50", "7.50", "30.00", "37.50"]
    assert lines[at + 4].split() == ["swedencentral", "3.60", "0.00", "3.60", "6.00", "24.00", "30.00"]
    assert lines[at + 5].split() == ["total", "8.10", "0.00", "8.10", "13.50", "54.00", "67.50"]


def test_a_size_without_a_price_is_named_and_left_out(served, capsys):
    set_prices(served)
    served.control.set_price("uksouth", ND96, spot=True, hourly=None)
    code, out, err = served.raks(capsys, "plan", "--regions", "uksouth")
    assert code == 0, err
    assert f"  no spot price listed for {ND96} in uksouth: pool a100 is left out" in out
    assert next(x for x in out.splitlines() if x.startswith("  uksouth ")).split()[-1] == "7.50"


def test_plan_in_euros_by_flag_and_by_raks_yaml(served, capsys, tmp_path):
    set_prices(served)
    code, out, err = served.raks(capsys, "-o", "json", "plan", "--regions", "uksouth", "--currency", "EUR")
    assert code == 0, err
    cost = valid("plan", out)["cost"]
    # The sandbox converts its USD figures at a fixed 0.92.
    assert cost["currency"] == "EUR" and cost["total"]["max"] == hourly(27.6, 6.9)
    (tmp_path / "raks.yaml").write_text(yaml.safe_dump({"currency": "EUR", "regions": ["uksouth"]}))
    code, out, err = served.raks(capsys, "plan")
    assert code == 0, err
    assert "Cost per hour in EUR (" in out


@pytest.mark.parametrize("fail", ["unreachable", "http500"])
def test_plan_without_the_price_api_works_and_says_so(served, capsys, fail):
    set_prices(served)
    code_with, _out, _ = served.raks(capsys, "plan", "--regions", *REGIONS, "--detailed-exitcode")
    set_prices(served, fail=fail)
    code, out, err = served.raks(capsys, "plan", "--regions", *REGIONS, "--detailed-exitcode")
    assert code == code_with == 10, err  # changes to make: the price API changes nothing about it
    assert "Plan: " in out
    notes = [x for x in out.splitlines() if x.startswith("Cost: unavailable, prices could not be read (")]
    assert len(notes) == 1 and "Cost per hour" not in out
    code, out, err = served.raks(capsys, "-o", "json", "plan", "--regions", *REGIONS)
    assert code == 0, err
    cost = valid("plan", out)["cost"]
    assert cost["available"] is False and cost["error"] and "regions" not in cost
    assert "Cost: unavailable" in err


def test_status_shows_the_cost_now_and_at_min_and_max(served, capsys, tmp_path):
    (tmp_path / "raks.yaml").write_text(yaml.safe_dump({"platform": "kuberay", "regions": REGIONS}))
    code, _out, err = served.raks(capsys, "up", "--yes")
    assert code == 0, err
    az = served.clients()
    served.control.scale_pool(az.aks.agent_pools.get(RG, "aks-uksouth", "a100").id, 2)  # the autoscaler adds two
    set_prices(served)
    code, out, err = served.raks(capsys, "-o", "json", "status")
    assert code == 0, err
    cost = valid("status", out)["cost"]
    regions = {r["region"]: r for r in cost["regions"]}
    uk = regions["uksouth"]
    assert (uk["current"], uk["min"], uk["max"]) == (hourly(20.0, 4.5), hourly(0.0, 4.5), hourly(30.0, 7.5))
    assert regions["swedencentral"]["current"] == hourly(0.0, 3.6)
    assert cost["total"]["current"] == hourly(20.0, 8.1)
    assert next(p for p in uk["pools"] if p["pool"] == "a100")["nodes"] == 2

    code, out, err = served.raks(capsys, "status", "--currency", "EUR")
    assert code == 0, err
    lines = out.splitlines()
    at = next(i for i, x in enumerate(lines) if x.startswith("Cost per hour in EUR ("))
    assert lines[at + 2].split()[-4:] == ["NOW", "ON-DEMAND", "SPOT", "TOTAL"]
    assert lines[at + 3].split()[0] == "uksouth" and lines[at + 3].split()[-3:] == ["4.14", "18.40", "22.54"]

    set_prices(served, fail="unreachable")
    code, out, err = served.raks(capsys, "status")
    assert code == 0, err
    assert "Cost: unavailable, prices could not be read (" in out


@pytest.mark.parametrize(
    ("argv", "yaml_text", "field"),
    [
        (("plan",), "currency: XYZ\n", "currency: 'XYZ' is not a currency the Azure Retail Prices API offers"),
        (("plan", "--currency", "dollars"), None, "--currency: 'dollars' is not a currency"),
        (("status", "--currency", "XYZ"), None, "--currency: 'XYZ' is not a currency"),
        (("regions", "--gpu", ND96, "--currency", "XYZ"), None, "--currency: 'XYZ' is not a currency"),
    ],
)
def test_a_bad_currency_exits_2_naming_the_field_with_zero_requests(served, capsys, tmp_path, argv, yaml_text, field):
    if yaml_text:
        (tmp_path / "raks.yaml").write_text(yaml_text)
    code, _out, err = served.raks(capsys, *argv)
    assert code == 2, err
    lines = [x for x in err.splitlines() if field in x]
    assert len(lines) == 1 and "USD" in lines[0] and "EUR" in lines[0], err
    assert served.control.requests() == [], "a request reached the cloud before the currency was checked"
