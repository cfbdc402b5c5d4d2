"""Every validation rule of raks.yaml, with the exact one-line message a user sees."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from raks.config import RaksConfig, load_config
from raks.errors import ConfigError
from raks.validation import validate


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "raks.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def problems_of(tmp_path: Path, data: dict, **kw) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, data), environ={}, **kw)
    assert info.value.exit_code == 2
    return info.value.problems


INGRESS = RaksConfig().addons.ingress_nginx.model_dump()


def test_kubernetes_and_helm_names_at_their_limits_are_valid(tmp_path):
    """53 characters and dots are what Helm accepts for a release; 63 for a namespace."""
    data = {
        "storage": {"pvc_name": "blob.fuse-2"},
        "addons": {"ingress_nginx": dict(INGRESS, release="r" * 52 + "1", namespace="n" * 63)},
    }
    cfg = load_config(write(tmp_path, data), environ={})
    assert [p for p in validate(cfg) if p.severity == "error"] == []


def test_a_config_that_is_not_utf8_names_the_file_and_the_byte(tmp_path):
    path = tmp_path / "raks.yaml"
    path.write_bytes("deployment: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert info.value.exit_code == 2
    assert info.value.problems == [f"{path}: not UTF-8 text (byte 0xe9 at offset 15); save raks.yaml as UTF-8"]


def test_an_empty_regions_flag_is_an_error_not_the_default():
    from raks.cli.argv import normalize

    expected = (
        "--regions: empty value; give one or more Azure region names (e.g. --regions uksouth swedencentral) or auto:N"
    )
    for argv in (["up", "--regions", ""], ["up", "--regions=", "--yes"], ["plan", "--regions", " , "]):
        with pytest.raises(ConfigError) as info:
            normalize(argv)
        assert info.value.problems == [expected]
    assert normalize(["up", "--regions", "uksouth,"]) == ["up", "--regions", "uksouth"]


def pools_with(**changes) -> list[dict]:
    pools = [p.model_dump() for p in RaksConfig().pools]
    pools[1].update(changes)
    return pools


def test_defaults_are_valid_and_the_reference_values():
    cfg = load_config(environ={})
    assert [p for p in validate(cfg) if p.severity == "error"] == []
    assert cfg.regions == ["uksouth"]
    assert cfg.kubernetes.version == "1.34.1" and cfg.kubernetes.tier == "Standard"
    assert cfg.network.pod_cidr == "10.128.0.0/12"
    assert [(p.name, p.vm_size, p.min_count, p.max_count, p.spot) for p in cfg.pools] == [
        ("sys", "Standard_D8_v5", 3, 3, False),
        ("cpu", "Standard_D16_v5", 3, 6, False),
        ("a100", "Standard_ND96asr_v4", 0, 3, True),
    ]
    assert cfg.resolved_identity_name() == "aks-anyscale-operator-mi"
    assert cfg.resolved_container() == "aks-anyscale-blob"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"regions": ["uksouht"]},
            "regions[0]: 'uksouht' is not an Azure region name (did you mean 'uksouth'?)",
        ),
        (
            {"regions": ["uksouth", "uksouth"]},
            "regions: 'uksouth' is listed twice; each region may appear once",
        ),
        (
            {"regions": ["uksouth", "swedencentral"], "primary_region": "westus"},
            "primary_region: 'westus' is not among regions (uksouth, swedencentral)",
        ),
        ({"regions": []}, "regions: at least one region is required (e.g. [uksouth])"),
        (
            {"network": {"supernet": "10.192.0.0/33"}},
            "network.supernet: '10.192.0.0/33' is not an IPv4 CIDR range (e.g. 10.192.0.0/16)",
        ),
        (
            {"network": {"pod_cidr": "10.128.0.1/12"}},
            "network.pod_cidr: '10.128.0.1/12' has host bits set; did you mean 10.128.0.0/12?",
        ),
        (
            {"network": {"pod_cidr": "10.192.0.0/12"}},
            "network.pod_cidr: 10.192.0.0/12 overlaps uksouth's VNet 10.201.0.0/16; it must lie outside every VNet",
        ),
        (
            {"network": {"service_cidr": "10.201.0.0/16", "dns_service_ip": "10.201.0.10"}},
            "network.service_cidr: 10.201.0.0/16 overlaps uksouth's VNet 10.201.0.0/16; it must lie outside every VNet",
        ),
        (
            {"network": {"dns_service_ip": "10.1.0.10"}},
            "network.dns_service_ip: 10.1.0.10 is not inside network.service_cidr 10.0.0.0/16",
        ),
        (
            {
                "regions": ["uksouth", "swedencentral"],
                "network": {
                    "regions": {"swedencentral": {"vnet_cidr": "10.201.0.0/16", "subnet_cidr": "10.201.0.0/19"}}
                },
            },
            "network.regions.swedencentral: VNet 10.201.0.0/16 overlaps uksouth's VNet 10.201.0.0/16; "
            "regional VNets must not overlap",
        ),
        (
            {"network": {"regions": {"uksouth": {"vnet_cidr": "10.192.0.0/15", "subnet_cidr": "10.200.0.0/19"}}}},
            "network.regions.uksouth.subnet_cidr: 10.200.0.0/19 is not inside the VNet 10.192.0.0/15",
        ),
        (
            {"network": {"supernet": "10.192.0.0/14"}},
            "network: network.supernet: 10.192.0.0/14 holds 4 /16 VNets but region 'uksouth' uses slot 9; "
            "use a larger supernet, a longer vnet_prefix, or set network.regions.uksouth",
        ),
        (
            {"network": {"subnet_prefix": 14}},
            "network.subnet_prefix: /14 is larger than the VNet (/16); it must be 16 or more",
        ),
        ({"pools": pools_with(min_count=7)}, "pools[1].min_count: 7 is greater than max_count 6"),
        (
            {"pools": pools_with(name="CPU-pool")},
            "pools[1].name: 'CPU-pool' must be 1-12 lowercase letters and digits, starting with a letter",
        ),
        (
            {"pools": pools_with(name="cpupoolnumber1")},
            "pools[1].name: 'cpupoolnumber1' must be 1-12 lowercase letters and digits, starting with a letter",
        ),
        (
            {"pools": pools_with(name="sys")},
            "pools[1].name: 'sys' is used by another pool; names must be unique",
        ),
        (
            {"pools": pools_with(vm_size="D16_v5")},
            "pools[1].vm_size: 'D16_v5' is not an Azure VM size (e.g. Standard_D16_v5)",
        ),
        (
            {"pools": pools_with(taints=["gpu:NoRun"])},
            "pools[1].taints[0]: 'gpu:NoRun' must be key[=value]:effect with effect NoSchedule, "
            "PreferNoSchedule or NoExecute",
        ),
        (
            {"pools": [p for p in pools_with() if p["mode"] != "system"]},
            "pools: at least one pool must have mode: system",
        ),
        (
            {"storage": {"account": "My_Account"}},
            "storage.account: 'My_Account' must be 3-24 lowercase letters and digits",
        ),
        (
            {"storage": {"account": "ab"}},
            "storage.account: 'ab' must be 3-24 lowercase letters and digits",
        ),
        (
            {"storage": {"account": "a" * 25}},
            f"storage.account: '{'a' * 25}' must be 3-24 lowercase letters and digits",
        ),
        (
            {"storage": {"container": "Bad--name"}},
            "storage.container: 'Bad--name' must be 3-63 lowercase letters, digits and single '-', starting "
            "and ending with a letter or digit",
        ),
        (
            {"resource_group": "my-rg."},
            "resource_group: 'my-rg.' must be 1-90 characters of letters, digits, '_', '-', '.', '(' or ')', "
            "not ending with '.'",
        ),
        (
            {"resource_group": "rg/../x"},
            "resource_group: 'rg/../x' must be 1-90 characters of letters, digits, '_', '-', '.', '(' or ')', "
            "not ending with '.'",
        ),
        (
            {"resource_group": "r" * 91},
            f"resource_group: '{'r' * 91}' must be 1-90 characters of letters, digits, '_', '-', '.', '(' or "
            "')', not ending with '.'",
        ),
        (
            {"kubernetes": {"version": "v1.34"}},
            "kubernetes.version: 'v1.34' must be MAJOR.MINOR or MAJOR.MINOR.PATCH (e.g. 1.34.1)",
        ),
        (
            {"deployment": "My Deployment"},
            "deployment: 'My Deployment' must be 2-24 lowercase letters, digits and '-', starting with a "
            "letter and not ending with '-'",
        ),
        (
            {"templates_dir": "/nonexistent/raks-templates"},
            "templates_dir: '/nonexistent/raks-templates' is not a folder (it holds your copies of raks' templates)",
        ),
        (
            {"anyscale": {"cloud_name": "a/../b"}},
            "anyscale.cloud_name: 'a/../b' must be 1-63 letters, digits, '-' and '_', starting with a letter or digit",
        ),
        (
            {"subscription_id": "not-a-guid"},
            "subscription_id: 'not-a-guid' is not a subscription id (a GUID)",
        ),
        (
            {"storage": {"pvc_name": "Blob_Fuse"}},
            "storage.pvc_name: 'Blob_Fuse' must be 1-253 lowercase letters, digits, '-' and '.', starting and "
            "ending with a letter or digit (a Kubernetes object name)",
        ),
        (
            {"addons": {"ingress_nginx": dict(INGRESS, namespace="ingress.nginx")}},
            "addons.ingress_nginx.namespace: 'ingress.nginx' must be 1-63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit (a Kubernetes namespace name)",
        ),
        (
            {"addons": {"ingress_nginx": dict(INGRESS, namespace="n" * 64)}},
            f"addons.ingress_nginx.namespace: '{'n' * 64}' must be 1-63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit (a Kubernetes namespace name)",
        ),
        (
            {"addons": {"ingress_nginx": dict(INGRESS, release="r" * 54)}},
            f"addons.ingress_nginx.release: '{'r' * 54}' must be 1-53 lowercase letters, digits, '-' and '.', "
            "starting and ending with a letter or digit (a Helm release name)",
        ),
        (
            {"addons": {"ingress_nginx": dict(INGRESS, release="Ingress")}},
            "addons.ingress_nginx.release: 'Ingress' must be 1-53 lowercase letters, digits, '-' and '.', "
            "starting and ending with a letter or digit (a Helm release name)",
        ),
    ],
)
def test_rule_message(tmp_path, data, expected):
    path = tmp_path / "raks.yaml"
    assert f"{path}: {expected}" in problems_of(tmp_path, data)


def test_unknown_keys_are_errors_with_a_suggestion(tmp_path):
    problems = problems_of(tmp_path, {"regoins": ["uksouth"], "kubernetes": {"verison": "1.34.1"}})
    path = tmp_path / "raks.yaml"
    assert (
        f"{path}: regoins: unknown key (allowed: addons, anyscale, cluster_prefix, currency, deployment, identity, "
        "kuberay, kubernetes, network, platform, pools, primary_region, regions, resource_group, storage, "
        "subscription_id, tags, templates_dir); did you mean 'regions'?"
    ) in problems
    assert f"{path}: kubernetes.verison: unknown key (allowed: tier, version); did you mean 'version'?" in problems


def test_unknown_key_inside_a_pool_and_a_region_network(tmp_path):
    pools = pools_with(vmsize="x")
    data = {"pools": pools, "network": {"regions": {"uksouth": {"vnet": "10.0.0.0/16"}}}}
    problems = " | ".join(problems_of(tmp_path, data))
    assert "pools[1].vmsize: unknown key" in problems and "did you mean 'vm_size'?" in problems
    assert "network.regions.uksouth.vnet: unknown key (allowed: subnet_cidr, vnet_cidr)" in problems


def test_type_errors_name_the_field(tmp_path):
    problems = problems_of(tmp_path, {"platform": "ray", "pools": pools_with(max_count="six")})
    path = tmp_path / "raks.yaml"
    assert f"{path}: platform: Input should be 'anyscale' or 'kuberay' (got 'ray')" in problems
    assert any(p.startswith(f"{path}: pools[1].max_count: Input should be a valid integer") for p in problems)


def test_spot_pool_with_nodes_is_a_warning_not_an_error(tmp_path):
    pools = [p.model_dump() for p in RaksConfig().pools]
    pools[2]["min_count"] = 1
    cfg = load_config(write(tmp_path, {"pools": pools}), environ={})
    warnings = [p.line() for p in validate(cfg) if p.severity == "warning"]
    assert warnings == [
        "pools[2].min_count: spot pool 'a100' keeps 1 node(s) running; spot nodes can be evicted at any "
        "time, 0 is recommended"
    ]


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "raks.yaml"
    path.write_text("deployment: x\nregions: [uksouth\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert info.value.problems[0].startswith(f"{path}:3: not valid YAML")


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml", environ={})
    assert info.value.problems == [
        f"--config: file '{tmp_path / 'nope.yaml'}' not found (run 'raks init' to write one)"
    ]


def test_top_level_must_be_a_mapping(tmp_path):
    path = tmp_path / "raks.yaml"
    path.write_text("- uksouth\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert info.value.problems == [f"{path}: the top level must be a mapping of keys (got list)"]


def test_precedence_file_then_env_then_flags(tmp_path):
    path = write(tmp_path, {"regions": ["uksouth"], "kubernetes": {"version": "1.33.2"}, "deployment": "filed"})
    env = {"RAKS_REGIONS": "westus2,eastus", "RAKS_KUBERNETES__VERSION": "1.34.1"}
    cfg = load_config(path, environ=env)
    assert cfg.regions == ["westus2", "eastus"] and cfg.kubernetes.version == "1.34.1"
    assert cfg.deployment == "filed"
    cfg = load_config(path, environ=env, regions=["swedencentral"])
    assert cfg.regions == ["swedencentral"] and cfg.resolved_primary_region() == "swedencentral"


def test_bad_flag_and_env_values_name_the_flag_or_variable(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(environ={"RAKS_KUBERNETES__VERSION": "latest"}, regions=["mars"])
    assert info.value.problems == [
        "--regions: regions[0]: 'mars' is not an Azure region name (see `az account list-locations`)",
        "RAKS_KUBERNETES__VERSION: kubernetes.version: 'latest' must be MAJOR.MINOR or MAJOR.MINOR.PATCH (e.g. 1.34.1)",
    ]


def test_unknown_raks_environment_variable_is_an_error():
    with pytest.raises(ConfigError) as info:
        load_config(environ={"RAKS_REGION": "uksouth"})
    assert info.value.problems[0].startswith("RAKS_REGION: not a raks setting (settings at this level: RAKS_ADDONS")


def test_structured_env_value(tmp_path):
    cfg = load_config(environ={"RAKS_TAGS": "{team: ml, cost-center: '42'}"})
    assert cfg.tags == {"team": "ml", "cost-center": "42"}
