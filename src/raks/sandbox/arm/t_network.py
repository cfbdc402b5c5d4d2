"""Microsoft.Network: VNets (subnets kept in sync as child resources), NSGs, public IPs, NAT gateways.

Network PUTs are Azure-AsyncOperation operations (201/200 + monitor); deletes answer 202, or
204 when the resource is absent. References must exist and resources in use cannot be deleted
(InUseSubnetCannotBeDeleted, InUseNatGatewayCannotBeDeleted, ...), which is what makes the
order of a teardown matter.

- NSG security rules are child resources kept in sync with the NSG's inline list.
- Read-only back-links: NSG and NAT gateway `properties.subnets`, public IP `properties.natGateway`.
"""

from __future__ import annotations

import copy
import ipaddress
import uuid
from typing import TYPE_CHECKING, Any, ClassVar

from raks.sandbox.arm import ids
from raks.sandbox.arm.base import ResourceType, base_resource, props
from raks.sandbox.arm.errors import ArmError

if TYPE_CHECKING:
    from raks.sandbox.arm import ArmApi

SUBNET_TYPE = "Microsoft.Network/virtualNetworks/subnets"


def _etag() -> str:
    return f'W/"{uuid.uuid4()}"'


def _ref_must_exist(api: ArmApi, ref: dict[str, Any] | None, owner: str, kind: str) -> None:
    if ref and ref.get("id") and api.get(ref["id"]) is None:
        raise ArmError(
            400,
            "InvalidResourceReference",
            f"Resource {ref['id']} referenced by resource {owner} was not found. Please make sure that the "
            f"referenced resource exists, and that both resources are in the same region.",
        )


def _refs_to(api: ArmApi, target_id: str) -> list[dict[str, Any]]:
    """Resources whose properties reference `target_id` (used for in-use checks)."""
    needle = ids.key(target_id)
    out = []
    for res in api.store.values():
        if ids.key(res["id"]) == needle or ids.key(res["id"]).startswith(needle + "/"):
            continue
        if needle in _ids_in(res.get("properties")):
            out.append(res)
    return out


def _ids_in(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            if k in ("id", "vnetSubnetID", "podSubnetID") and isinstance(v, str):
                found.add(ids.key(v))
            else:
                found |= _ids_in(v)
    elif isinstance(value, list):
        for v in value:
            found |= _ids_in(v)
    return found


class NetworkType(ResourceType):
    put_lro = "async"
    delete_lro = "async"
    creating_state = "Updating"  # Microsoft.Network reports "Updating" while creating too
    patchable = False
    # A resource others reference cannot be deleted: Azure's code and message ({id}, {name}, {user}).
    in_use_code: ClassVar[str] = ""
    in_use_message: ClassVar[str] = ""

    def counts_as_use(self, user: dict[str, Any]) -> bool:
        return True

    def check_delete(self, api: ArmApi, res: dict[str, Any]) -> None:
        if not self.in_use_code:
            return
        users = [r for r in _refs_to(api, res["id"]) if self.counts_as_use(r)]
        if users:
            message = self.in_use_message.format(id=res["id"], name=res["name"], user=users[0]["id"])
            raise ArmError(400, self.in_use_code, message)

    def view(self, api: ArmApi, res: dict[str, Any]) -> dict[str, Any]:
        out = super().view(api, res)
        out.setdefault("etag", res.get("etag") or _etag())
        return out

    def stamp(self, res: dict[str, Any]) -> None:
        res["etag"] = _etag()
        props(res).setdefault("resourceGuid", str(uuid.uuid4()))


class Subnets(NetworkType):
    type = SUBNET_TYPE
    tracked = False
    latency = "network.subnet"

    def build(self, api: ArmApi, rid: str, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        res = base_resource(self, rid, body, existing)
        vnet = api.get(ids.parent_id(rid))
        assert vnet is not None  # parent checked by the caller
        p = copy.deepcopy(body.get("properties") or {})
        check_subnet(api, vnet, res["name"], p, rid)
        p.pop("provisioningState", None)
        res["properties"] = p
        self.stamp(res)
        return res

    in_use_code = "InUseSubnetCannotBeDeleted"
    in_use_message = (
        "Subnet {name} is in use by {user} and cannot be deleted. In order to delete the subnet, delete all the "
        "resources within the subnet."
    )

    def counts_as_use(self, user: dict[str, Any]) -> bool:
        return bool(user["type"] != SUBNET_TYPE)


def check_subnet(api: ArmApi, vnet: dict[str, Any], name: str, p: dict[str, Any], owner: str) -> None:
    prefix = p.get("addressPrefix") or (p.get("addressPrefixes") or [None])[0]
    if not prefix:
        raise ArmError(400, "InvalidRequestFormat", f"Subnet {name} must have an addressPrefix.")
    try:
        net = ipaddress.ip_network(prefix, strict=True)
    except ValueError:
        raise ArmError(
            400, "InvalidCIDRNotation", f"The address prefix {prefix} in resource {owner} has an invalid CIDR notation."
        ) from None
    spaces = [ipaddress.ip_network(a) for a in vnet["properties"].get("addressSpace", {}).get("addressPrefixes", [])]
    if not any(net.subnet_of(s) for s in spaces if s.version == net.version):  # type: ignore[arg-type]
        raise ArmError(
            400,
            "NetcfgSubnetRangeOutsideVnet",
            f"Subnet '{name}' is not valid because its IP address range is outside the IP address range of "
            f"virtual network '{vnet['name']}'.",
        )
    _ref_must_exist(api, p.get("networkSecurityGroup"), owner, "networkSecurityGroup")
    _ref_must_exist(api, p.get("natGateway"), owner, "natGateway")


class VirtualNetworks(NetworkType):
    type = "Microsoft.Network/virtualNetworks"
    latency = "network.vnet"

    def build(self, api: ArmApi, rid: str, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        res = base_resource(self, rid, body, existing)
        p = copy.deepcopy(body.get("properties") or {})
        prefixes = (p.get("addressSpace") or {}).get("addressPrefixes") or []
        if not prefixes:
            raise ArmError(400, "InvalidRequestFormat", "addressSpace.addressPrefixes is required.")
        for a in prefixes:
            try:
                ipaddress.ip_network(a, strict=True)
            except ValueError:
                raise ArmError(
                    400,
                    "InvalidCIDRNotation",
                    f"The address prefix {a} in resource {rid} has an invalid CIDR notation.",
                ) from None
        # The VNet body's subnets replace the child subnets: absent ones are deleted (unless in use).
        wanted = {s["name"].lower(): s for s in p.pop("subnets", None) or []}
        res["properties"] = p
        for sub in wanted.values():
            check_subnet(api, res, sub["name"], sub.get("properties") or {}, rid)
        if existing is not None:
            for child in api.children(rid, SUBNET_TYPE):
                if child["name"].lower() not in wanted:
                    Subnets().check_delete(api, child)
        res["_subnets"] = list(wanted.values())
        self.stamp(res)
        return res

    def on_ready(self, api: ArmApi, res: dict[str, Any], created: bool) -> None:
        wanted = res.pop("_subnets", None)
        if wanted is None:
            return
        keep = set()
        for sub in wanted:
            sid = f"{res['id']}/subnets/{sub['name']}"
            p = copy.deepcopy(sub.get("properties") or {})
            p["provisioningState"] = "Succeeded"
            api.put_raw({"id": sid, "name": sub["name"], "type": SUBNET_TYPE, "properties": p, "etag": _etag()})
            keep.add(ids.key(sid))
        for child in api.children(res["id"], SUBNET_TYPE):
            if ids.key(child["id"]) not in keep:
                api.remove(child["id"])

    def view(self, api: ArmApi, res: dict[str, Any]) -> dict[str, Any]:
        out = super().view(api, res)
        pending = out.pop("_subnets", None)
        subnets = [Subnets().view(api, s) for s in api.children(res["id"], SUBNET_TYPE)]
        if pending is not None and not subnets:
            subnets = [{"name": s["name"], "properties": s.get("properties") or {}} for s in pending]
        out["properties"]["subnets"] = subnets
        return out

    def check_delete(self, api: ArmApi, res: dict[str, Any]) -> None:
        for child in api.children(res["id"], SUBNET_TYPE):
            Subnets().check_delete(api, child)


RULE_TYPE = "Microsoft.Network/networkSecurityGroups/securityRules"


def check_rules(rules: list[dict[str, Any]]) -> None:
    """Priorities 100-4096, unique per direction (SecurityRuleInvalidPriority /
    SecurityRulesConflictingPriority, as the network RP answers)."""
    priorities: set[tuple[str, int]] = set()
    for rule in rules:
        rp = rule.get("properties") or {}
        prio = int(rp.get("priority") or 0)
        direction = rp.get("direction") or ""
        if not 100 <= prio <= 4096:
            raise ArmError(
                400,
                "SecurityRuleInvalidPriority",
                f"Security rule {rule.get('name')} has invalid priority {prio}. Value provided: {prio} Allowed range 100-4096.",
            )
        if (direction, prio) in priorities:
            raise ArmError(
                400,
                "SecurityRulesConflictingPriority",
                f"Security rule {rule.get('name')} conflicts with another rule of priority {prio}.",
            )
        priorities.add((direction, prio))


def _rule(nsg_id: str, name: str, props_: dict[str, Any]) -> dict[str, Any]:
    rp = {k: copy.deepcopy(v) for k, v in props_.items() if k != "provisioningState"}
    rp["provisioningState"] = "Succeeded"
    return {"id": f"{nsg_id}/securityRules/{name}", "name": name, "type": RULE_TYPE, "properties": rp, "etag": _etag()}


class NetworkSecurityGroups(NetworkType):
    """Rules are child resources (`.../securityRules/{name}`, their own GET/PUT/DELETE/list, "Security
    Rules" REST API) kept in sync with the NSG's inline `properties.securityRules`: a PUT of the NSG
    replaces the set, a rule written on its own shows up inline. `properties.subnets` lists the
    subnets that reference the NSG (read-only back-link, NetworkSecurityGroupPropertiesFormat)."""

    type = "Microsoft.Network/networkSecurityGroups"
    latency = "network.nsg"

    def build(self, api: ArmApi, rid: str, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        res = base_resource(self, rid, body, existing)
        p = copy.deepcopy(body.get("properties") or {})
        rules = p.pop("securityRules", None) or []
        check_rules(rules)
        p.pop("subnets", None)
        p["defaultSecurityRules"] = _default_rules(rid)
        res["properties"] = p
        res["_rules"] = [{"name": r.get("name"), "properties": r.get("properties") or {}} for r in rules]
        self.stamp(res)
        return res

    def on_ready(self, api: ArmApi, res: dict[str, Any], created: bool) -> None:
        wanted = res.pop("_rules", None)
        if wanted is None:
            return
        keep = set()
        for rule in wanted:
            child = _rule(res["id"], str(rule["name"]), rule["properties"])
            api.put_raw(child)
            keep.add(ids.key(child["id"]))
        for child in api.children(res["id"], RULE_TYPE):
            if ids.key(child["id"]) not in keep:
                api.remove(child["id"])

    def view(self, api: ArmApi, res: dict[str, Any]) -> dict[str, Any]:
        out = super().view(api, res)
        pending = out.pop("_rules", None)
        rules = [SecurityRules().view(api, r) for r in api.children(res["id"], RULE_TYPE)]
        if pending is not None and not rules:
            rules = [_rule(res["id"], str(r["name"]), r["properties"]) for r in pending]
        out["properties"]["securityRules"] = rules
        subnets = [{"id": r["id"]} for r in _refs_to(api, res["id"]) if r["type"] == SUBNET_TYPE]
        if subnets:
            out["properties"]["subnets"] = subnets
        return out

    in_use_code = "InUseNetworkSecurityGroupCannotBeDeleted"
    in_use_message = (
        "Network security group {id} cannot be deleted because it is in use by the following resources: {user}."
    )

    def counts_as_use(self, user: dict[str, Any]) -> bool:
        return bool(user["type"] != RULE_TYPE)


class SecurityRules(NetworkType):
    type = RULE_TYPE
    tracked = False
    latency = "network.nsg"

    def build(self, api: ArmApi, rid: str, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        res = base_resource(self, rid, body, existing)
        siblings = [r for r in api.children(ids.parent_id(rid), RULE_TYPE) if ids.key(r["id"]) != ids.key(rid)]
        check_rules([*siblings, {"name": res["name"], "properties": body.get("properties") or {}}])
        return _rule(ids.parent_id(rid), res["name"], body.get("properties") or {})


def _default_rules(rid: str) -> list[dict[str, Any]]:
    names = [
        ("AllowVnetInBound", "Inbound", 65000, "Allow"),
        ("AllowAzureLoadBalancerInBound", "Inbound", 65001, "Allow"),
        ("DenyAllInBound", "Inbound", 65500, "Deny"),
        ("AllowVnetOutBound", "Outbound", 65000, "Allow"),
        ("AllowInternetOutBound", "Outbound", 65001, "Allow"),
        ("DenyAllOutBound", "Outbound", 65500, "Deny"),
    ]
    return [
        {
            "name": n,
            "id": f"{rid}/defaultSecurityRules/{n}",
            "properties": {
                "protocol": "*",
                "sourcePortRange": "*",
                "destinationPortRange": "*",
                "sourceAddressPrefix": "*",
                "destinationAddressPrefix": "*",
                "access": access,
                "priority": prio,
                "direction": direction,
                "provisioningState": "Succeeded",
            },
        }
        for n, direction, prio, access in names
    ]


class PublicIPAddresses(NetworkType):
    type = "Microsoft.Network/publicIPAddresses"
    latency = "network.publicip"

    def view(self, api: ArmApi, res: dict[str, Any]) -> dict[str, Any]:
        """`properties.natGateway`: the NAT gateway that uses the address (read-only back-link)."""
        out = super().view(api, res)
        nat = next((r for r in _refs_to(api, res["id"]) if r["type"] == NatGateways.type), None)
        if nat is not None:
            out["properties"]["natGateway"] = {"id": nat["id"]}
        return out

    def build(self, api: ArmApi, rid: str, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        res = base_resource(self, rid, body, existing)
        p = copy.deepcopy(body.get("properties") or {})
        sku = body.get("sku") or {"name": "Standard"}
        if sku.get("name") == "Standard" and p.get("publicIPAllocationMethod", "Static") != "Static":
            raise ArmError(
                400,
                "StandardSkuPublicIPAddressesCannotBeDynamic",
                "Standard sku publicIp addresses can not have Dynamic allocation method.",
            )
        p.setdefault("publicIPAllocationMethod", "Static")
        p.setdefault("publicIPAddressVersion", "IPv4")
        p.setdefault("idleTimeoutInMinutes", 4)
        old = (existing or {}).get("properties") or {}
        n = api.world.next_counter("public_ip") if not old.get("ipAddress") else 0
        p["ipAddress"] = old.get("ipAddress") or f"20.{(n // 65536) % 256}.{(n // 256) % 256}.{n % 256}"
        res["sku"] = {"name": sku.get("name", "Standard"), "tier": sku.get("tier", "Regional")}
        res["properties"] = p
        self.stamp(res)
        return res

    in_use_code = "PublicIPAddressCannotBeDeleted"
    in_use_message = "Public IP address {id} can not be deleted since it is still allocated to resource {user}."


class NatGateways(NetworkType):
    type = "Microsoft.Network/natGateways"
    latency = "network.natgateway"

    def build(self, api: ArmApi, rid: str, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        res = base_resource(self, rid, body, existing)
        p = copy.deepcopy(body.get("properties") or {})
        for ref in p.get("publicIpAddresses") or []:
            _ref_must_exist(api, ref, rid, "publicIpAddresses")
            pip = api.get(ref["id"])
            if pip is not None and (pip.get("sku") or {}).get("name") != "Standard":
                raise ArmError(
                    400, "NatGatewayCannotUseBasicSkuPublicIp", "NAT gateway requires Standard SKU public IP addresses."
                )
        timeout = int(p.get("idleTimeoutInMinutes") or 4)
        if not 4 <= timeout <= 120:
            raise ArmError(
                400, "InvalidIdleTimeoutInMinutes", f"Idle timeout {timeout} must be between 4 and 120 minutes."
            )
        p["idleTimeoutInMinutes"] = timeout
        res["sku"] = body.get("sku") or {"name": "Standard"}
        res["properties"] = p
        self.stamp(res)
        return res

    def view(self, api: ArmApi, res: dict[str, Any]) -> dict[str, Any]:
        out = super().view(api, res)
        subnets = [{"id": r["id"]} for r in _refs_to(api, res["id"]) if r["type"] == SUBNET_TYPE]
        out["properties"]["subnets"] = subnets
        return out

    in_use_code = "InUseNatGatewayCannotBeDeleted"
    in_use_message = "Nat Gateway {id} cannot be deleted because it is in use by subnet(s) {user}."

    def counts_as_use(self, user: dict[str, Any]) -> bool:
        return bool(user["type"] == SUBNET_TYPE)


TYPES: list[ResourceType] = [
    VirtualNetworks(),
    Subnets(),
    NetworkSecurityGroups(),
    SecurityRules(),
    PublicIPAddresses(),
    NatGateways(),
]
