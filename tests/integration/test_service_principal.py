"""The Anyscale operator app's service principal (Microsoft Graph, emulated by the sandbox):
preflight shows it, `up` creates it first, a refused creation stops `up` before any write, and
`down` leaves it in place."""

from __future__ import annotations

import json

from raks.config import ANYSCALE_OPERATOR_APP_ID as APP

CHECK = ("global", "anyscale service principal")
PERMISSION = (
    "Application.ReadWrite.All for an application, or the Application Administrator or Cloud Application "
    "Administrator role for a user"
)


def rows(out: str) -> dict[tuple[str, str], dict[str, str]]:
    return {(r["region"], r["check"]): r for r in json.loads(out)["checks"]}


def graph_requests(served) -> list[tuple[str, str, int]]:
    return [(e["method"], e["path"], e["status"]) for e in served.control.requests() if e["api"] == "graph"]


def test_preflight_shows_a_missing_service_principal_with_the_fix_and_a_present_one_as_ok(served, capsys):
    code, out, err = served.raks(capsys, "-o", "json", "preflight", "--regions", "uksouth")
    assert code == 0, err
    row = rows(out)[CHECK]
    assert row["status"] == "warn"
    assert row["figure"] == (
        f"absent: the Anyscale operator app {APP} has no service principal in this tenant; up creates it "
        f"(that takes {PERMISSION})"
    )
    assert row["fix"] == f"or run: az ad sp create --id {APP} (as someone with that permission)"
    assert graph_requests(served) == [("GET", f"/graph/v1.0/servicePrincipals(appId='{APP}')", 404)]

    served.control.graph(present=[APP])
    code, out, _ = served.raks(capsys, "-o", "json", "preflight", "--regions", "uksouth")
    row = rows(out)[CHECK]
    assert row["status"] == "ok" and row["figure"].startswith(f"app {APP} has service principal ")
    assert [e for e in served.control.requests() if e["api"] == "graph" and e["method"] != "GET"] == []


def test_kuberay_does_not_touch_graph(served, capsys, tmp_path):
    (tmp_path / "raks.yaml").write_text("platform: kuberay\n")
    code, out, err = served.raks(capsys, "-o", "json", "preflight", "--regions", "uksouth")
    assert code == 0, err
    assert CHECK not in rows(out)
    assert graph_requests(served) == []


def test_a_refused_creation_stops_up_before_any_write_naming_the_permission_and_the_fix(served, capsys):
    served.control.graph(deny_create=True)
    code, _out, err = served.raks(capsys, "up", "--regions", "uksouth", "--yes")
    assert code == 2, err
    line = next(x for x in err.splitlines() if x.startswith("error: preflight: global/anyscale service principal"))
    assert (
        f"Microsoft Graph refused to create the service principal of the Anyscale operator app {APP} "
        f"(Authorization_RequestDenied): creating it takes {PERMISSION}"
    ) in line
    assert f"have someone with that permission run: az ad sp create --id {APP}" in line
    assert "nothing was written" in err
    assert [w for w in served.writes() if w["api"] != "graph"] == []  # no Azure, Kubernetes or Anyscale write
    assert [r for r in graph_requests(served) if r[0] != "GET"] == [("POST", "/graph/v1.0/servicePrincipals", 403)]
    assert served.control.graph()["service_principals"] == []


def test_up_creates_it_first_and_down_keeps_it(served, capsys):
    code, _out, err = served.raks(capsys, "up", "--regions", "uksouth", "--yes")
    assert code == 0, err
    assert served.control.graph()["service_principals"] == [APP.lower()]
    log = served.control.requests()
    create = next(e for e in log if e["api"] == "graph" and e["method"] == "POST")
    assert create["status"] == 201
    first_arm_write = min(e["start"] for e in served.writes() if e["api"] != "graph")
    assert create["end"] <= first_arm_write, "the service principal is created before any Azure resource"
    # Converged: a plan has nothing to do for it, and a re-run creates nothing.
    code, out, err = served.raks(capsys, "plan", "--regions", "uksouth", "--detailed-exitcode")
    assert code == 0, out + err
    code, _out, err = served.raks(capsys, "down", "--yes")
    assert code == 0, err
    assert served.control.graph()["service_principals"] == [APP.lower()]
    assert [e for e in served.control.requests() if e["api"] == "graph" and e["method"] == "DELETE"] == []
    assert "never deletes it" in err
