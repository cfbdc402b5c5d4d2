"""The emulator's own overhead, so it is known before the sandbox is used to measure raks.

Per-request latency and requests/s for: a raw keep-alive HTTPS GET (no SDK), an SDK GET, an
SDK synchronous PUT, an SDK long-running PUT (create + poll + final GET), and a Kubernetes
GET through the kubernetes client. Profile `instant` (no modelled latency).

    .venv/bin/python bench/sandbox_throughput.py [--n 300]
"""

from __future__ import annotations

import argparse
import http.client
import ssl
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from helpers_path import add_tests_to_path

add_tests_to_path()

from helpers.azure_clients import Clients  # noqa: E402
from raks.sandbox.runner import Sandbox  # noqa: E402


def measure(name: str, n: int, fn: Callable[[int], object]) -> None:
    fn(-1)  # warm up (connection, imports)
    times = []
    start = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    p50 = statistics.median(times) * 1000
    p95 = sorted(times)[int(0.95 * len(times)) - 1] * 1000
    print(f"{name:<34} {n / total:8.0f} req/s   p50 {p50:6.2f} ms   p95 {p95:6.2f} ms   (n={n})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    n = args.n
    with tempfile.TemporaryDirectory() as tmp, Sandbox(Path(tmp), "instant") as sb:
        ep = sb.endpoints()
        az = Clients(ep)
        sub = ep["subscription_id"]
        az.resource.resource_groups.create_or_update("bench", {"location": "uksouth"})
        ctx = ssl.create_default_context(cafile=ep["ca_bundle"])
        port = int(ep["arm"].rsplit(":", 1)[1])
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
        path = f"/subscriptions/{sub}/resourcegroups/bench?api-version=2024-03-01"

        def raw(_: int) -> None:
            conn.request("GET", path, headers={"Authorization": "Bearer x"})
            conn.getresponse().read()

        measure("raw HTTPS GET (keep-alive)", n, raw)
        rg = az.resource.resource_groups
        measure("SDK GET resource group", n, lambda _: rg.get("bench"))
        measure("SDK PUT resource group (sync)", n, lambda _: rg.create_or_update("bench", {"location": "uksouth"}))
        from azure.mgmt.network import models as m

        pips = az.network.public_ip_addresses
        body = m.PublicIPAddress(location="uksouth", sku=m.PublicIPAddressSku(name="Standard"))
        measure(
            "SDK PUT public IP (LRO, 3 requests)",
            max(1, n // 3),
            lambda i: pips.begin_create_or_update("bench", f"p{i % 5}", body).result(),
        )
        from azure.mgmt.containerservice import models as cm

        mc = cm.ManagedCluster(
            location="uksouth",
            dns_prefix="b",
            agent_pool_profiles=[
                cm.ManagedClusterAgentPoolProfile(name="sys", mode="System", vm_size="Standard_D8_v5", count=3)
            ],
        )
        az.aks.managed_clusters.begin_create_or_update("bench", "aks", mc).result()
        import base64

        import kubernetes
        import yaml

        raw_cfg = az.aks.managed_clusters.list_cluster_user_credentials("bench", "aks").kubeconfigs[0].value
        kcfg = yaml.safe_load(raw_cfg if isinstance(raw_cfg, bytes) else base64.b64decode(raw_cfg))
        conf = kubernetes.client.Configuration()
        conf.host = kcfg["clusters"][0]["cluster"]["server"]
        conf.ssl_ca_cert = ep["ca_bundle"]
        conf.api_key = {"authorization": "Bearer " + kcfg["users"][0]["user"]["token"]}
        core = kubernetes.client.CoreV1Api(kubernetes.client.ApiClient(conf))
        measure("kubernetes client GET namespace", n, lambda _: core.read_namespace("default"))
        print(f"state file: {(Path(tmp) / 'state.json').stat().st_size} bytes, rewritten on every write")


if __name__ == "__main__":
    main()
