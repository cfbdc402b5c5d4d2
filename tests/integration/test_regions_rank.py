"""`raks regions --gpu SIZE` and `--regions auto:N`: one ranking rule (fits, then cost per hour,
then spot eviction band, then name), prices and bands set through the sandbox's control API and
read by raks with its real clients (Retail Prices API over HTTPS, Resource Graph SDK)."""

from __future__ import annotations

import json

import yaml
from jsonschema import Draft202012Validator

from helpers.ci import REPO

A100 = "Standard_NC24ads_A100_v4"  # 24 vCPUs
ND96 = "Standard_ND96asr_v4"  # 96 vCPUs, the reference spot GPU pool (max 3)


def set_prices(served, *entries: tuple[str, str, bool, float | None], fail: str | None = None) -> None:
    """(region, size, spot, USD per hour or None: no meter) through the control API."""
    served.control.prices(
        set=[{"region": r, "size": s, "spot": spot, "hourly": h} for r, s, spot, h in entries], fail=fail
    )


def set_bands(served, *entries: tuple[str, str, str | None]) -> None:
    served.control.spot(set=[{"region": r, "size": s, "band": b} for r, s, b in entries])


def valid_regions_doc(text: str) -> dict:
    doc = json.loads(text)
    schema = json.loads((REPO / "schemas" / "regions.schema.json").read_text())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft202012Validator(schema).iter_errors(doc)]
    assert errors == [], errors
    assert (doc["schema_version"], doc["command"]) == (2, "regions")
    return doc


def test_regions_rank_fit_first_then_cost_then_eviction_band(served, capsys):
    # The cheapest region cannot hold 2 nodes (24 spot vCPUs free: one node).
    served.control.set_capacity("westeurope", quota={"lowPriorityCores": 24})
    served.control.set_capacity("northeurope", restricted=[A100])
    set_prices(
        served,
        ("westeurope", A100, True, 0.05),
        ("centralus", A100, True, 0.20),
        ("eastus", A100, True, 0.20),
        ("northeurope", A100, True, 0.01),
        ("swedencentral", A100, True, 0.30),
        ("eastus2", A100, True, None),  # no spot meter: after every priced region that fits
    )
    # Equal cost in centralus and eastus: the lower eviction band wins, not the name.
    set_bands(served, ("centralus", A100, "10-15"), ("eastus", A100, "0-5"), ("swedencentral", A100, "20+"))
    args = ("regions", "--gpu", A100, "--spot", "--count", "2")
    code, out, err = served.raks(capsys, "-o", "json", *args)
    assert code == 0, err
    doc = valid_regions_doc(out)
    ranked = doc["regions"]
    top = [(r["region"], r["fits"], r["cost_hourly"], r["eviction_band"]) for r in ranked[:3]]
    assert top == [("eastus", True, 0.4, "0-5"), ("centralus", True, 0.4, "10-15"), ("swedencentral", True, 0.6, "20+")]
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    # Fitting without a price, then not fitting, then restricted: shown, marked, after the others.
    assert [(r["region"], r["fits"], r["restricted"], r["cost_hourly"]) for r in ranked[-3:]] == [
        ("eastus2", True, False, None),
        ("westeurope", False, False, 0.1),
        ("northeurope", False, True, 0.02),
    ]
    assert all(r["fits"] for r in ranked[:-2])
    fitting_costs = [r["cost_hourly"] for r in ranked[:-3]]
    assert fitting_costs == sorted(fitting_costs)  # the default sandbox prices of the others, cheapest first
    assert ranked[0]["spot_hourly"] == 0.2 and ranked[0]["on_demand_hourly"] > 0.2
    assert doc["prices"]["currency"] == doc["currency"] == "USD" and doc["prices"]["error"] is None

    code, out, _ = served.raks(capsys, *args)
    assert code == 0
    lines = out.splitlines()
    assert lines[1].split()[:10] == [
        "REGION", "FIT", "NODES", "QUOTA", "FREE/LIMIT", "ON-DEMAND/H", "SPOT/H", "2", "NODES/H", "EVICTION",
    ]  # fmt: skip
    first = lines[2].split()
    assert first[0] == "eastus" and first[1] == "yes" and first[6:9] == ["0.20", "0.40", "0-5%"]
    row = {line.split()[0]: line.split() for line in lines[2:] if line and not line.startswith(("Prices", "Eviction"))}
    assert row["westeurope"][1:3] == ["no", "quota"] and row["northeurope"][1] == "restricted"
    assert lines[-2].startswith("Prices: Azure Retail Prices API") and "USD per hour" in lines[-2]
    assert lines[-1].startswith("Eviction bands: Azure Resource Graph (SpotResources")


def test_regions_without_prices_still_prints_the_table_ranked_by_headroom(served, capsys):
    served.control.set_capacity("westeurope", quota={"lowPriorityCores": 4800})
    served.control.set_capacity("eastus", quota={"lowPriorityCores": 2400})
    set_prices(served, fail="unreachable")
    served.control.spot(fail="forbidden")  # Resource Graph refuses: the bands are a courtesy too
    code, out, err = served.raks(capsys, "regions", "--gpu", A100, "--spot", "--count", "2")
    assert code == 0, err
    lines = out.splitlines()
    assert [x.split()[0] for x in lines[2:4]] == ["westeurope", "eastus"]
    assert lines[2].split()[5:8] == ["-", "-", "-"]  # no prices
    assert "Prices: unavailable (" in out
    assert out.splitlines()[-1].startswith("Eviction bands: Azure Resource Graph (SpotResources")
    assert ", unavailable (" in out.splitlines()[-1] and lines[2].split()[8] == "-"
    assert len([x for x in err.splitlines() if x.startswith("note: prices unavailable")]) == 1


def test_regions_in_another_currency(served, capsys):
    set_prices(served, ("eastus", A100, False, 1.00))
    code, out, err = served.raks(capsys, "-o", "json", "regions", "--gpu", A100, "--currency", "EUR")
    assert code == 0, err
    doc = valid_regions_doc(out)
    eastus = next(r for r in doc["regions"] if r["region"] == "eastus")
    assert doc["currency"] == "EUR"
    assert eastus["on_demand_hourly"] == 0.92  # the sandbox's fixed USD->EUR rate


def _gpu_config(tmp_path) -> str:
    config = tmp_path / "raks.yaml"
    config.write_text(yaml.safe_dump({"platform": "kuberay"}))
    return str(config)


def test_auto_regions_picks_by_the_rule_and_says_why(served, capsys, tmp_path):
    # The reference GPU pool a100: 0..3 spot ND96asr_v4, 288 spot vCPUs at max.
    served.control.set_capacity("westeurope", quota={"lowPriorityCores": 192})  # cheapest, does not fit
    set_prices(
        served,
        ("westeurope", ND96, True, 0.50),
        ("eastus", ND96, True, 1.00),
        ("centralus", ND96, True, 1.00),
        ("swedencentral", ND96, True, 1.00),
    )
    # Three regions at the same cost: the eviction band orders them, not the name.
    set_bands(served, ("eastus", ND96, "5-10"), ("centralus", ND96, "10-15"), ("swedencentral", ND96, "15-20"))
    code, _out, err = served.raks(capsys, "--config", _gpu_config(tmp_path), "plan", "--regions", "auto:2")
    assert code == 0, err
    assert (
        "--regions auto:2 chose eastus, centralus (GPU pools fit, then cost per hour, then spot eviction band):" in err
    )
    assert (
        f"  eastus: a100: 5 spot {ND96} fit (500 lowPriorityCores vCPUs free); "
        "GPU pools at max count 3.00 USD/h; spot eviction band 5-10%"
    ) in err
    assert "  centralus: " in err and "GPU pools at max count 3.00 USD/h; spot eviction band 10-15%" in err
    left = next(x for x in err.splitlines() if x.startswith("  next best, left out: "))
    assert left.startswith("  next best, left out: swedencentral (same cost, higher spot eviction band): ")
    assert left.endswith("GPU pools at max count 3.00 USD/h; spot eviction band 15-20%")
