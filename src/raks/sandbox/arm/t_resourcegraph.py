"""Microsoft.ResourceGraph: `POST /providers/Microsoft.ResourceGraph/resources`, the query raks sends
for spot eviction bands, over the emulated `SpotResources` table.

Request and answer as in azure-rest-api-specs `specification/resourcegraph/resource-manager/
Microsoft.ResourceGraph/stable/2021-03-01/resourcegraph.json` (QueryRequest {subscriptions?,
managementGroups?, query, options {$skipToken, $top, $skip, resultFormat}}; QueryResponse
{totalRecords, count, resultTruncated, $skipToken?, data, facets}; example ResourcesFilterQuery.json
answers `"resultTruncated": "false"` and `"facets": []`). A page is at most 1,000 rows (the default
and the maximum of $top); more rows come with `$skipToken` (Learn: resource-graph/concepts/
work-with-data and paging-results).

The KQL understood is the subset raks sends (adapters/azure/eviction.py): the `SpotResources`
table, `where F =~ 'v'`, `where F == 'v'`, `where F in~ (...)`, `where F in (...)` (joined with
`and`), `project A = tostring(F), B, ...` and `order by C [asc|desc]`. The rows are those of type
`microsoft.compute/skuspotevictionrate/location` {id, name, type, location, sku.name,
properties.evictionRate} (Microsoft's "Azure Resource Graph sample queries for Azure Spot").
Any other query is refused with Resource Graph's 400 envelope as Azure/azure-powershell#13762 and
scautomation/AzureResourceGraph-Examples#2 quote it: {"error": {"code": "BadRequest", "message":
"Please provide below info when asking for support: timestamp = ..., correlationId = ...",
"details": [{"code": "InvalidQuery", "message": "Query is invalid. Please refer to the documentation
for the Azure Resource Graph service and fix the error before retrying."}, {"code":
"ParserFailure" | "InvalidQueryLanguage", ...}]}} (ParserFailure for what does not parse,
InvalidQueryLanguage with the operator as `token` for a real operator the sandbox does not run).

The bands are sandbox figures (deterministic per region and size); tests set them through the
control API (`PUT /_sandbox/spot`).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import uuid
import zlib
from typing import TYPE_CHECKING, Any

from raks.regions import AZURE_REGIONS
from raks.sandbox import catalog
from raks.sandbox.http import Request, Response

if TYPE_CHECKING:
    from raks.sandbox.arm import ArmApi

EVICTION_TYPE = "microsoft.compute/skuspotevictionrate/location"
BANDS = ("0-5", "5-10", "10-15", "15-20", "20+")
MAX_PAGE = 1000


class QueryError(Exception):
    def __init__(self, detail: dict[str, Any]) -> None:
        super().__init__(detail.get("message", ""))
        self.detail = detail


def _bad_request(error: QueryError) -> Response:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
    return Response(
        400,
        {
            "error": {
                "code": "BadRequest",
                "message": "Please provide below info when asking for support: "
                f"timestamp = {now}, correlationId = {uuid.uuid4()}.",
                "details": [
                    {
                        "code": "InvalidQuery",
                        "message": "Query is invalid. Please refer to the documentation for the Azure Resource "
                        "Graph service and fix the error before retrying.",
                    },
                    error.detail,
                ],
            }
        },
    )


def parser_failure(token: str) -> QueryError:
    return QueryError(
        {"code": "ParserFailure", "message": "ParserFailure", "line": 1, "characterPositionInLine": 0, "token": token}
    )


def not_emulated(token: str) -> QueryError:
    return QueryError(
        {
            "code": "InvalidQueryLanguage",
            "message": "InvalidQueryLanguage",
            "line": -1,
            "characterPositionInLine": -1,
            "token": token,
        }
    )


# -- the table ----------------------------------------------------------------------------------
def spot_state(world: Any) -> dict[str, Any]:
    state: dict[str, Any] = world.state.setdefault("spot", {})
    state.setdefault("bands", {})  # "region|size" -> band, or None (no row)
    state.setdefault("fail", None)  # None, "unreachable", "http500" or "forbidden"
    state.setdefault("page_size", None)  # TEST-ONLY: rows per page below Azure's 1,000
    return state


def default_band(region: str, size: str) -> str:
    """Sandbox figures: general-purpose sizes mostly evict little; GPU sizes spread over the bands."""
    h = zlib.crc32(f"{region}|{size.lower()}".encode())
    if not size.lower().startswith("standard_n"):
        return BANDS[0] if h % 4 else BANDS[1]
    return BANDS[h % len(BANDS)]


def spot_rows(world: Any) -> list[dict[str, Any]]:
    overrides = spot_state(world)["bands"]
    rows = []
    for region in sorted(AZURE_REGIONS):
        for size in catalog.VM_SIZES.values():
            key = f"{region}|{size.name.lower()}"
            band = overrides[key] if key in overrides else default_band(region, size.name)
            if band is None:
                continue
            rows.append(
                {
                    "id": f"/providers/Microsoft.Compute/skuSpotEvictionRate/{size.name}/location/{region}",
                    "name": size.name,
                    "type": EVICTION_TYPE,
                    "location": region,
                    "sku": {"name": size.name},
                    "properties": {"evictionRate": band},
                }
            )
    return rows


def set_bands(world: Any, body: dict[str, Any]) -> Response:
    """{"set": [{"region", "size", "band" ("0-5"…"20+", or null: no row)}], "clear": true,
    "fail": null | "unreachable" | "http500" | "forbidden", "page_size": n | null (test-only)}."""
    state = spot_state(world)
    if body.get("clear"):
        state["bands"].clear()
    for entry in body.get("set") or []:
        region, size, band = str(entry["region"]).lower(), str(entry["size"]), entry.get("band")
        if region not in AZURE_REGIONS:
            raise ValueError(f"unknown region {region}")
        if catalog.vm_size(size) is None:
            raise ValueError(f"the sandbox has no size {size}")
        if band is not None and band not in BANDS:
            raise ValueError(f"band is one of {', '.join(BANDS)} or null")
        state["bands"][f"{region}|{size.lower()}"] = band
    if "fail" in body:
        if body["fail"] not in (None, "unreachable", "http500", "forbidden"):
            raise ValueError("fail is null, 'unreachable', 'http500' or 'forbidden'")
        state["fail"] = body["fail"]
    if "page_size" in body:
        state["page_size"] = None if body["page_size"] is None else max(1, int(body["page_size"]))
    return Response(200, {k: state[k] for k in ("bands", "fail", "page_size")})


# -- the endpoint -------------------------------------------------------------------------------
def query(api: ArmApi, req: Request) -> Response:
    state = spot_state(api.world)
    if state["fail"] == "unreachable":
        return Response(0, reset=True)
    if state["fail"] == "http500":
        return Response(500, {"error": {"code": "InternalServerError", "message": "sandbox: made to fail"}})
    if state["fail"] == "forbidden":
        return Response(
            403,
            {
                "error": {
                    "code": "AuthorizationFailed",
                    "message": "The client does not have authorization to perform action "
                    "'Microsoft.ResourceGraph/resources/read' (sandbox: made to fail).",
                }
            },
        )
    if req.method != "POST":
        return _bad_request(not_emulated(req.method))
    try:
        body = req.json() or {}
    except ValueError:
        return _bad_request(parser_failure("body"))
    options = body.get("options") or {}
    try:
        rows = run_kql(str(body.get("query") or ""), spot_rows(api.world))
        top = min(int(options.get("$top") or MAX_PAGE), MAX_PAGE, int(state["page_size"] or MAX_PAGE))
        token = options.get("$skipToken")
        offset = _token_offset(token) if token else int(options.get("$skip") or 0)
    except QueryError as exc:
        return _bad_request(exc)
    except (TypeError, ValueError):
        return _bad_request(parser_failure("options"))
    page = rows[offset : offset + top]
    out: dict[str, Any] = {
        "totalRecords": len(rows),
        "count": len(page),
        "resultTruncated": "false",
        "data": _format(page, options.get("resultFormat") or "objectArray"),
        "facets": [],
    }
    if offset + top < len(rows):
        out["$skipToken"] = base64.b64encode(json.dumps({"offset": offset + top}).encode()).decode()
    return Response(200, out)


def _token_offset(token: str) -> int:
    try:
        return int(json.loads(base64.b64decode(token))["offset"])
    except (ValueError, KeyError, TypeError):
        raise parser_failure("$skipToken") from None


def _format(rows: list[dict[str, Any]], fmt: str) -> Any:
    if fmt.lower() == "table":
        names = list(rows[0]) if rows else []
        return {
            "columns": [{"name": n, "type": "string"} for n in names],
            "rows": [[r[n] for n in names] for r in rows],
        }
    return rows


# -- the KQL subset -------------------------------------------------------------------------------
_STR = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
_PATH = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
_COND = re.compile(rf"^\s*(?P<path>{_PATH})\s*(?P<op>=~|==|in~|in)\s*(?P<rhs>{_STR}|\((?:\s*(?:{_STR})\s*,?)*\))\s*$")
_ITEM = re.compile(
    rf"^\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*)?(?:tostring\(\s*(?P<ts>{_PATH})\s*\)|(?P<path>{_PATH}))\s*$"
)
_ORDER = re.compile(r"^\s*order\s+by\s+(?P<col>[A-Za-z_][A-Za-z0-9_]*)(?:\s+(?P<dir>asc|desc))?\s*$")
KQL_OPERATORS = ("extend", "summarize", "join", "limit", "take", "top", "parse", "mv-expand", "distinct", "count")


def _split(text: str, sep: str) -> list[str]:
    """Split on `sep` outside string literals and parentheses."""
    parts, buf, quote, depth = [], "", "", 0
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            buf += ch
            if ch == "\\" and i + 1 < len(text):
                buf += text[i + 1]
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            buf += ch
        elif ch == "(":
            depth += 1
            buf += ch
        elif ch == ")":
            depth -= 1
            buf += ch
        elif depth == 0 and text.startswith(sep, i):
            parts.append(buf)
            buf = ""
            i += len(sep)
            continue
        else:
            buf += ch
        i += 1
    if quote or depth:
        raise parser_failure("<EOF>")
    parts.append(buf)
    return parts


def _string(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


def _get(row: dict[str, Any], path: str) -> Any:
    value: Any = row
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _condition(text: str) -> Any:
    m = _COND.match(text)
    if m is None:
        word = (text.strip().split() or ["<EOF>"])[0]
        raise parser_failure(word)
    path, op, rhs = m.group("path"), m.group("op"), m.group("rhs")
    values = [_string(v) for v in re.findall(_STR, rhs)]
    insensitive = op in ("=~", "in~")

    def test(row: dict[str, Any]) -> bool:
        got = _get(row, path)
        if got is None:
            return False
        got = str(got)
        return any(got.lower() == v.lower() if insensitive else got == v for v in values)

    return test


def run_kql(text: str, table: list[dict[str, Any]]) -> list[dict[str, Any]]:
    stages = [s.strip() for s in _split(text, "|")]
    if not stages or not stages[0]:
        raise parser_failure("<EOF>")
    if stages[0].lower() != "spotresources":
        raise not_emulated(stages[0].split()[0])
    rows = list(table)
    for stage in stages[1:]:
        word = (stage.split() or [""])[0].lower()
        if word == "where":
            tests = [_condition(c) for c in re.split(r"\s+and\s+", stage[len("where") :].strip())]
            rows = [r for r in rows if all(t(r) for t in tests)]
        elif word == "project":
            rows = _project(stage[len("project") :], rows)
        elif word == "order":
            m = _ORDER.match(stage)
            if m is None:
                raise parser_failure(stage)
            col = m.group("col")
            rows.sort(key=lambda r: str(r.get(col, "")), reverse=m.group("dir") == "desc")
        elif word in KQL_OPERATORS:
            raise not_emulated(word)
        else:
            raise parser_failure(word or "|")
    return rows


def _project(spec: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    columns = []
    for item in _split(spec, ","):
        m = _ITEM.match(item)
        if m is None:
            raise parser_failure(item.strip() or ",")
        path = m.group("ts") or m.group("path")
        name = m.group("name") or path.replace(".", "_")
        columns.append((name, path, m.group("ts") is not None))
    out = []
    for row in rows:
        projected = {}
        for name, path, as_string in columns:
            value = _get(row, path)
            projected[name] = ("" if value is None else str(value)) if as_string else value
        out.append(projected)
    return out
