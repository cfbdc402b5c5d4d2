"""The emulated Anyscale control plane: over HTTPS directly, and driven by the real `anyscale` CLI.

The CLI tests need the optional `anyscale` package (raks[anyscale]) and skip without it; each
CLI run costs about a second of start-up.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from raks.sandbox.anyscale_api import AZURE_OPERATOR_AUDIENCE, AnyscaleApi
from raks.sandbox.http import Request
from raks.sandbox.server import HttpsServer
from raks.sandbox.tls import TlsFiles, ensure_tls
from raks.sandbox.world import World

TOKEN = "sss_raks_test_token_5f3c9a"  # distinctive, so a leak is easy to find
CLI_MAIN = "import sys; from anyscale.scripts import main; sys.argv[0] = 'anyscale'; sys.exit(main())"


def _make_world(state_dir: Path) -> World:
    state_dir.mkdir(parents=True, exist_ok=True)
    return World(state_dir, "instant")


@dataclass
class Sandbox:
    world: World
    url: str
    tls: TlsFiles
    tmp: Path  # this test's own folder

    @property
    def api(self) -> AnyscaleApi:
        return self.world.anyscale

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = TOKEN, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """One HTTPS request; returns (status, parsed JSON body or None)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token is not None:
            request.add_header("Cookie", f"cli_token={token}")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        context = ssl.create_default_context(cafile=str(self.tls.ca_cert))
        try:
            with urllib.request.urlopen(request, context=context, timeout=10) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        return status, json.loads(raw) if raw else None


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, str, TlsFiles]]:
    # One world and server for the module: stopping a server takes half a second (its poll interval).
    tls = ensure_tls(tmp_path_factory.mktemp("tls"))
    world = _make_world(tmp_path_factory.mktemp("world") / "state")
    server = HttpsServer(world, "anyscale", str(tls.server_cert), str(tls.server_key))
    server.start()
    world.anyscale_url = server.url
    yield world, server.url, tls
    server.stop()
    world.close()


@pytest.fixture
def sandbox(served: tuple[World, str, TlsFiles], tmp_path: Path) -> Sandbox:
    world, url, tls = served
    with world.lock:
        world.state["anyscale"] = {}  # every test starts with no clouds
    return Sandbox(world, url, tls, tmp_path)


def _create_cloud(sb: Sandbox, name: str = "aks-anyscale", region: str = "uksouth") -> dict[str, Any]:
    status, body = sb.call(
        "POST",
        "/api/v2/clouds/",
        {"name": name, "provider": "AZURE", "region": region, "compute_stack": "K8S", "credentials": ""},
    )
    assert status == 200, body
    cloud: dict[str, Any] = body["result"]
    return cloud


def _resource(region: str) -> dict[str, Any]:
    """The body `anyscale cloud register/resource create -f` sends for a raks region."""
    return {
        "name": f"k8s-azure-{region}",
        "provider": "AZURE",
        "compute_stack": "K8S",
        "region": region,
        "object_storage": {"bucket_name": f"abfss://anyscale@st{region}.dfs.core.windows.net"},
        "file_storage": {"persistent_volume_claim": "blob-fuse2"},
        "azure_config": {"tenant_id": "7e4a4700-0000-4000-8000-000000000001"},
        "kubernetes_config": {"anyscale_operator_iam_identity": "11111111-2222-3333-4444-555555555555"},
    }


def _add_resource(sb: Sandbox, cloud_id: str, region: str) -> dict[str, Any]:
    status, body = sb.call("PUT", f"/api/v2/clouds/{cloud_id}/add_resource", _resource(region))
    assert status == 200, body
    resource: dict[str, Any] = body["result"]
    return resource


# -- direct HTTP -------------------------------------------------------------------------------
def test_userinfo_needs_a_token_and_never_echoes_it(sandbox: Sandbox) -> None:
    status, body = sandbox.call("GET", "/api/v2/userinfo/")
    assert status == 200
    assert body["result"]["organizations"][0]["id"] == body["result"]["organization_ids"][0]
    assert sandbox.call("GET", "/api/v2/userinfo/", headers={"Authorization": f"Bearer {TOKEN}"}, token=None)[0] == 200
    assert TOKEN not in json.dumps(body)
    answers = [sandbox.call("GET", "/api/v2/userinfo/", token=t) for t in (None, "", "invalid", "sss_invalid")]
    assert {status for status, _ in answers} == {401}
    # One fixed message whatever was sent: nothing of the token comes back.
    assert len({json.dumps(body) for _, body in answers}) == 1 and answers[0][1]["error"]["detail"]


def test_register_two_regions_gives_distinct_deployment_ids(sandbox: Sandbox) -> None:
    cloud = _create_cloud(sandbox)
    assert cloud["id"].startswith("cld_") and cloud["state"] == "CREATING"
    first = _add_resource(sandbox, cloud["id"], "uksouth")
    second = _add_resource(sandbox, cloud["id"], "swedencentral")
    assert first["cloud_resource_id"].startswith("cldrsrc_")
    assert first["cloud_resource_id"] != second["cloud_resource_id"]
    assert first["cloud_deployment_id"] == first["cloud_resource_id"]

    status, body = sandbox.call("GET", f"/api/v2/clouds/{cloud['id']}/resources")
    assert status == 200 and body["metadata"]["total"] == 2
    assert [(r["region"], r["is_default"]) for r in body["results"]] == [("uksouth", True), ("swedencentral", False)]
    assert body["results"][1]["object_storage"]["bucket_name"].startswith("abfss://anyscale@stswedencentral")

    (registered,) = sandbox.api.clouds()
    assert registered["state"] == "ACTIVE" and registered["is_default"] is True
    assert [r["cloud_resource_id"] for r in registered["resources"]] == [
        first["cloud_resource_id"],
        second["cloud_resource_id"],
    ]
    json.dumps(sandbox.world.state)  # persisted as plain JSON


def test_names_are_unique(sandbox: Sandbox) -> None:
    cloud = _create_cloud(sandbox)
    status, body = sandbox.call("POST", "/api/v2/clouds/", {"name": cloud["name"], "provider": "AZURE", "region": "x"})
    assert status == 409 and "already exists" in body["error"]["detail"]
    _add_resource(sandbox, cloud["id"], "uksouth")
    status, body = sandbox.call("PUT", f"/api/v2/clouds/{cloud['id']}/add_resource", _resource("uksouth"))
    assert status == 409 and "k8s-azure-uksouth" in body["error"]["detail"]
    assert len(sandbox.api.clouds()) == 1 and len(sandbox.api.clouds()[0]["resources"]) == 1


def test_lookups(sandbox: Sandbox) -> None:
    cloud = _create_cloud(sandbox)
    _add_resource(sandbox, cloud["id"], "uksouth")
    assert (
        sandbox.call("POST", "/api/v2/clouds/find_by_name", {"name": cloud["name"]})[1]["result"]["id"] == cloud["id"]
    )
    assert sandbox.call("POST", "/api/v2/clouds/find_by_name", {"name": "nope"})[0] == 404
    for prefix in ("/api/v2", "/ext/v0"):
        status, body = sandbox.call("GET", f"{prefix}/clouds/{cloud['id']}")
        assert status == 200 and body["result"]["name"] == cloud["name"]
    assert sandbox.call("GET", "/api/v2/clouds/cld_missing")[0] == 404
    status, body = sandbox.call("GET", "/api/v2/clouds/?name=aks-anyscale&count=10")
    assert [c["id"] for c in body["results"]] == [cloud["id"]]
    assert sandbox.call("GET", "/api/v2/clouds/?name=other")[1]["results"] == []
    status, body = sandbox.call(
        "POST", f"/api/v2/clouds/{cloud['id']}/find_cloud_resource_by_name?cloud_resource_name=k8s-azure-uksouth"
    )
    assert status == 200 and body["result"]["region"] == "uksouth"
    status, body = sandbox.call("GET", "/api/v2/clouds/anyscale/azure_operator_audience")
    assert body == {"result": {"azure_operator_audience": AZURE_OPERATOR_AUDIENCE}}


def test_remove_resource_then_delete_cloud(sandbox: Sandbox) -> None:
    cloud = _create_cloud(sandbox)
    _add_resource(sandbox, cloud["id"], "uksouth")
    _add_resource(sandbox, cloud["id"], "swedencentral")
    remove = f"/api/v2/clouds/{cloud['id']}/remove_resource?cloud_resource_name="
    assert sandbox.call("DELETE", remove + "k8s-azure-uksouth")[0] == 400  # the default resource stays
    assert sandbox.call("DELETE", remove + "k8s-azure-nowhere")[0] == 404
    assert sandbox.call("DELETE", remove + "k8s-azure-swedencentral")[0] == 200
    assert [r["region"] for r in sandbox.api.clouds()[0]["resources"]] == ["uksouth"]

    assert sandbox.call("PUT", f"/api/v2/clouds/{cloud['id']}/state?state=DELETING")[0] == 200
    assert sandbox.api.clouds()[0]["state"] == "DELETING"
    assert sandbox.call("PUT", f"/api/v2/clouds/{cloud['id']}/state?state=BOGUS")[0] == 422
    assert sandbox.call("DELETE", f"/api/v2/clouds/{cloud['id']}?force=False")[0] == 200
    assert sandbox.call("GET", f"/api/v2/clouds/{cloud['id']}")[0] == 404
    assert sandbox.api.clouds() == []


def test_bad_requests(sandbox: Sandbox) -> None:
    assert sandbox.call("POST", "/api/v2/clouds/", {"name": "c", "region": "r"})[0] == 422  # no provider
    assert sandbox.call("POST", "/api/v2/clouds/", [1, 2])[0] == 422
    cloud = _create_cloud(sandbox)
    bad = {**_resource("uksouth"), "provider": "azure-ish"}
    assert sandbox.call("PUT", f"/api/v2/clouds/{cloud['id']}/add_resource", bad)[0] == 422
    assert sandbox.call("PUT", "/api/v2/clouds/cld_missing/add_resource", _resource("uksouth"))[0] == 404
    assert sandbox.call("GET", "/api/v2/nothing-here")[0] == 404
    assert sandbox.call("PATCH", "/api/v2/clouds/")[0] == 405
    assert sandbox.api.clouds()[0]["resources"] == []


def test_unnamed_resources_get_the_backend_base_name(sandbox: Sandbox) -> None:
    cloud = _create_cloud(sandbox)
    unnamed = {k: v for k, v in _resource("uksouth").items() if k != "name"}
    names = [
        sandbox.call("PUT", f"/api/v2/clouds/{cloud['id']}/add_resource", unnamed)[1]["result"]["name"]
        for _ in range(2)
    ]
    assert names == ["k8s-azure-uksouth", "k8s-azure-uksouth-2"]


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    world = _make_world(state_dir)
    body = json.dumps({"name": "c", "provider": "AZURE", "region": "uksouth"}).encode()
    req = Request.build("POST", "/api/v2/clouds/", {"Cookie": f"cli_token={TOKEN}"}, body)
    assert world.dispatch(req, api="anyscale").status == 200
    world.close()
    reborn = _make_world(state_dir)
    try:
        assert [c["name"] for c in reborn.anyscale.clouds()] == ["c"]
    finally:
        reborn.close()
    assert TOKEN not in "".join(p.read_text(errors="replace") for p in state_dir.rglob("*") if p.is_file())


# -- the real CLI ----------------------------------------------------------------------------
RESOURCE_YAML = """\
name: k8s-azure-{region}
provider: AZURE
compute_stack: K8S
region: {region}
object_storage:
  bucket_name: abfss://anyscale@st{region}.dfs.core.windows.net
file_storage:
  persistent_volume_claim: blob-fuse2
azure_config:
  tenant_id: 7e4a4700-0000-4000-8000-000000000001
kubernetes_config:
  anyscale_operator_iam_identity: 11111111-2222-3333-4444-555555555555
"""


def _cli(sb: Sandbox, *args: str, token: str = TOKEN) -> subprocess.CompletedProcess[str]:
    """Run the real CLI against the emulator, isolated from the developer's Anyscale setup."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANYSCALE_") and "proxy" not in k.lower()}
    env.update(
        ANYSCALE_HOST=sb.url,
        ANYSCALE_CLI_TOKEN=token,
        ANYSCALE_SSL_CA_CERT=str(sb.tls.ca_cert),
        ANYSCALE_SUPPRESS_UPGRADE_WARNING="1",  # no PyPI version check
        ANYSCALE_TELEMETRY_SAMPLE_RATE="0",
        HOME=str(sb.tmp / "home"),  # no ~/.anyscale credentials
        NO_COLOR="1",
    )
    return subprocess.run(
        [sys.executable, "-c", CLI_MAIN, *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def _resource_file(sb: Sandbox, region: str) -> str:
    path = sb.tmp / f"{region}.yaml"
    path.write_text(RESOURCE_YAML.format(region=region))
    return str(path)


def test_cli_registers_two_regions_and_tears_down(sandbox: Sandbox) -> None:
    pytest.importorskip("anyscale")
    cloud = "aks-anyscale"

    run = _cli(
        sandbox, "cloud", "register", "--provider", "Azure", "--name", cloud, "-f", _resource_file(sandbox, "uksouth")
    )
    assert run.returncode == 0, run.stderr
    assert "global.cloudDeploymentId=cldrsrc_" in run.stderr

    run = _cli(
        sandbox, "cloud", "resource", "create", "--cloud", cloud, "-f", _resource_file(sandbox, "swedencentral"), "-y"
    )
    assert run.returncode == 0 and "Successfully created cloud resource" in run.stderr, run.stdout + run.stderr

    run = _cli(sandbox, "cloud", "get", "--name", cloud, "--output-format", "json")
    assert run.returncode == 0, run.stderr
    shown = json.loads(run.stdout)
    ids = {r["region"]: r["cloud_resource_id"] for r in shown["resources"]}
    assert set(ids) == {"uksouth", "swedencentral"} and len(set(ids.values())) == 2
    assert shown["id"] == sandbox.api.clouds()[0]["id"]

    # Registering the same name again: the API refuses (409) and the CLI exits non-zero.
    run = _cli(
        sandbox, "cloud", "register", "--provider", "azure", "--name", cloud, "-f", _resource_file(sandbox, "uksouth")
    )
    assert run.returncode != 0 and "409" in run.stderr
    # A resource name already in the cloud: 409 too, but this CLI command still exits 0 (it
    # prints the failure on stdout), so callers must check `cloud get` rather than the exit code.
    run = _cli(
        sandbox, "cloud", "resource", "create", "--cloud", cloud, "-f", _resource_file(sandbox, "swedencentral"), "-y"
    )
    assert "409" in run.stdout
    assert len(sandbox.api.clouds()[0]["resources"]) == 2

    run = _cli(sandbox, "cloud", "resource", "delete", "--cloud", cloud, "--resource", "k8s-azure-swedencentral", "-y")
    assert run.returncode == 0 and "Successfully removed" in run.stderr, run.stdout + run.stderr
    run = _cli(sandbox, "cloud", "delete", "--name", cloud, "-y")
    assert run.returncode == 0 and f"Deleted cloud with name {cloud}" in run.stderr, run.stderr
    assert sandbox.api.clouds() == []
    # The token is nowhere in what the emulator keeps: its state, state file and request log.
    assert TOKEN not in json.dumps(sandbox.world.state)
    sandbox.world.save()
    for path in sandbox.world.dir.path.rglob("*"):
        assert not path.is_file() or TOKEN not in path.read_text(errors="replace"), path


def test_cli_with_a_bad_token_fails(sandbox: Sandbox) -> None:
    # "sss_invalid", as the CLI refuses the bare "invalid" before sending anything.
    pytest.importorskip("anyscale")
    run = _cli(sandbox, "cloud", "get", "--name", "aks-anyscale", "--output-format", "json", token="sss_invalid")
    assert run.returncode != 0
    assert "credentials" in run.stderr and "invalid or have expired" in run.stderr
