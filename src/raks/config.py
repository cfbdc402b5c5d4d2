"""The raks.yaml model: defaults are the reference setup's values (seed-parameters.md).

Loading order, later wins: built-in defaults < raks.yaml < RAKS_* environment < command-line
flags. Types and unknown keys are checked by pydantic (`extra="forbid"`: a typo is an error,
never silently ignored); the rules between fields live in `raks.validation`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from raks.errors import ConfigError

ANYSCALE_OPERATOR_APP_ID = "086bc555-6989-4362-ba30-fded273e432b"
FIC_AUDIENCE = "api://AzureADTokenExchange"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Pool(_Model):
    """One AKS node pool. Autoscaling is on when max_count > min_count."""

    name: str
    mode: Literal["system", "user"] = "user"
    vm_size: str
    min_count: int = Field(ge=0, le=1000)
    max_count: int = Field(ge=0, le=1000)
    spot: bool = False
    labels: dict[str, str] = Field(default_factory=dict)
    taints: list[str] = Field(default_factory=list)
    # Azure has no spot-to-on-demand fallback inside a pool; `on-demand` pairs an on-demand pool.
    fallback: Literal["none", "on-demand"] = "none"
    # An AKS-managed GPU pool installs its own NVIDIA device plugin; raks then does not.
    aks_managed_gpu: bool = False

    @property
    def autoscale(self) -> bool:
        return self.max_count > self.min_count


class RegionNetwork(_Model):
    vnet_cidr: str
    subnet_cidr: str


class Network(_Model):
    # Each region gets its own /vnet_prefix VNet carved from the supernet, in region order, so
    # VNets never overlap and can be peered (the reference reuses one range everywhere).
    supernet: str = "10.192.0.0/10"
    vnet_prefix: int = Field(default=16, ge=8, le=29)
    subnet_prefix: int = Field(default=19, ge=8, le=29)
    pod_cidr: str = "10.128.0.0/12"
    service_cidr: str = "10.0.0.0/16"
    dns_service_ip: str = "10.0.0.10"
    nat_idle_timeout_minutes: int = Field(default=10, ge=4, le=120)
    # Explicit ranges for some regions; the others are still allocated from the supernet.
    regions: dict[str, RegionNetwork] = Field(default_factory=dict)


class Kubernetes(_Model):
    version: str = "1.34.1"
    tier: Literal["Free", "Standard", "Premium"] = "Standard"


CorsMethod = Literal["DELETE", "GET", "HEAD", "MERGE", "OPTIONS", "PATCH", "POST", "PUT"]


class CorsRule(_Model):
    allowed_origins: list[str] = Field(default_factory=lambda: ["https://console.anyscale.com"])
    allowed_methods: list[CorsMethod] = Field(default_factory=lambda: list[CorsMethod](["GET"]))
    allowed_headers: list[str] = Field(default_factory=lambda: ["*"])
    exposed_headers: list[str] = Field(default_factory=list)
    max_age_seconds: int = Field(default=600, ge=0, le=2147483647)


class Storage(_Model):
    # None: derived from subscription + deployment (globally unique), see raks.names.
    account: str | None = None
    container: str | None = None
    sku: Literal["Standard_LRS", "Standard_ZRS", "Standard_GRS", "Standard_RAGRS"] = "Standard_LRS"
    cors: list[CorsRule] = Field(default_factory=lambda: [CorsRule()])
    pvc_name: str = "blob-fuse2"
    pvc_size: str = Field(default="100Gi", pattern=r"^[1-9][0-9]*(Mi|Gi|Ti)$")


class Identity(_Model):
    name: str | None = None


class Addon(_Model):
    enabled: bool = True
    chart: str
    repo: str
    version: str
    release: str
    namespace: str
    # Merged over the shipped template values (templates/helm/<addon>.yaml).
    values: dict[str, Any] = Field(default_factory=dict)


class Addons(_Model):
    ingress_nginx: Addon = Addon(
        chart="ingress-nginx",
        repo="https://kubernetes.github.io/ingress-nginx",
        version="4.12.1",
        release="ingress-nginx",
        namespace="ingress-nginx",
    )
    nvidia_device_plugin: Addon = Addon(
        chart="nvidia-device-plugin",
        repo="https://nvidia.github.io/k8s-device-plugin",
        version="0.17.1",
        release="nvdp",
        namespace="nvidia-device-plugin",
    )
    anyscale_operator: Addon = Addon(
        chart="anyscale-operator",
        repo="https://anyscale.github.io/helm-charts",
        version="1.2.1",
        release="anyscale-operator",
        namespace="anyscale-operator",
    )
    kuberay_operator: Addon = Addon(
        chart="kuberay-operator",
        repo="https://ray-project.github.io/kuberay-helm/",
        version="1.4.2",
        release="kuberay-operator",
        namespace="kuberay-system",
    )


class Anyscale(_Model):
    cloud_name: str | None = None
    operator_app_id: str = ANYSCALE_OPERATOR_APP_ID


class RayDashboard(_Model):
    """The Ray dashboard and its Jobs API, which runs submitted code. Private by default: reach it
    with `kubectl port-forward`; `public: true` puts it behind the ingress-nginx load balancer,
    reachable only from `allowed_cidrs`."""

    public: bool = False
    allowed_cidrs: list[str] = Field(default_factory=list)


class KubeRay(_Model):
    dashboard: RayDashboard = Field(default_factory=RayDashboard)


def _reference_pools() -> list[Pool]:
    spot_gpu_taints = [
        "node.anyscale.com/capacity-type=SPOT:NoSchedule",
        "nvidia.com/gpu=present:NoSchedule",
        "node.anyscale.com/accelerator-type=GPU:NoSchedule",
    ]
    return [
        Pool(name="sys", mode="system", vm_size="Standard_D8_v5", min_count=3, max_count=3),
        Pool(
            name="cpu",
            vm_size="Standard_D16_v5",
            min_count=3,
            max_count=6,
            labels={"node.anyscale.com/capacity-type": "ON_DEMAND"},
            taints=["node.anyscale.com/capacity-type=ON_DEMAND:NoSchedule"],
        ),
        Pool(
            name="a100",
            vm_size="Standard_ND96asr_v4",
            min_count=0,
            max_count=3,
            spot=True,
            labels={
                "node.anyscale.com/capacity-type": "SPOT",
                "nvidia.com/gpu.product": "NVIDIA-A100",
                "nvidia.com/gpu.count": "8",
            },
            taints=spot_gpu_taints,
        ),
    ]


class RaksConfig(_Model):
    deployment: str = "aks-anyscale"
    subscription_id: str | None = None
    resource_group: str | None = None
    primary_region: str | None = None
    regions: list[str] = Field(default_factory=lambda: ["uksouth"])
    platform: Literal["anyscale", "kuberay"] = "anyscale"
    cluster_prefix: str = "aks"
    tags: dict[str, str] = Field(default_factory=dict)
    kubernetes: Kubernetes = Field(default_factory=Kubernetes)
    network: Network = Field(default_factory=Network)
    pools: list[Pool] = Field(default_factory=_reference_pools)
    storage: Storage = Field(default_factory=Storage)
    identity: Identity = Field(default_factory=Identity)
    addons: Addons = Field(default_factory=Addons)
    anyscale: Anyscale = Field(default_factory=Anyscale)
    kuberay: KubeRay = Field(default_factory=KubeRay)
    templates_dir: str | None = None
    # Currency of the prices plan, status and `raks regions` show (Azure Retail Prices API currencyCode).
    currency: str = "USD"

    # Derived values: what a None above resolves to. Kept as methods, so `config show` can
    # print them filled in and raks.yaml stays free of values that only repeat the deployment.
    def resolved_primary_region(self) -> str:
        return self.primary_region or self.regions[0]

    def resolved_resource_group(self) -> str:
        return self.resource_group or f"{self.deployment}-rg"

    def resolved_container(self) -> str:
        return self.storage.container or f"{self.deployment}-blob"

    def resolved_identity_name(self) -> str:
        return self.identity.name or f"{self.deployment}-operator-mi"

    def resolved_cloud_name(self) -> str:
        return self.anyscale.cloud_name or self.deployment


# Environment variables that are not config fields.
RUNTIME_ENV = frozenset(
    {
        "RAKS_CONFIG",
        "RAKS_DEBUG",
        "RAKS_SANDBOX_DIR",
        "RAKS_OUTPUT",  # = --output (cli/main.py)
        "RAKS_SANDBOX_PROFILE",
        "RAKS_SANDBOX_TOKEN",
        "RAKS_HELM_DRIVER",
    }
)


def field_path(loc: tuple[Any, ...]) -> str:
    """('pools', 1, 'name') -> 'pools[1].name'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys a mapping at `loc` accepts, for the unknown-key message."""
    model: Any = RaksConfig
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part)
        if field is None:
            # A dict keyed by the user (e.g. network.regions.<region>): its values are models.
            model = _dict_value_model(model, part)
            continue
        model = _model_of(field.annotation)
    return sorted(model.model_fields) if model is not None else []


def _model_of(annotation: Any) -> Any:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _dict_value_model(model: Any, key: Any) -> Any:
    return model if model is not None and model is not RaksConfig else None


def _pydantic_problems(err: ValidationError, source: str) -> list[str]:
    import difflib

    problems = []
    for e in err.errors():
        loc = tuple(e["loc"])
        path = field_path(loc)
        if e["type"] == "extra_forbidden":
            allowed = _allowed_keys(loc)
            near = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            suggestion = f"; did you mean '{near[0]}'?" if near else ""
            problems.append(f"{source}: {path}: unknown key (allowed: {', '.join(allowed)}){suggestion}")
        elif e["type"] == "missing":
            problems.append(f"{source}: {path}: required field is missing")
        else:
            value = e.get("input")
            shown = f" (got {value!r})" if not isinstance(value, dict | list) else ""
            problems.append(f"{source}: {path}: {e['msg']}{shown}")
    return problems


def read_yaml(path: Path) -> dict[str, Any]:
    """raks.yaml as a mapping; a missing or unparsable file is a ConfigError naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"--config: file '{path}' not found (run 'raks init' to write one)") from None
    except UnicodeDecodeError as exc:
        # YAML 1.2 streams are Unicode; raks reads raks.yaml as UTF-8 (ASCII is UTF-8 too).
        raise ConfigError(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
            "save raks.yaml as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"--config: cannot read '{path}': {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}{where}: not valid YAML: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys (got {type(data).__name__})")
    return data


def _env_overrides(environ: dict[str, str]) -> list[tuple[tuple[str, ...], str, str]]:
    """RAKS_KUBERNETES__VERSION=1.33.2 -> (('kubernetes', 'version'), '1.33.2', var)."""
    out = []
    for var, value in sorted(environ.items()):
        if not var.startswith("RAKS_") or var in RUNTIME_ENV:
            continue
        path = tuple(p.lower() for p in var[len("RAKS_") :].split("__"))
        out.append((path, value, var))
    return out


def _set_env_value(raw: dict[str, Any], path: tuple[str, ...], value: str, var: str) -> None:
    model: Any = RaksConfig
    node = raw
    for i, key in enumerate(path):
        fields = model.model_fields if model is not None else {}
        if key not in fields:
            allowed = ", ".join("RAKS_" + "__".join((*path[:i], k)).upper() for k in sorted(fields))
            raise ConfigError(f"{var}: not a raks setting (settings at this level: {allowed})")
        annotation = fields[key].annotation
        if i == len(path) - 1:
            node[key] = _parse_env_scalar(value, annotation)
            return
        model = _model_of(annotation)
        if model is None:
            raise ConfigError(f"{var}: '{key}' takes a value, not nested settings")
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child


def _parse_env_scalar(value: str, annotation: Any) -> Any:
    import typing

    origin = typing.get_origin(annotation)
    if value.lstrip().startswith(("[", "{")):
        # Structured values are given as YAML/JSON flow text.
        try:
            return yaml.safe_load(value)
        except yaml.YAMLError:
            return value
    if origin is list:
        return [v.strip() for v in value.replace(",", " ").split() if v.strip()]
    return value


def default_config_path(cwd: Path | None = None) -> Path:
    return (cwd or Path.cwd()) / "raks.yaml"


def _origin(field: str, origins: dict[str, str], default: str) -> str:
    """Which source set a field: the flag or variable that overrode it, else the file."""
    best, label = "", default
    for prefix, source in origins.items():
        if (field == prefix or field.startswith((prefix + ".", prefix + "["))) and len(prefix) > len(best):
            best, label = prefix, source
    return label


def load_config(
    path: Path | None = None,
    *,
    regions: list[str] | None = None,
    environ: dict[str, str] | None = None,
) -> RaksConfig:
    """Defaults < file < RAKS_* env < flags. Raises ConfigError listing every problem."""
    from raks.validation import validate

    environ = dict(os.environ) if environ is None else environ
    explicit = path is not None or bool(environ.get("RAKS_CONFIG"))
    cfg_path = path or (Path(environ["RAKS_CONFIG"]) if environ.get("RAKS_CONFIG") else default_config_path())
    raw: dict[str, Any] = {}
    source = "config"
    if explicit or cfg_path.exists():
        raw = read_yaml(cfg_path)
        source = str(cfg_path)
    origins: dict[str, str] = {}
    for key_path, value, var in _env_overrides(environ):
        _set_env_value(raw, key_path, value, var)
        origins[".".join(key_path)] = var
    if regions:
        raw["regions"] = list(regions)
        origins["regions"] = "--regions"
    try:
        cfg = RaksConfig.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for line in _pydantic_problems(exc, ""):
            field = line[2:].split(":", 1)[0]
            problems.append(_origin(field, origins, source) + line)
        raise ConfigError(problems) from None
    errors = [p for p in validate(cfg) if p.severity == "error"]
    if errors:
        raise ConfigError([f"{_origin(p.field, origins, source)}: {p.line()}" for p in errors])
    return cfg


def resolved_dict(cfg: RaksConfig) -> dict[str, Any]:
    """The config with every derived value filled in, as `raks config show` prints it."""
    data = cfg.model_dump(mode="json")
    data["resource_group"] = cfg.resolved_resource_group()
    data["primary_region"] = cfg.resolved_primary_region()
    data["storage"]["container"] = cfg.resolved_container()
    data["identity"]["name"] = cfg.resolved_identity_name()
    data["anyscale"]["cloud_name"] = cfg.resolved_cloud_name()
    return data
