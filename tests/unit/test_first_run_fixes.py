"""Small things a newcomer meets in the first ten minutes (issue 15, item 5)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from raks.cli.main import main
from raks.cli.schemas import document


def _raks(*argv: str, env: dict[str, str] | None = None, close_stdout: bool = False) -> tuple[int, str, str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("RAKS_")}
    full.update(env or {})
    proc = subprocess.Popen(
        [sys.executable, "-m", "raks", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full, text=True
    )
    if close_stdout:  # the reader went away before raks wrote (`raks … | head` that already exited)
        assert proc.stdout is not None
        proc.stdout.close()
        err = proc.stderr.read() if proc.stderr else ""
        return proc.wait(), "", err
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


def test_regions_flag_reads_as_region_names_in_help(capsys):
    for command in ("up", "plan", "preflight", "status"):
        assert main([command, "--help"]) == 0
        text = capsys.readouterr().out
        assert "--regions REGION..." in text, text
        assert "<list[str]>" not in text


def test_a_closed_stdout_pipe_ends_quietly_with_141():
    for argv in (("config", "show"), ("--help",)):
        code, _, err = _raks(*argv, close_stdout=True)
        assert code == 141, err
        assert err == ""


def test_raks_output_env_works_as_the_output_flag_and_a_bad_value_is_named():
    code, out, err = _raks("config", "show", env={"RAKS_OUTPUT": "json"})
    assert code == 0, err
    assert json.loads(out)["deployment"] == "aks-anyscale"
    code, out, err = _raks("-o", "table", "config", "show", env={"RAKS_OUTPUT": "json"})
    assert code == 0 and out.startswith("deployment:")  # the flag wins over the environment
    code, out, err = _raks("config", "show", env={"RAKS_OUTPUT": "xml"})
    assert code == 2 and err.strip() == "error: RAKS_OUTPUT: 'xml' is not allowed (use table or json)"


def test_an_env_name_raks_does_not_read_is_refused():
    code, _, err = _raks("config", "show", env={"RAKS_LOG_FILE": "raks.log"})
    assert code == 2 and "RAKS_LOG_FILE: not a raks setting" in err


def test_status_json_quota_figures_are_integers():
    doc = document(
        "status",
        {
            "schema_version": 1, "command": "status", "deployment": "d", "resource_group": "d-rg",
            "global": {}, "drift": {"changes": 0, "create": 0, "update": 0, "failed": 0, "steps": []},
            "regions": [{"region": "uksouth", "quota": [
                {"name": "lowPriorityCores", "kind": "spot", "used": 96, "limit": 288, "unit": "vCPUs"}]}],
        },
    )  # fmt: skip
    text = json.dumps(doc)
    assert '"used": 96,' in text and '"limit": 288,' in text
