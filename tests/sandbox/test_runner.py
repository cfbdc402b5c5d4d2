"""The emulator as a process: persisted state, `raks sandbox serve`, latency profiles."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from azure.core.exceptions import ResourceNotFoundError

from helpers.azure_clients import Clients
from raks.cli.main import main
from raks.sandbox.client import SandboxControl
from raks.sandbox.profiles import parse_profile
from raks.sandbox.runner import Sandbox, running_endpoints


def test_state_persists_across_emulator_processes(tmp_path):
    directory = tmp_path / "sb"
    with Sandbox(directory) as first:
        az = Clients(first.endpoints())
        az.resource.resource_groups.create_or_update("kept", {"location": "uksouth"})
    with Sandbox(directory) as second:
        az = Clients(second.endpoints())
        assert az.resource.resource_groups.get("kept").location == "uksouth"
        # The TLS files are reused, so a client's CA bundle path stays valid.
        assert second.endpoints()["ca_bundle"] == first.endpoints()["ca_bundle"]


def test_an_operation_started_by_a_killed_client_still_completes(tmp_path):
    directory = tmp_path / "sb"
    with Sandbox(directory, "azure:0.001") as sb:
        az = Clients(sb.endpoints())
        az.resource.resource_groups.create_or_update("rg", {"location": "uksouth"})
        from azure.mgmt.network import models as m

        # Start the operation and walk away without polling it.
        az.network.public_ip_addresses.begin_create_or_update(
            "rg", "pip", m.PublicIPAddress(location="uksouth", sku=m.PublicIPAddressSku(name="Standard"))
        )
    time.sleep(0.01)
    with Sandbox(directory) as sb:
        az = Clients(sb.endpoints())
        assert az.network.public_ip_addresses.get("rg", "pip").provisioning_state == "Succeeded"


def test_latency_profile_makes_operations_take_time_and_tells_the_client_when(tmp_path):
    with Sandbox(tmp_path / "sb", "azure:0.002") as sb:
        az = Clients(sb.endpoints())
        az.resource.resource_groups.create_or_update("rg", {"location": "uksouth"})
        from azure.mgmt.network import models as m

        start = time.monotonic()
        az.network.nat_gateways.begin_create_or_update(
            "rg", "nat", m.NatGateway(location="uksouth", sku=m.NatGatewaySku(name="Standard"))
        ).result()
        took = time.monotonic() - start
        expected = 13.0 * 0.002  # NAT gateway ~13 s on Azure (profiles.py)
        # Loose upper bound: a Retry-After of whole seconds (Azure's usual) would blow it, a loaded
        # machine does not; the poll count below shows the client was not polling in between.
        assert expected <= took < expected + 10.0
        polls = [e for e in sb.world.requests if "/operations/" in e["path"]]
        assert 1 <= len(polls) <= 3  # the monitor's retry-after wakes the client when it is done


def test_profiles_parse():
    assert parse_profile("instant").scale == 0
    assert parse_profile("demo").scale == pytest.approx(0.02)
    assert parse_profile("azure:0.5").scale == pytest.approx(0.5)
    with pytest.raises(ValueError, match="unknown profile 'fast'"):
        parse_profile("fast")


def test_sandbox_serve_writes_endpoints_serves_clients_and_stops_cleanly(tmp_path):
    directory = tmp_path / "served"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAKS_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "raks", "sandbox", "serve", "--state-dir", str(directory)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        deadline = time.monotonic() + 20
        while running_endpoints(directory) is None:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "serve did not come up"
            time.sleep(0.05)
        endpoints = json.loads((directory / "endpoints.json").read_text())
        assert {"arm", "ca_bundle", "anyscale", "subscription_id", "tenant_id", "graph", "prices"} <= set(endpoints)
        assert endpoints["prices"] == f"{endpoints['arm']}/prices"  # the Retail Prices API, served beside ARM
        az = Clients(endpoints)
        az.resource.resource_groups.create_or_update("from-outside", {"location": "westeurope"})
        # A raks command on the same folder uses the running server (and sees the group).
        code = main(["plan", "--sandbox", "--sandbox-dir", str(directory), "--regions", "westeurope", "-o", "json"])
        assert code == 0
        served = [e["path"] for e in SandboxControl(endpoints).requests() if e["method"] == "GET"]
        assert any(p.endswith("/resourcegroups/aks-anyscale-rg") for p in map(str.lower, served))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    assert proc.returncode == 0
    assert not (directory / "endpoints.json").exists()
    with Sandbox(directory) as again:
        assert Clients(again.endpoints()).resource.resource_groups.get("from-outside").location == "westeurope"


def test_sandbox_persists_what_up_wrote_across_server_restarts(tmp_path, monkeypatch, capsys):
    from raks.sandbox import daemon

    monkeypatch.setenv("RAKS_SANDBOX_PROFILE", "instant")
    directory = tmp_path / ".raks" / "sandbox"  # the default: beside raks.yaml (cwd here)
    assert main(["up", "--sandbox", "--regions", "uksouth", "--yes"]) == 0
    assert daemon.stop(directory) is not None  # up started the background server
    assert (directory / "state.json").exists()
    with Sandbox(directory) as sb:
        az = Clients(sb.endpoints())
        assert az.aks.managed_clusters.get("aks-anyscale-rg", "aks-uksouth").provisioning_state == "Succeeded"
        with pytest.raises(ResourceNotFoundError):
            az.aks.managed_clusters.get("aks-anyscale-rg", "aks-swedencentral")
