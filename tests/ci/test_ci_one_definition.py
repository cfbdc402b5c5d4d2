"""CI has one definition: the workflow runs `.ci/run` instead of repeating its steps."""

from __future__ import annotations

import yaml

from helpers.ci import REPO

CHECKS = ("pytest", "ruff", "mypy", "lint-imports", "pip install")


def test_the_workflow_runs_ci_run_and_repeats_none_of_its_steps():
    jobs = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text())["jobs"]
    runs = [s["run"] for job in jobs.values() for s in job["steps"] if "run" in s]
    assert any(r.strip() == "bash .ci/run" for r in runs)
    script = (REPO / ".ci" / "run").read_text()
    for check in CHECKS:
        assert check in script, check  # .ci/run is where they live …
        assert not any(check in r for r in runs), check  # … and only there
