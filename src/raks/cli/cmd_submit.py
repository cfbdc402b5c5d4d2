"""`raks submit`: run a RayJob on one region's cluster (platform kuberay)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from raks.cli.cmd_up import SANDBOX, SANDBOX_DIR
from raks.cli.context import globals_of
from raks.cli.output import emit_json, err
from raks.errors import EXIT_CLOUD, EXIT_OK, ConfigError


def submit(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="A RayJob manifest (see examples/kuberay/)."),
    region: str = typer.Option(..., "--region", help="The region whose cluster runs the job."),
    timeout: float = typer.Option(3600, "--timeout", help="Seconds to wait for the job to finish."),
    sandbox: bool = SANDBOX,
    sandbox_dir: Path = SANDBOX_DIR,
) -> int:
    """Run a RayJob and follow it to SUCCEEDED or FAILED; prints where the dashboard and results are.

    A RayJob of the same name that already finished is replaced by a new run; one still running is
    followed (and said to be)."""
    import yaml

    from raks.adapters.azure.arm import Arm
    from raks.cli.cloud import open_target
    from raks.engine.submit import head_service
    from raks.engine.submit import submit as run_job

    g = globals_of(ctx)
    cfg = g.load()
    if region not in cfg.regions:
        raise ConfigError(f"--region: '{region}' is not one of the deployment's regions ({', '.join(cfg.regions)})")
    try:
        job = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"FILE: cannot read {file}: {exc}") from None
    if not isinstance(job, dict):
        raise ConfigError(f"FILE: {file} does not hold a Kubernetes object")

    def show(status: dict[str, Any]) -> None:
        err(
            f"{job.get('metadata', {}).get('name')}: {status.get('jobDeploymentStatus', '-')} / {status.get('jobStatus') or '-'}"
        )

    with open_target(cfg, sandbox=sandbox, config_dir=g.config_dir, state_dir=sandbox_dir) as (target, _):
        status = run_job(
            cfg,
            Arm(target),
            region,
            job,
            on_status=show,
            on_note=err,
            timeout=timeout,
            poll=min(5.0, target.polling_interval * 10),
        )
    name, ns = job["metadata"]["name"], job["metadata"]["namespace"]
    result = {"job": name, "namespace": ns, "region": region, **status}
    if g.output == "json":
        emit_json(result)
    else:
        sys.stdout.write(f"{name}: {status.get('jobStatus')} ({status.get('jobDeploymentStatus')})\n")
        err(
            f"dashboard: raks kubeconfig {region}, then kubectl --kubeconfig kubeconfig-{region} -n {ns} "
            f"port-forward svc/{head_service(job, status)} 8265:8265"
        )
        err(
            f"results: PVC {cfg.storage.pvc_name} in namespace {ns}, mounted at /results (blob container in the deployment's storage account)"
        )
    return EXIT_OK if status.get("jobStatus") == "SUCCEEDED" else EXIT_CLOUD
