"""Per-region network: NSG (HTTPS inbound), public IP, NAT gateway, VNet with the node subnet.

The subnet is written inline in the VNet body, associated with the NSG and the NAT gateway in
the same request: a VNet PUT without its subnets would remove them, and the reference's
separate association calls (with `|| true`) could fail silently.
"""

from __future__ import annotations

from typing import Any

from raks import names
from raks.steps.arm_step import ArmStep
from raks.steps.base import NOOP, UPDATE, Context, Diff, same

RG_STEP = "global/resource-group"


def _rid(ctx: Context, rg: str, type_path: str, name: str) -> str:
    return f"/subscriptions/{ctx.subscription_id}/resourceGroups/{rg}/providers/Microsoft.Network/{type_path}/{name}"


class RegionArmStep(ArmStep):
    suffix = ""

    def __init__(self, rg: str, region: str) -> None:
        self.rg, self.region = rg, region
        self.key = f"{region}/{self.suffix}"
        self.needs = (RG_STEP,)

    def names(self, ctx: Context) -> names.RegionNames:
        return names.region_names(ctx.cfg, self.in_region)


class NsgStep(RegionArmStep):
    kind = "nsg"
    suffix = "nsg"
    owned = ("properties.securityRules",)
    title = "network security group"

    def path(self, ctx: Context) -> tuple[str, ...]:
        return (self.rg, self.names(ctx).nsg)

    def body(self, ctx: Context) -> dict[str, Any]:
        rule = {
            "name": "AllowHttpsInbound",
            "properties": {
                "priority": 100,
                "direction": "Inbound",
                "access": "Allow",
                "protocol": "Tcp",
                "sourceAddressPrefix": "*",
                "sourcePortRange": "*",
                "destinationAddressPrefix": "*",
                "destinationPortRange": "443",
            },
        }
        return {"location": self.region, "properties": {"securityRules": [rule]}}


class PublicIpStep(RegionArmStep):
    kind = "public_ip"
    suffix = "public-ip"
    owned = ("sku.name", "properties.publicIPAllocationMethod")
    title = "NAT public IP"

    def path(self, ctx: Context) -> tuple[str, ...]:
        return (self.rg, self.names(ctx).public_ip)

    def body(self, ctx: Context) -> dict[str, Any]:
        return {
            "location": self.region,
            "sku": {"name": "Standard", "tier": "Regional"},
            "properties": {"publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4"},
        }


class NatGatewayStep(RegionArmStep):
    kind = "nat_gateway"
    suffix = "nat-gateway"
    owned = ("sku.name", "properties.idleTimeoutInMinutes", "properties.publicIpAddresses")
    title = "NAT gateway"

    def __init__(self, rg: str, region: str) -> None:
        super().__init__(rg, region)
        self.needs = (RG_STEP, f"{region}/public-ip")

    def path(self, ctx: Context) -> tuple[str, ...]:
        return (self.rg, self.names(ctx).nat_gateway)

    def body(self, ctx: Context) -> dict[str, Any]:
        pip = _rid(ctx, self.rg, "publicIPAddresses", self.names(ctx).public_ip)
        return {
            "location": self.region,
            "sku": {"name": "Standard"},
            "properties": {
                "idleTimeoutInMinutes": ctx.cfg.network.nat_idle_timeout_minutes,
                "publicIpAddresses": [{"id": pip}],
            },
        }


class VnetStep(RegionArmStep):
    kind = "vnet"
    suffix = "vnet"
    owned = ("properties.addressSpace.addressPrefixes",)
    title = "VNet and node subnet"

    def __init__(self, rg: str, region: str) -> None:
        super().__init__(rg, region)
        self.needs = (RG_STEP, f"{region}/nsg", f"{region}/nat-gateway")

    def path(self, ctx: Context) -> tuple[str, ...]:
        return (self.rg, self.names(ctx).vnet)

    def body(self, ctx: Context) -> dict[str, Any]:
        n = self.names(ctx)
        ranges = names.region_ranges(ctx.cfg, self.in_region)
        subnet = {
            "name": n.subnet,
            "properties": {
                "addressPrefix": str(ranges.subnet),
                "networkSecurityGroup": {"id": _rid(ctx, self.rg, "networkSecurityGroups", n.nsg)},
                "natGateway": {"id": _rid(ctx, self.rg, "natGateways", n.nat_gateway)},
            },
        }
        return {
            "location": self.region,
            "properties": {"addressSpace": {"addressPrefixes": [str(ranges.vnet)]}, "subnets": [subnet]},
        }

    def diff(self, ctx: Context, desired: dict[str, Any], observed: dict[str, Any] | None) -> Diff:
        result = super().diff(ctx, desired, observed)
        if observed is None or (result.action != NOOP and result.action != UPDATE):
            return result
        # Only raks' subnet is compared; subnets someone else added are theirs.
        ours = desired["properties"]["subnets"][0]
        theirs = {s.get("name", "").lower(): s for s in (observed.get("properties") or {}).get("subnets") or []}
        if not same(ours, theirs.get(ours["name"].lower())):
            return Diff(UPDATE, [*result.fields, f"properties.subnets[{ours['name']}]"])
        return result

    def write_body(self, ctx: Context, desired: dict[str, Any], observed: dict[str, Any] | None) -> dict[str, Any]:
        ours = desired["properties"]["subnets"][0]
        others = [
            s
            for s in ((observed or {}).get("properties") or {}).get("subnets") or []
            if s.get("name", "").lower() != ours["name"].lower()
        ]
        body = dict(desired)
        body["properties"] = {**desired["properties"], "subnets": [*others, ours]}
        return body

    def outputs(self, ctx: Context, observed: dict[str, Any] | None) -> dict[str, Any]:
        n = self.names(ctx)
        vnet = _rid(ctx, self.rg, "virtualNetworks", n.vnet)
        return {"id": (observed or {}).get("id") or vnet, "subnet_id": vnet + f"/subnets/{n.subnet}"}
