"""Bad input: broken raks.yaml files, flags and environment variables, each refused with exit 2
and one line naming the field (or flag, or variable) and what is allowed — before any request of
any kind reaches the cloud (the sandbox's request log stays empty: reads count too).

Hostile values (path separators, URL syntax) are among them: they must be refused by
validation, so they never reach a request path, escaped or not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest


def addon(name: str, **fields: str) -> str:
    """An addons.<name> override (every field of an add-on is required when it is given)."""
    base = {"chart": "ingress-nginx", "repo": "https://kubernetes.github.io/ingress-nginx", "version": "4.12.1"}
    base.update({"release": "ingress-nginx", "namespace": "ingress-nginx", **fields})
    return f"addons:\n  {name}: {{{', '.join(f'{k}: {v!r}' for k, v in base.items())}}}\n"


POOLS = """pools:
  - {name: sys, mode: system, vm_size: Standard_D8_v5, min_count: 3, max_count: 3}
"""


@dataclass(frozen=True)
class Case:
    id: str
    yaml: str | bytes | None  # raks.yaml's text, or raw bytes (None: no file)
    expect: tuple[str, ...]  # substrings of stderr: the field/flag and what is allowed
    argv: tuple[str, ...] = ("up", "--yes")
    env: dict[str, str] = field(default_factory=dict)


CASES = [
    # -- types ------------------------------------------------------------------------------
    Case("regions-not-a-list", "regions: 7\n", ("regions",)),
    Case("platform-bad", "platform: slurm\n", ("platform", "anyscale", "kuberay")),
    Case("pool-min-count-string", POOLS.replace("min_count: 3", "min_count: three"), ("pools[0].min_count",)),
    Case("pool-spot-not-bool", POOLS.replace("max_count: 3}", "max_count: 3, spot: perhaps}"), ("pools[0].spot",)),
    Case("tags-not-mapping", "tags: [a, b]\n", ("tags",)),
    Case("top-level-list", "- uksouth\n", ("mapping",)),
    Case("network-not-mapping", "network: 10.0.0.0/8\n", ("network",)),
    Case("nat-timeout-string", "network: {nat_idle_timeout_minutes: soon}\n", ("network.nat_idle_timeout_minutes",)),
    # -- ranges -----------------------------------------------------------------------------
    Case("pool-min-above-max", POOLS.replace("max_count: 3", "max_count: 2"), ("pools[0]", "min_count")),
    Case("pool-negative-min", POOLS.replace("min_count: 3", "min_count: -1"), ("pools[0].min_count",)),
    Case("vnet-prefix-too-small", "network: {vnet_prefix: 4}\n", ("network.vnet_prefix",)),
    Case("subnet-wider-than-vnet", "network: {subnet_prefix: 12}\n", ("network.subnet_prefix",)),
    Case("nat-timeout-too-long", "network: {nat_idle_timeout_minutes: 1000}\n", ("network.nat_idle_timeout_minutes",)),
    Case("no-system-pool", POOLS.replace("mode: system", "mode: user"), ("pools", "mode: system")),
    Case("pool-mode-bad", POOLS.replace("mode: system", "mode: primary"), ("pools[0].mode",)),
    Case("pool-fallback-bad", POOLS.replace("max_count: 3}", "max_count: 3, fallback: maybe}"), ("pools[0].fallback",)),
    Case("tier-bad", "kubernetes: {tier: Gold}\n", ("kubernetes.tier", "Standard")),
    # -- names ------------------------------------------------------------------------------
    Case("deployment-uppercase", "deployment: My Deployment\n", ("deployment", "lowercase")),
    Case("pool-name-too-long", POOLS.replace("name: sys", "name: systemnodepool1"), ("pools[0].name",)),
    Case("pool-name-duplicate", POOLS + POOLS.split("\n", 1)[1], ("pools", "sys")),
    Case("storage-account-uppercase", "storage: {account: My_Account}\n", ("storage.account", "lowercase")),
    Case("storage-account-short", "storage: {account: ab}\n", ("storage.account", "3-24")),
    Case("identity-name-bad", "identity: {name: 'mi with spaces'}\n", ("identity.name",)),
    Case("k8s-version-v-prefix", "kubernetes: {version: v1.34}\n", ("kubernetes.version", "MAJOR.MINOR")),
    Case("subscription-not-guid", "subscription_id: not-a-guid\n", ("subscription_id", "GUID")),
    Case(
        "taint-bad-effect",
        POOLS.replace("max_count: 3}", "max_count: 3, taints: ['gpu:NoRun']}"),
        ("taints[0]", "NoSchedule"),
    ),
    Case("vm-size-bad", POOLS.replace("Standard_D8_v5", "D8_v5"), ("pools[0].vm_size", "Standard_")),
    # -- hostile values: path separators and URL syntax -------------------------------------------
    Case("rg-path-traversal", "resource_group: rg/../x\n", ("resource_group", "letters, digits")),
    Case("deployment-query", "deployment: a?b\n", ("deployment", "lowercase")),
    Case("container-fragment", "storage: {container: x#y}\n", ("storage.container", "lowercase")),
    Case("region-traversal", "regions: [uksouth/../x]\n", ("regions", "uksouth/../x")),
    Case("cluster-prefix-slash", "cluster_prefix: a/b\n", ("cluster_prefix",)),
    Case("identity-name-url", "identity: {name: 'http://evil/x'}\n", ("identity.name",)),
    Case("rg-percent-encoded", "resource_group: 'rg%2F..%2Fx'\n", ("resource_group",)),
    # -- Kubernetes and Helm names (refused here, not by the API server after Azure writes) ---------
    Case("pvc-name-uppercase", "storage: {pvc_name: Blob_Fuse}\n", ("storage.pvc_name", "lowercase")),
    Case("pvc-name-slash", "storage: {pvc_name: a/b}\n", ("storage.pvc_name", "Kubernetes object name")),
    Case("addon-namespace-dot", addon("ingress_nginx", namespace="ingress.nginx"), ("addons.ingress_nginx.namespace",)),
    Case(
        "addon-namespace-too-long",
        addon("ingress_nginx", namespace="n" * 64),
        ("addons.ingress_nginx.namespace", "1-63"),
    ),
    Case("addon-release-too-long", addon("ingress_nginx", release="r" * 54), ("addons.ingress_nginx.release", "1-53")),
    Case(
        "addon-release-underscore", addon("kuberay_operator", release="kube_ray"), ("addons.kuberay_operator.release",)
    ),
    # -- CIDRs ------------------------------------------------------------------------------
    Case("supernet-syntax", "network: {supernet: 10.192.0.0/33}\n", ("network.supernet",)),
    Case("pod-cidr-overlaps-vnet", "network: {pod_cidr: 10.192.0.0/10}\n", ("network.pod_cidr",)),
    Case("service-cidr-not-a-cidr", "network: {service_cidr: banana}\n", ("network.service_cidr",)),
    Case("dns-ip-outside-service", "network: {dns_service_ip: 10.9.0.10}\n", ("network.dns_service_ip",)),
    Case(
        "region-vnets-overlap",
        "regions: [uksouth, swedencentral]\nnetwork:\n  regions:\n"
        "    uksouth: {vnet_cidr: 10.201.0.0/16, subnet_cidr: 10.201.0.0/19}\n"
        "    swedencentral: {vnet_cidr: 10.201.0.0/16, subnet_cidr: 10.201.0.0/19}\n",
        ("overlap",),
    ),
    Case(
        "subnet-outside-vnet",
        "network:\n  regions:\n    uksouth: {vnet_cidr: 10.201.0.0/16, subnet_cidr: 10.5.0.0/19}\n",
        ("subnet_cidr",),
    ),
    # -- unknown keys -----------------------------------------------------------------------
    Case("unknown-top-key", "regoins: [uksouth]\n", ("regoins", "regions")),
    Case("unknown-pool-key", POOLS.replace("max_count: 3}", "max_count: 3, maxcount: 4}"), ("pools[0]", "maxcount")),
    Case("deployment-flagged-too-long", "deployment: " + "a" * 30 + "\n", ("deployment",)),
    Case("regions-flag-and-auto-mixed", None, ("--regions",), argv=("up", "--yes", "--regions", "auto:2", "uksouth")),
    Case("unknown-addon", "addons: {grafana: {enabled: true}}\n", ("addons", "grafana")),
    # -- YAML syntax, missing files -------------------------------------------------------------
    Case("yaml-syntax", "regions: [uksouth\n", ("raks.yaml:2", "not valid YAML")),
    Case("yaml-not-utf8", "deployment: caf\xe9\n".encode("latin-1"), ("raks.yaml", "not UTF-8")),
    Case("yaml-utf16", "deployment: x\n".encode("utf-16"), ("raks.yaml", "not UTF-8")),
    Case("yaml-tab-indent", "network:\n\tsupernet: 10.0.0.0/8\n", ("raks.yaml",)),
    Case("missing-config-flag", None, ("nope.yaml",), argv=("up", "--yes", "--config", "nope.yaml")),
    Case("missing-config-env", None, ("missing.yaml",), env={"RAKS_CONFIG": "missing.yaml"}),
    # -- regions ----------------------------------------------------------------------------
    Case("region-unknown", "regions: [moonbase]\n", ("regions", "moonbase")),
    Case("region-flag-unknown", None, ("--regions", "atlantis"), argv=("up", "--yes", "--regions", "atlantis")),
    Case("region-duplicate", "regions: [uksouth, uksouth]\n", ("regions", "uksouth")),
    Case("primary-not-in-regions", "regions: [uksouth]\nprimary_region: swedencentral\n", ("primary_region",)),
    Case("regions-empty", "regions: []\n", ("regions",)),
    # -- flags ------------------------------------------------------------------------------
    Case("output-bad", None, ("--output", "table or json"), argv=("-o", "yaml", "up", "--yes")),
    Case("unknown-flag", None, ("--colour",), argv=("up", "--yes", "--colour")),
    Case("delete-data-without-destroy", None, ("--delete-data", "--destroy"), argv=("plan", "--delete-data")),
    Case("regions-flag-empty", None, ("--regions", "empty value"), argv=("up", "--yes", "--regions", "")),
    Case("regions-flag-blank-eq", None, ("--regions", "empty value"), argv=("plan", "--regions= ,")),
    Case("regions-auto-bad", None, ("auto",), argv=("up", "--yes", "--regions", "auto:zero")),
    # -- environment variables ----------------------------------------------------------------
    Case("env-unknown-var", None, ("RAKS_REGOINS",), env={"RAKS_REGOINS": "uksouth"}),
    Case("env-bad-tier", None, ("RAKS_KUBERNETES__TIER",), env={"RAKS_KUBERNETES__TIER": "Gold"}),
    Case("env-bad-regions", None, ("RAKS_REGIONS", "narnia"), env={"RAKS_REGIONS": "uksouth,narnia"}),
    Case("env-bad-helm-driver", None, ("RAKS_HELM_DRIVER", "engine or binary"), env={"RAKS_HELM_DRIVER": "kubectl"}),
    Case("env-bad-tags", None, ("RAKS_TAGS",), env={"RAKS_TAGS": "{team: [unclosed"}),
]


def test_the_corpus_is_large_and_its_ids_unique():
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_exits_2_naming_the_field_with_zero_requests(case: Case, served, capsys, tmp_path, monkeypatch):
    if isinstance(case.yaml, bytes):
        (tmp_path / "raks.yaml").write_bytes(case.yaml)
    elif case.yaml is not None:
        (tmp_path / "raks.yaml").write_text(case.yaml)
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    code, _out, err = served.raks(capsys, *case.argv)
    assert code == 2, err
    assert "internal error" not in err and "Traceback" not in err
    lines = [line for line in err.splitlines() if all(e in line for e in case.expect)]
    assert lines, f"no line names {case.expect}:\n{err}"
    assert served.control.requests() == [], "a request reached the cloud before the input was checked"
