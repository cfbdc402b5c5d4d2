"""Azure Resource Manager emulator: routing, the generic resource store and long-running operations.

Long-running operations follow what the real SDK pollers accept (azure-facts.md §0):
- `async` types answer PUT 201/200 with `Azure-AsyncOperation`, DELETE 202 with `Location` and
  `Azure-AsyncOperation` (204 when the resource is absent); the monitor answers `{"status"}`;
- `location` types (storage account create, resource group delete) answer 202 + `Location`; the
  monitor answers 202 until done, then 200 (with the resource for a create);
- operations finish by wall-clock time, lazily (`settle`), so a killed client's operation still
  completes. While one runs, monitors send a Retry-After equal to the time left (fractional
  seconds: the latency profile is scaled), so a client wakes when it is done;
- operation URLs are under the region of the resource or of its parent (an agent pool's under
  its cluster's region, `.../locations/{region}/operations/{id}`), never "global" for a child;
- api-versions outside each namespace's list are refused (400 NoRegisteredProviderFound /
  InvalidApiVersionParameter, see `api_versions`);
- not-found answers name the resource's full type path (`managedClusters/x/agentPools/y`).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from raks.sandbox.arm import api_versions, ids
from raks.sandbox.arm.base import ResourceType, new_guid, props
from raks.sandbox.arm.errors import ArmError, rg_not_found
from raks.sandbox.faults import FaultRule
from raks.sandbox.http import Request, Response

if TYPE_CHECKING:
    from raks.sandbox.world import World

TERMINAL = ("Succeeded", "Failed", "Canceled")


def _registry() -> dict[str, ResourceType]:
    from raks.sandbox.arm import (
        t_aks,
        t_authorization,
        t_msi,
        t_network,
        t_resources,
        t_storage,
    )

    out: dict[str, ResourceType] = {}
    for module in (t_resources, t_msi, t_authorization, t_storage, t_network, t_aks):
        for spec in module.TYPES:
            out[spec.type.lower()] = spec
    return out


class ArmApi:
    def __init__(self, world: World) -> None:
        self.world = world
        self.types = _registry()
        self.settled_something = False

    # -- store ---------------------------------------------------------------------------
    @property
    def store(self) -> dict[str, dict[str, Any]]:
        arm: dict[str, dict[str, Any]] = self.world.state["arm"]
        return arm

    @property
    def ops(self) -> dict[str, dict[str, Any]]:
        ops: dict[str, dict[str, Any]] = self.world.state["operations"]
        return ops

    def get(self, rid: str) -> dict[str, Any] | None:
        return self.store.get(ids.key(rid))

    def put_raw(self, res: dict[str, Any]) -> None:
        self.store[ids.key(res["id"])] = res

    def children(self, rid: str, type_name: str | None = None) -> list[dict[str, Any]]:
        prefix = ids.key(rid) + "/"
        depth = len(ids.segments(rid)) + 2
        out = []
        for k, res in self.store.items():
            right_type = type_name is None or res["type"].lower() == type_name.lower()
            if k.startswith(prefix) and len(ids.segments(k)) == depth and right_type:
                out.append(res)
        return out

    def descendants(self, rid: str) -> list[str]:
        prefix = ids.key(rid) + "/"
        return [k for k in self.store if k.startswith(prefix)]

    def spec_of(self, res: dict[str, Any]) -> ResourceType:
        return self.types[res["type"].lower()]

    def remove(self, rid: str) -> None:
        """Delete a resource and everything under it, running each type's on_deleted hook."""
        for k in [*sorted(self.descendants(rid), key=len, reverse=True), ids.key(rid)]:
            res = self.store.pop(k, None)
            if res is not None:
                self.spec_of(res).on_deleted(self, res)

    def view(self, res: dict[str, Any]) -> dict[str, Any]:
        return self.spec_of(res).view(self, res)

    def region_of(self, res: dict[str, Any]) -> str:
        """The region whose operation endpoints track a write: the resource's own, else its parent's
        (an agent pool's operation is under the cluster's region: `.../providers/
        Microsoft.ContainerService/locations/{region}/operations/{id}`, as AKS answers)."""
        rid = res["id"]
        while res is not None:
            if res.get("location"):
                return str(res["location"])
            parent = ids.parent_id(rid)
            if parent == rid or len(ids.segments(parent)) <= 4:
                break
            rid, res = parent, self.get(parent)  # type: ignore[assignment]
        return "global"

    # -- operations ------------------------------------------------------------------------
    def start_op(
        self,
        rid: str,
        action: str,
        duration: float,
        *,
        namespace: str,
        location: str,
        fault: FaultRule | None = None,
        created: bool = False,
        holder: str | None = None,
        error: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        now = self.world.now()
        op: dict[str, Any] = {
            "id": new_guid(),
            "resource_id": rid,
            "action": action,
            "status": "InProgress",
            "start": now,
            "end": now + max(0.0, duration),
            "namespace": namespace,
            "location": location,
            "created": created,
            "holder": (holder or rid).lower(),
            "error": {"code": fault.code, "message": fault.message} if fault else error,
        }
        self.ops[op["id"]] = op
        return op

    def running_ops(self, holder: str) -> list[dict[str, Any]]:
        h = holder.lower()
        return [
            o
            for o in self.ops.values()
            if o["status"] == "InProgress" and (o["holder"] == h or o["holder"].startswith(h + "/"))
        ]

    def settle(self) -> None:
        """Complete every operation whose time has come, oldest first."""
        now = self.world.now()
        due = sorted(
            (o for o in self.ops.values() if o["status"] == "InProgress" and o["end"] <= now),
            key=lambda o: o["end"],
        )
        for op in due:
            self.finish(op)
        # Keep the operation table small: drop finished ones after an hour.
        for op_id in [k for k, o in self.ops.items() if o["status"] != "InProgress" and o["end"] < now - 3600]:
            del self.ops[op_id]

    def finish(self, op: dict[str, Any], status: str | None = None, error: dict[str, Any] | None = None) -> None:
        self.settled_something = True
        if error is None:
            error = op.get("error")
        status = status or ("Failed" if error else "Succeeded")
        op["status"], op["error"] = status, error
        op["end"] = min(op["end"], self.world.now())
        res = self.get(op["resource_id"])
        if res is None:
            return
        spec = self.spec_of(res)
        if op["action"] == "put":
            if spec.has_provisioning_state:
                props(res)["provisioningState"] = "Succeeded" if status == "Succeeded" else status
            if status == "Succeeded":
                spec.on_ready(self, res, op["created"])
        elif op["action"] == "delete":
            if status == "Succeeded":
                self.remove(res["id"])
            elif spec.has_provisioning_state:
                props(res)["provisioningState"] = "Failed"

    def retry_after(self, op: dict[str, Any]) -> dict[str, str]:
        """Tell the client when the operation will be done.

        Whole seconds go in Retry-After (the AKS SDK parses it as an int); a scaled profile's
        sub-second remainder goes in retry-after-ms, which azure-core also honours.
        """
        if self.world.profile.scale <= 0:
            return {}
        left = op["end"] - self.world.now()
        if left >= 1.0:
            return {"Retry-After": str(int(left + 0.999))}
        return {"retry-after-ms": str(max(1, int(left * 1000 + 0.999)))}

    def _monitor_base(self, op: dict[str, Any]) -> str:
        sub = self.world.subscription_id
        return f"{self.world.base_url}/subscriptions/{sub}/providers/{op['namespace']}/locations/{op['location']}"

    def async_url(self, op: dict[str, Any], api_version: str) -> str:
        return f"{self._monitor_base(op)}/operations/{op['id']}?api-version={api_version}"

    def location_url(self, op: dict[str, Any], api_version: str) -> str:
        if op["namespace"].lower() == "microsoft.resources":
            sub = self.world.subscription_id
            return f"{self.world.base_url}/subscriptions/{sub}/operationresults/{op['id']}?api-version={api_version}"
        return f"{self._monitor_base(op)}/operationResults/{op['id']}?api-version={api_version}"

    def monitor_async(self, op_id: str) -> Response:
        op = self.ops.get(op_id)
        if op is None:
            raise ArmError(404, "NotFound", f"Operation {op_id} was not found.")
        body: dict[str, Any] = {
            "id": f"/subscriptions/{self.world.subscription_id}/providers/{op['namespace']}/locations/"
            f"{op['location']}/operations/{op_id}",
            "name": op_id,
            "status": op["status"],
            "startTime": _iso(op["start"]),
        }
        if op["status"] == "InProgress":
            return Response(200, body, self.retry_after(op))
        body["endTime"] = _iso(op["end"])
        if op["error"]:
            body["error"] = dict(op["error"])
        return Response(200, body)

    def monitor_location(self, op_id: str, api_version: str) -> Response:
        op = self.ops.get(op_id)
        if op is None:
            raise ArmError(404, "NotFound", f"Operation {op_id} was not found.")
        if op["status"] == "InProgress":
            return Response(202, None, {"Location": self.location_url(op, api_version), **self.retry_after(op)})
        if op["error"]:
            status = 409 if op["error"].get("code") in ("Conflict", "OperationNotAllowed") else 400
            return Response(status, {"error": dict(op["error"])})
        res = self.get(op["resource_id"])
        if op["action"] == "put" and res is not None:
            return Response(200, self.view(res))
        return Response(200 if op["action"] == "delete" else 204, None)

    # -- request handling ------------------------------------------------------------------
    def handle(self, req: Request, *, lro_fault: FaultRule | None = None) -> Response:
        try:
            if ids.key(req.path) == "/metadata/endpoints":
                return self._cloud_metadata(req)
            self.settle()
            self._check_request(req)
            return self._route(req, lro_fault)
        except ArmError as exc:
            return exc.response()

    def _cloud_metadata(self, req: Request) -> Response:
        """`GET /metadata/endpoints` (no token): the cloud discovery document clients read first.

        api-version 2022-09-01 answers one cloud object (hashicorp/go-azure-sdk `sdk/environments`
        metadata client, `metaDataResponse20220901`); older versions (2019-05-01) answer a list of
        clouds (azure-cli `cloud.py` `_convert_arm_to_cli` iterates it, keyed by `name`). The fields
        are those both read; `resourceManager` is this sandbox.
        """
        version = req.q("api-version")
        if not version:
            raise ArmError(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        cloud = {
            "portal": "https://portal.azure.com",
            "authentication": {
                "loginEndpoint": "https://login.microsoftonline.com",
                "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
                "tenant": "common",
                "identityProvider": "AAD",
            },
            "media": "https://rest.media.azure.net",
            "graphAudience": "https://graph.windows.net/",
            "graph": "https://graph.windows.net/",
            "name": "AzureCloud",
            "suffixes": {
                "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
                "acrLoginServer": "azurecr.io",
                "sqlServerHostname": "database.windows.net",
                "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
                "keyVaultDns": "vault.azure.net",
                "storage": "core.windows.net",
                "azureFrontDoorEndpointSuffix": "azurefd.net",
                "storageSyncEndpointSuffix": "afs.azure.net",
                "mhsmDns": "managedhsm.azure.net",
                "mysqlServerEndpoint": "mysql.database.azure.com",
                "postgresqlServerEndpoint": "postgres.database.azure.com",
                "mariadbServerEndpoint": "mariadb.database.azure.com",
                "synapseAnalytics": "dev.azuresynapse.net",
                "attestationEndpoint": "attest.azure.net",
            },
            "batch": "https://batch.core.windows.net/",
            "resourceManager": self.world.base_url + "/",
            "vmImageAliasDoc": "https://raw.githubusercontent.com/Azure/azure-rest-api-specs/main/arm-compute/"
            "quickstart-templates/aliases.json",
            "activeDirectoryDataLake": "https://datalake.azure.net/",
            "sqlManagement": "https://management.core.windows.net:8443/",
            "gallery": "https://gallery.azure.com/",
            "microsoftGraphResourceId": "https://graph.microsoft.com/",
            "appInsightsResourceId": "https://api.applicationinsights.io",
            "appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
            "attestationResourceId": "https://attest.azure.net",
            "synapseAnalyticsResourceId": "https://dev.azuresynapse.net",
            "logAnalyticsResourceId": "https://api.loganalytics.io",
            "ossrDbmsResourceId": "https://ossrdbms-aad.database.windows.net",
        }
        return Response(200, cloud if version >= "2022-09-01" else [cloud])

    def _check_request(self, req: Request) -> None:
        auth = req.headers.get("authorization", "")
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            raise ArmError(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
                headers={"WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/"'},
            )
        if not req.q("api-version"):
            raise ArmError(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )

    def _route(self, req: Request, lro_fault: FaultRule | None) -> Response:
        from raks.sandbox.arm import t_resources

        segs = ids.segments(req.path)
        low = [s.lower() for s in segs]
        version = req.q("api-version") or ""
        monitor = any(s in ("operations", "operationresults", "asyncoperations") for s in low[2:])
        if not monitor and "providers" not in low:
            api_versions.check_arm(version)  # subscriptions, resource groups, resource lists
        if not segs or low == ["subscriptions"]:
            return t_resources.list_subscriptions(self)
        if low == ["providers", "microsoft.resourcegraph", "resources"]:
            from raks.sandbox.arm import t_resourcegraph

            api_versions.check_provider(segs[1], "resources", version, "")
            return t_resourcegraph.query(self, req)
        if low[0] != "subscriptions":
            raise ArmError(404, "InvalidResourceType", f"The resource path '{req.path}' is not supported.")
        if segs[1].lower() != self.world.subscription_id.lower():
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{segs[1]}' could not be found.")
        rest = low[2:]
        if not rest:
            return t_resources.get_subscription(self)
        if rest[0] == "operationresults" and len(rest) == 2:
            return self.monitor_location(segs[3], req.q("api-version") or "")
        if rest == ["resources"]:
            return t_resources.list_resources(self, req, None)
        if rest[0] == "resourcegroups":
            if len(rest) == 1:
                return t_resources.list_groups(self, req)
            if len(rest) == 3 and rest[2] == "resources":
                return t_resources.list_resources(self, req, segs[3])
            if len(rest) == 2:
                rid = f"/subscriptions/{segs[1]}/resourceGroups/{segs[3]}"
                return self.crud(req, rid, self.types["microsoft.resources/resourcegroups"], lro_fault)
        if rest[0] == "providers":
            if (len(rest) <= 2 or rest[2:] == ["register"]) and not monitor:
                api_versions.check_arm(version)  # the provider registry is ARM's own API
            if len(rest) == 1:
                return t_resources.list_providers(self)
            if len(rest) == 2:
                return t_resources.get_provider(self, segs[3])
            if len(rest) == 3 and rest[2] == "register" and req.method == "POST":
                return t_resources.register_provider(self, segs[3])
            if len(rest) >= 5 and rest[2] == "locations":
                if not monitor:
                    api_versions.check_provider(segs[3], "/".join(["locations", *segs[6:7]]), version, segs[5])
                return self._location_scoped(req, segs[3], segs[5], segs[6:])
        rp = ids.parse_provider_path(segs)
        if rp is None:
            raise ArmError(404, "InvalidResourceType", f"The resource path '{req.path}' is not supported.")
        type_path = "/".join(rp.type_names + ([rp.tail] if rp.tail and not rp.pairs else []))
        api_versions.check_provider(rp.namespace, type_path, version, self._location_hint(req, rp))
        return self._provider_path(req, rp, lro_fault)

    def _location_hint(self, req: Request, rp: ids.ResourcePath) -> str:
        """The location ARM names in NoRegisteredProviderFound: the body's, else the resource's."""
        if req.method == "PUT":
            try:
                body = req.json()
            except ValueError:
                body = None
            if isinstance(body, dict) and body.get("location"):
                return str(body["location"]).lower().replace(" ", "")
        path = ids.canonical_scope(rp.scope) + f"/providers/{rp.namespace}/" + "/".join(f"{t}/{n}" for t, n in rp.pairs)
        res = self.get(path) if rp.pairs else None
        return self.region_of(res) if res is not None else ""

    def _location_scoped(self, req: Request, namespace: str, location: str, rest: list[str]) -> Response:
        low = [s.lower() for s in rest]
        if len(low) == 2 and low[0] == "operations":
            return self.monitor_async(rest[1])
        if len(low) == 2 and low[0] in ("operationresults", "asyncoperations"):
            return self.monitor_location(rest[1], req.q("api-version") or "")
        from raks.sandbox.arm import t_aks, t_compute

        ns = namespace.lower()
        if ns == "microsoft.compute" and low == ["usages"]:
            return t_compute.usages(self, location)
        if ns == "microsoft.containerservice" and low == ["kubernetesversions"]:
            return t_aks.kubernetes_versions(self, location)
        raise ArmError(404, "InvalidResourceType", f"The resource type '{'/'.join(rest)}' could not be found.")

    def _spec(self, full_type: str) -> ResourceType:
        spec = self.types.get(full_type.lower())
        if spec is None:
            ns, _, typ = full_type.partition("/")
            raise ArmError(
                400,
                "InvalidResourceType",
                f"The resource type '{typ}' could not be found in the namespace '{ns}' for api version "
                "used by the raks sandbox.",
            )
        return spec

    def _provider_path(self, req: Request, rp: ids.ResourcePath, lro_fault: FaultRule | None) -> Response:
        from raks.sandbox.arm import t_authorization, t_compute, t_storage

        ns = rp.namespace.lower()
        if not rp.pairs and rp.tail is not None:
            tail = rp.tail.lower()
            # Provider-level endpoints that are not resources.
            if ns == "microsoft.storage" and tail == "checknameavailability" and req.method == "POST":
                return t_storage.check_name_availability(self, req)
            if ns == "microsoft.compute" and tail == "skus":
                return t_compute.skus(self, req)
            if ns == "microsoft.authorization" and tail == "roledefinitions":
                return t_authorization.list_role_definitions(self, req, rp)
            if ns == "microsoft.authorization" and tail == "roleassignments":
                return t_authorization.list_role_assignments(self, req, rp)
            if ns == "microsoft.authorization" and tail == "permissions":
                from raks.sandbox.arm.t_permissions import list_permissions

                return list_permissions(self, req, rp)
            return self.list_collection(req, rp, self._spec(rp.full_type(rp.tail)))
        if ns == "microsoft.authorization" and rp.pairs and rp.pairs[0][0].lower() == "roledefinitions":
            return t_authorization.get_role_definition(self, rp)
        spec = self._spec(rp.full_type())
        rid = self.canonical_id(rp, spec)
        if rp.tail is not None:
            if req.method == "POST":
                return self.action(req, rid, spec, rp.tail)
            return self.list_children(req, rid, self._spec(rp.full_type(rp.tail)))
        return self.crud(req, rid, spec, lro_fault)

    def canonical_id(self, rp: ids.ResourcePath, spec: ResourceType) -> str:
        type_parts = spec.type.split("/")
        namespace, names = type_parts[0], type_parts[1:]
        pairs = "/".join(f"{t}/{n}" for t, (_, n) in zip(names, rp.pairs, strict=True))
        return f"{ids.canonical_scope(rp.scope)}/providers/{namespace}/{pairs}"

    # -- generic verbs ---------------------------------------------------------------------
    def check_parent(self, rid: str, spec: ResourceType, verb: str) -> None:
        segs = ids.segments(rid)
        if len(segs) > 4 and segs[2].lower() == "resourcegroups":
            rg_id = "/" + "/".join(segs[:4])
            if self.get(rg_id) is None:
                raise rg_not_found(segs[3])
        parent = ids.parent_id(rid)
        if len(ids.segments(parent)) > 4 and self.get(parent) is None:
            short = "/".join(spec.type.split("/")[1:])
            raise ArmError(
                404,
                "ParentResourceNotFound",
                f"Failed to perform '{verb}' on resource(s) of type '{short}', because the parent resource "
                f"'{parent}' could not be found.",
                unwrapped=spec.aks_errors,
            )

    def crud(self, req: Request, rid: str, spec: ResourceType, lro_fault: FaultRule | None) -> Response:
        api_version = req.q("api-version") or ""
        if req.method in ("GET", "HEAD"):
            res = self.get(rid)
            if res is None:
                self.check_parent(rid, spec, "read")
                raise self._not_found(rid, spec)
            if req.method == "HEAD":
                return Response(204 if rid.split("/")[-2].lower() == "resourcegroups" else 200, None)
            return Response(200, self.view(res))
        if req.method == "PUT":
            return self.put(req, rid, spec, lro_fault, api_version)
        if req.method == "PATCH":
            return self.patch(req, rid, spec)
        if req.method == "DELETE":
            return self.delete(rid, spec, lro_fault, api_version)
        raise ArmError(405, "MethodNotAllowed", f"The method '{req.method}' is not allowed.")

    def _not_found(self, rid: str, spec: ResourceType) -> ArmError:
        segs = ids.segments(rid)
        if spec.type.lower() == "microsoft.resources/resourcegroups":
            return rg_not_found(segs[-1])
        # ARM names the full type path with every name in it: 'Microsoft.ContainerService/
        # managedClusters/{c}' (Azure/azure-cli#9301), and for a child
        # 'Microsoft.ContainerService/managedClusters/{c}/agentPools/{p}'.
        cut = max(i for i, seg in enumerate(segs) if seg.lower() == "providers")
        short = "/".join(segs[cut + 1 :])
        rg = segs[3] if len(segs) > 3 and segs[2].lower() == "resourcegroups" else None
        where = f" under resource group '{rg}'" if rg else ""
        return ArmError(
            404,
            "ResourceNotFound",
            f"The Resource '{short}'{where} was not found. For more details please go to "
            "https://aka.ms/ARMResourceNotFoundFix",
            unwrapped=spec.aks_errors,
        )

    def _namespace(self, spec: ResourceType) -> str:
        return spec.type.split("/")[0]

    def put(
        self, req: Request, rid: str, spec: ResourceType, lro_fault: FaultRule | None, api_version: str
    ) -> Response:
        try:
            body = req.json()
        except ValueError:
            raise ArmError(
                400, "InvalidRequestContent", "The request content was invalid and could not be deserialized."
            ) from None
        if not isinstance(body, dict):
            raise ArmError(400, "InvalidRequestContent", "The request content must be a JSON object.")
        self.check_parent(rid, spec, "write")
        from raks.sandbox.arm import t_resources

        t_resources.require_registered(self, self._namespace(spec))
        existing = self.get(rid)
        spec.check_write(self, rid, existing)
        res = spec.build(self, rid, body, existing)
        created = existing is None
        mode = spec.put_mode(created)
        if mode == "sync":
            if lro_fault is not None:
                raise ArmError(lro_fault.status, lro_fault.code, lro_fault.message, unwrapped=spec.aks_errors)
            if spec.has_provisioning_state:
                props(res)["provisioningState"] = "Succeeded"
            self.put_raw(res)
            spec.on_ready(self, res, created)
            return Response(spec.created_status if created else 200, self.view(res))
        error = spec.lro_error(self, res, created)
        if spec.has_provisioning_state:
            props(res)["provisioningState"] = spec.creating_state if created else spec.updating_state
        self.put_raw(res)
        op = self.start_op(
            rid,
            "put",
            spec.duration(self, res, created),
            namespace=self._namespace(spec),
            location=self.region_of(res),
            fault=lro_fault,
            created=created,
            error=error,
        )
        if mode == "location":
            return Response(202, None, {"Location": self.location_url(op, api_version), **self.retry_after(op)})
        headers = {"Azure-AsyncOperation": self.async_url(op, api_version), **self.retry_after(op)}
        return Response(201 if created else 200, self.view(res), headers)

    def patch(self, req: Request, rid: str, spec: ResourceType) -> Response:
        res = self.get(rid)
        if res is None:
            raise self._not_found(rid, spec)
        if not spec.patchable:
            raise ArmError(405, "MethodNotAllowed", "PATCH is not supported for this resource type in the sandbox.")
        body = req.json() or {}
        spec.check_write(self, rid, res)
        merged = spec.patch(self, res, body)
        self.put_raw(merged)
        spec.on_ready(self, merged, False)
        return Response(200, self.view(merged))

    def delete(self, rid: str, spec: ResourceType, lro_fault: FaultRule | None, api_version: str) -> Response:
        res = self.get(rid)
        if res is None:
            if spec.type.lower() == "microsoft.resources/resourcegroups":
                raise self._not_found(rid, spec)
            return Response(204, None)
        spec.check_delete(self, res)
        if spec.delete_lro == "sync":
            if lro_fault is not None:
                raise ArmError(lro_fault.status, lro_fault.code, lro_fault.message, unwrapped=spec.aks_errors)
            self.remove(rid)
            return Response(200, None)
        if spec.has_provisioning_state:
            props(res)["provisioningState"] = "Deleting"
        op = self.start_op(
            rid,
            "delete",
            spec.delete_duration(self, res),
            namespace=self._namespace(spec),
            location=self.region_of(res),
            fault=lro_fault,
        )
        headers = {"Location": self.location_url(op, api_version), **self.retry_after(op)}
        if spec.delete_lro == "async":
            headers["Azure-AsyncOperation"] = self.async_url(op, api_version)
        return Response(202, None, headers)

    def action(self, req: Request, rid: str, spec: ResourceType, name: str) -> Response:
        handler = {k.lower(): v for k, v in spec.actions.items()}.get(name.lower())
        if handler is None:
            raise ArmError(404, "InvalidResourceType", f"The action '{name}' is not supported on '{spec.type}'.")
        res = self.get(rid)
        if res is None:
            raise self._not_found(rid, spec)
        return handler(self, res, req)

    def list_children(self, req: Request, parent: str, spec: ResourceType) -> Response:
        if self.get(parent) is None:
            self.check_parent(parent + "/x/y", spec, "read")
            raise self._not_found(parent, self.types.get(self.store_type(parent), spec))
        items = [self.view(r) for r in self.children(parent, spec.type)]
        return Response(200, {"value": spec.list_filter(self, req, items)})

    def store_type(self, rid: str) -> str:
        res = self.get(rid)
        return res["type"].lower() if res else ""

    def list_collection(self, req: Request, rp: ids.ResourcePath, spec: ResourceType) -> Response:
        scope = ids.key(ids.canonical_scope(rp.scope))
        rg = rp.resource_group
        if rg is not None and self.get(f"/subscriptions/{rp.subscription}/resourceGroups/{rg}") is None:
            raise rg_not_found(rg)
        items = [
            self.view(r)
            for k, r in sorted(self.store.items())
            if k.startswith(scope + "/") and r["type"].lower() == spec.type.lower()
        ]
        return Response(200, {"value": spec.list_filter(self, req, items)})


def _iso(ts: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def copy_of(res: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(res)
