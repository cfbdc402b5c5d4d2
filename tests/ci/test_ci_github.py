"""The GitHub Actions pieces: the workflows and action.yml are what GitHub accepts, and the
composite action's shell steps, run as GitHub runs them, drive raks against the sandbox."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from helpers.ci import REPO

WORKFLOWS = [
    REPO / "examples" / "github-actions" / "deploy.yml",
    REPO / "examples" / "github-actions" / "drift.yml",
    REPO / ".github" / "workflows" / "ci.yml",
]
EXPR = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def _load(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text())
    assert isinstance(doc, dict)
    if True in doc:  # YAML 1.1 reads the key `on` as true
        doc["on"] = doc.pop(True)
    return doc


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_have_what_github_requires(path):
    wf = _load(path)
    assert wf.get("name") and wf.get("on")
    assert wf["jobs"]
    for name, job in wf["jobs"].items():
        assert job.get("runs-on"), name
        assert job.get("steps"), name
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), (name, step)


def test_the_deploy_example_plans_waits_for_approval_and_keeps_the_json():
    wf = _load(REPO / "examples" / "github-actions" / "deploy.yml")
    assert wf["permissions"]["id-token"] == "write"  # OIDC
    text = (REPO / "examples" / "github-actions" / "deploy.yml").read_text()
    assert "azure/login@" in text and "raks plan" in text
    apply = wf["jobs"]["apply"]
    assert apply["environment"] and apply["needs"] == "plan"
    runs = " ".join(s.get("run", "") for s in apply["steps"])
    assert "raks up" in runs and "--yes" in runs and "--output json" in runs
    assert any(s.get("uses", "").startswith("actions/upload-artifact@") for s in apply["steps"])
    drift = _load(REPO / "examples" / "github-actions" / "drift.yml")
    assert drift["on"]["schedule"][0]["cron"]
    assert "--detailed-exitcode" in (REPO / "examples" / "github-actions" / "drift.yml").read_text()


def test_ci_runs_the_composite_action_against_the_sandbox():
    jobs = _load(REPO / ".github" / "workflows" / "ci.yml")["jobs"]
    local = [s for job in jobs.values() for s in job["steps"] if s.get("uses") == "./"]
    assert local and all(str(s["with"]["sandbox"]).lower() == "true" for s in local)
    assert {s["with"]["command"] for s in local} >= {"up", "plan", "down"}


def test_action_yml_is_a_composite_action():
    action = _load(REPO / "action.yml")
    assert action["name"] and action["description"]
    assert {"command", "config", "regions", "version", "args", "sandbox"} <= set(action["inputs"])
    assert all("description" in i for i in action["inputs"].values())
    assert {"result", "changes", "exit-code", "json"} <= set(action["outputs"])
    assert all("value" in o for o in action["outputs"].values())
    assert action["runs"]["using"] == "composite"
    assert all(s.get("shell") == "bash" and s.get("run") for s in action["runs"]["steps"])


# -- running the action's steps as GitHub would --------------------------------------------------
def _outputs(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k: v for k, v in pairs}


def run_action(tmp_path: Path, inputs: dict[str, str]) -> dict[str, str]:
    """action.yml's steps in order: `${{ inputs.* }}` and `${{ steps.*.outputs.* }}` expanded,
    each script run by `bash --noprofile --norc -eo pipefail` (GitHub's bash), with GITHUB_OUTPUT
    and GITHUB_ACTION_PATH set. Returns the action's outputs."""
    action = _load(REPO / "action.yml")
    values = {k: str(v.get("default", "")) for k, v in action["inputs"].items()} | inputs
    steps: dict[str, dict[str, str]] = {}

    def expand(text: str) -> str:
        def one(m: re.Match[str]) -> str:
            parts = m.group(1).split(".")
            if parts[0] == "inputs":
                return values[parts[1]]
            if parts[0] == "steps" and parts[2] == "outputs":
                return steps.get(parts[1], {}).get(parts[3], "")
            raise AssertionError(f"unexpected expression {m.group(0)}")

        return EXPR.sub(one, text)

    base = {k: v for k, v in os.environ.items() if not k.startswith(("RAKS_", "GITHUB_"))}
    for i, step in enumerate(action["runs"]["steps"]):
        out = tmp_path / f"output-{i}"
        out.write_text("")
        script = tmp_path / f"step-{i}.sh"
        script.write_text(expand(step["run"]))
        env = base | {k: expand(str(v)) for k, v in (step.get("env") or {}).items()}
        env |= {"GITHUB_OUTPUT": str(out), "GITHUB_ACTION_PATH": str(REPO), "RUNNER_TEMP": str(tmp_path)}
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=300,
        )
        steps[step.get("id", str(i))] = _outputs(out)
        if proc.returncode != 0:
            break  # as on GitHub: a failing step ends the action; its outputs stay readable
    result = {name: expand(str(o["value"])) for name, o in action["outputs"].items()}
    result["step-exit"] = str(proc.returncode)
    result["log"] = proc.stdout + proc.stderr
    return result


def test_the_action_runs_plan_up_drift_and_down_against_the_sandbox(served, tmp_path):
    config = tmp_path / "raks.yaml"
    config.write_text(yaml.safe_dump({"regions": ["uksouth", "swedencentral"]}))
    common = {"python": sys.executable, "config": str(config), "sandbox": "true", "args": f"--sandbox-dir {served.dir}"}

    plan = run_action(tmp_path, {**common, "command": "plan"})
    assert (plan["step-exit"], plan["exit-code"], plan["result"], plan["changes"]) == ("0", "0", "changes", "true")
    assert json.loads(Path(plan["json"]).read_text())["command"] == "plan"

    up = run_action(tmp_path, {**common, "command": "up"})  # --yes: the action never prompts
    assert (up["step-exit"], up["exit-code"], up["result"], up["changes"]) == ("0", "0", "ok", "true"), up["log"]
    doc = json.loads(Path(up["json"]).read_text())
    assert [r["kubeconfig_command"] for r in doc["regions"]] == [
        "raks kubeconfig uksouth",
        "raks kubeconfig swedencentral",
    ]

    drift = run_action(tmp_path, {**common, "command": "plan", "args": common["args"] + " --detailed-exitcode"})
    assert (drift["step-exit"], drift["exit-code"], drift["changes"]) == ("0", "0", "false")
    config.write_text(yaml.safe_dump({"regions": ["uksouth", "swedencentral"], "kubernetes": {"tier": "Premium"}}))
    drift = run_action(tmp_path, {**common, "command": "plan", "args": common["args"] + " --detailed-exitcode"})
    # 10 is an answer, not a failure of the step: the workflow decides from the outputs.
    assert (drift["step-exit"], drift["exit-code"], drift["changes"]) == ("0", "10", "true")

    status = run_action(tmp_path, {**common, "command": "status"})
    assert (status["exit-code"], status["result"]) == ("0", "drift")

    down = run_action(tmp_path, {**common, "command": "down"})
    assert (down["step-exit"], down["exit-code"], down["result"]) == ("0", "0", "ok"), down["log"]


def test_the_action_fails_with_raks_exit_code(served, tmp_path):
    common = {"python": sys.executable, "sandbox": "true", "args": f"--sandbox-dir {served.dir}"}
    bad = run_action(tmp_path, {**common, "command": "up", "regions": "nowhere"})
    assert (bad["step-exit"], bad["exit-code"], bad["result"]) == ("2", "2", "")
    assert "nowhere" in bad["log"]
    wrong = run_action(tmp_path, {**common, "command": "destroy"})
    assert wrong["step-exit"] == "2" and "is not allowed" in wrong["log"]
