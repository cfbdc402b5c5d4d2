"""The non-interactive contract: what a pipeline step can rely on (README, "Running raks in CI")."""

from __future__ import annotations

import json
import re
import time

import yaml

from helpers.ci import ANSI, run

REGIONS = ["uksouth", "swedencentral"]
STAMPED = re.compile(r"^\d\d:\d\d:\d\d ")


def _clean(*texts: str) -> None:
    for text in texts:
        assert not ANSI.search(text), f"ANSI escape in output: {text[:300]!r}"


def test_up_and_down_never_prompt_without_a_terminal_and_need_yes(served):
    ran = served.run("up", "--regions", "uksouth")
    assert ran.code == 2
    assert "there is no terminal to ask: pass --yes" in ran.err
    assert served.writes() == []
    _clean(ran.out, ran.err)

    assert served.run("up", "--regions", "uksouth", "--yes").code == 0
    for argv in (["down"], ["down", "--delete-data"]):
        since = time.time()
        ran = served.run(*argv)
        assert ran.code == 2, ran.err
        assert "pass --yes" in ran.err
        assert served.writes(since) == []  # nothing deleted
        _clean(ran.out, ran.err)


def test_progress_is_timestamped_lines_on_stderr_and_stdout_is_only_the_result(served):
    # CI=true and NO_COLOR as runners set them; neither may bring back colours or a live view.
    ran = served.run("up", "--regions", *REGIONS, "--yes", "--output", "json", env={"CI": "true", "NO_COLOR": "1"})
    assert ran.code == 0, ran.err
    doc = json.loads(ran.out)  # stdout is exactly one JSON document
    assert doc["result"] == "ok"
    progress = [line for line in ran.err.splitlines() if " done in " in line or " started" in line]
    assert progress and all(STAMPED.match(line) for line in progress)
    assert any(re.match(r"^\d\d:\d\d:\d\d uksouth +AKS cluster: create done in ", line) for line in progress)
    _clean(ran.out, ran.err)

    table = served.run("status", "--regions", *REGIONS)
    assert table.code == 0 and "cluster aks-uksouth: Succeeded, Running" in table.out
    _clean(table.out, table.err)


def test_help_usage_errors_and_tables_carry_no_escape_codes(served):
    # Even when a runner forces colour on (some do, for their log viewer).
    forced = {"FORCE_COLOR": "1", "TERM": "xterm-256color"}
    for argv in (["--help"], ["up", "--help"], ["plan", "--help"], ["down", "--help"]):
        ran = run(*argv, env=forced)
        assert ran.code == 0 and "Usage" in ran.out
        _clean(ran.out, ran.err)
    ran = run("up", "--no-such-flag", env=forced)
    assert ran.code == 2 and ran.err.startswith("error: ") and "--no-such-flag" in ran.err
    _clean(ran.out, ran.err)
    ran = served.run("preflight", "--regions", "uksouth")
    assert ran.code == 0 and "credential" in ran.out
    _clean(ran.out, ran.err)


def test_exit_code_2_for_a_configuration_error_before_any_cloud_call(served, tmp_path):
    (tmp_path / "raks.yaml").write_text(yaml.safe_dump({"regions": ["uksouth", "nowhere"]}))
    ran = served.run("--config", str(tmp_path / "raks.yaml"), "up", "--yes")
    assert ran.code == 2
    assert "nowhere" in ran.err
    assert served.control.requests() == []  # found before the first call


def test_exit_code_3_when_azure_rejects_the_token(served, capsys):
    served.control.add_fault(
        status=401, code="InvalidAuthenticationToken", message="The access token is invalid.", times=None
    )
    code, _out, err = served.raks(capsys, "up", "--regions", "uksouth", "--yes")
    assert code == 3, err
    assert "InvalidAuthenticationToken" in err
    code, _out, err = served.raks(capsys, "status", "--regions", "uksouth", "-o", "json")
    assert code == 3, err


def test_exit_code_4_when_azure_refuses_a_shared_resource(served, capsys):
    served.control.add_fault(
        method="PUT", path="resourceGroups/aks-anyscale-rg$", status=400, code="InvalidResourceGroupLocation",
        message="Invalid resource group location.", times=None,
    )  # fmt: skip
    code, _out, err = served.raks(capsys, "up", "--regions", *REGIONS, "--yes")
    assert code == 4, err
    assert "error: global/resource-group: InvalidResourceGroupLocation: " in err


def test_exit_code_5_when_one_region_fails_and_the_other_finishes(served, capsys):
    served.control.add_fault(
        method="PUT", path="natGateways/aks-swedencentral-nat-gw", lro_failed=True, code="InternalServerError",
        message="NAT gateway provisioning failed.", times=1,
    )  # fmt: skip
    code, out, err = served.raks(capsys, "up", "--regions", *REGIONS, "--yes", "-o", "json")
    assert code == 5, err
    doc = json.loads(out)
    assert doc["result"] == "partial (failed: swedencentral)"
    uksouth = next(r for r in doc["regions"] if r["region"] == "uksouth")
    assert uksouth["cluster_id"] and uksouth["cluster_id"].endswith("/managedClusters/aks-uksouth")


def test_detailed_exitcode_is_0_after_up_and_10_after_a_config_change(served, capsys, tmp_path):
    config = tmp_path / "raks.yaml"
    config.write_text(yaml.safe_dump({"regions": REGIONS}))
    assert served.raks(capsys, "--config", str(config), "up", "--yes")[0] == 0
    code, out, _ = served.raks(capsys, "--config", str(config), "plan", "--detailed-exitcode", "-o", "json")
    assert code == 0 and json.loads(out)["changes"] is False
    # Without --detailed-exitcode a plan with changes is still a success.
    config.write_text(yaml.safe_dump({"regions": REGIONS, "kubernetes": {"tier": "Premium"}}))
    assert served.raks(capsys, "--config", str(config), "plan")[0] == 0
    code, out, _ = served.raks(capsys, "--config", str(config), "plan", "--detailed-exitcode", "-o", "json")
    assert code == 10
    doc = json.loads(out)
    assert doc["changes"] is True
    assert {s["key"] for s in doc["steps"] if s["action"] == "update"} == {"uksouth/cluster", "swedencentral/cluster"}
