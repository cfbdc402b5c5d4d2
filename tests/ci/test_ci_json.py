"""`--output json`: every document validates against its checked-in schema, and the schema files
are what the models generate (regenerate with `python -m raks.cli.schemas --write schemas/`)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from helpers.ci import REPO
from raks.cli import schemas

REGIONS = ["uksouth", "swedencentral"]


def _valid(command: str, text: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(text)
    schema = json.loads((REPO / "schemas" / f"{command}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft202012Validator(schema).iter_errors(doc)]
    assert errors == [], errors
    assert doc["schema_version"] == 1 and doc["command"] == command
    return doc


@pytest.mark.parametrize("command", sorted(schemas.MODELS))
def test_the_schema_files_are_current(command, tmp_path):
    schemas.write(tmp_path)
    fresh = (tmp_path / f"{command}.schema.json").read_text()
    checked_in = REPO / "schemas" / f"{command}.schema.json"
    assert checked_in.exists(), "run: python -m raks.cli.schemas --write schemas/"
    assert checked_in.read_text() == fresh, "schema out of date: python -m raks.cli.schemas --write schemas/"


def test_every_command_prints_a_document_of_its_schema(served, capsys):
    code, out, _ = served.raks(capsys, "preflight", "--regions", *REGIONS, "-o", "json")
    assert code == 0
    pre = _valid("preflight", out)
    assert (pre["credential"], pre["subscription"]) == ("sandbox static token", served.endpoints["subscription_id"])

    code, out, _ = served.raks(capsys, "plan", "--regions", *REGIONS, "-o", "json")
    assert code == 0 and _valid("plan", out)["changes"] is True

    code, out, err = served.raks(capsys, "up", "--regions", *REGIONS, "--yes", "-o", "json")
    assert code == 0, err
    up = _valid("up", out)
    # What users need next, per region and shared, without knowing raks' step keys.
    glob = up["global"]
    assert glob["storage_container"] == "aks-anyscale-blob"
    assert glob["storage_account"] and glob["storage_account_id"].endswith(
        f"/storageAccounts/{glob['storage_account']}"
    )
    assert glob["identity_client_id"] and glob["anyscale_cloud_id"]
    by_region = {r["region"]: r for r in up["regions"]}
    assert sorted(by_region) == sorted(REGIONS)
    for region, r in by_region.items():
        assert r["kubeconfig_command"] == f"raks kubeconfig {region}"
        assert r["cluster_id"].endswith(f"/managedClusters/aks-{region}")
        assert r["anyscale_cloud_resource_id"]
        kinds = {rid.split("/providers/", 1)[1].rsplit("/", 1)[0] for rid in r["resource_ids"]}
        assert {
            "Microsoft.Network/networkSecurityGroups",
            "Microsoft.Network/publicIPAddresses",
            "Microsoft.Network/natGateways",
            "Microsoft.Network/virtualNetworks",
            "Microsoft.ContainerService/managedClusters",
            "Microsoft.ContainerService/managedClusters/aks-" + region + "/agentPools",
        } <= kinds
    # 8 per region (NSG, IP, NAT, VNet, subnet, cluster, 3 pools, role, credential ...) + shared.
    assert len(up["resource_ids"]) == len(set(up["resource_ids"])) >= 2 * 8 + 4

    code, out, _ = served.raks(capsys, "status", "--regions", *REGIONS, "-o", "json")
    assert code == 0 and _valid("status", out)["drift"]["changes"] == 0

    code, out, _ = served.raks(capsys, "plan", "--destroy", "-o", "json")
    assert code == 0 and _valid("plan", out)["destroy"] is True

    code, out, err = served.raks(capsys, "down", "--yes", "-o", "json")
    assert code == 0, err
    down = _valid("down", out)
    assert down["result"] == "ok" and down["regions"] == REGIONS


def test_a_failed_region_is_a_document_of_the_schema_too(served, capsys):
    served.control.add_fault(method="GET", path="managedClusters/aks-swedencentral$", status=500, times=None)
    code, out, _ = served.raks(capsys, "status", "--regions", *REGIONS, "-o", "json")
    assert code == 4
    doc = _valid("status", out)
    failed = next(r for r in doc["regions"] if r["region"] == "swedencentral")
    assert failed["error"]["code"] == "InternalServerError" and "cluster" not in failed
