"""`raks kubeconfig REGION`: the cluster's user credentials as a kubeconfig file (mode 0600)."""

from __future__ import annotations

from pathlib import Path

import typer

from raks.cli.cmd_up import SANDBOX, SANDBOX_DIR
from raks.cli.context import globals_of
from raks.cli.output import emit_json
from raks.errors import EXIT_OK, CloudError, ConfigError


def kubeconfig(
    ctx: typer.Context,
    region: str = typer.Argument(..., help="The region whose cluster to reach."),
    file: Path = typer.Option(None, "--file", help="Where to write (default ./kubeconfig-REGION)."),
    merge: bool = typer.Option(False, "--merge", help="Merge into an existing file (e.g. ~/.kube/config)."),
    sandbox: bool = SANDBOX,
    sandbox_dir: Path = SANDBOX_DIR,
) -> int:
    """Write the cluster's user credentials as a kubeconfig (mode 0600)."""
    import yaml

    from raks import kubeconfig as kc
    from raks import names
    from raks.adapters.azure.arm import Arm
    from raks.cli.session import open_session
    from raks.regions import AZURE_REGIONS, closest_region

    g = globals_of(ctx)
    if region not in AZURE_REGIONS:
        near = closest_region(region)
        raise ConfigError(f"REGION: '{region}' is not an Azure region" + (f"; did you mean '{near}'?" if near else ""))
    path = (file or Path(f"kubeconfig-{region}")).expanduser()
    if path.exists() and not merge:
        raise ConfigError(
            f"--file: '{path}' already exists; pass --merge to merge the cluster into it, or --file for another path"
        )
    existing = kc.read(path) if merge and path.exists() else None  # a bad file fails before any cloud call
    cfg, session = open_session(ctx, None, sandbox, sandbox_dir)
    rg, cluster = cfg.resolved_resource_group(), names.cluster_name(cfg, region)
    with session as (target, _):
        arm = Arm(target)
        if arm.get("cluster", rg, cluster) is None:
            raise CloudError(
                f"AKS cluster {cluster} not found in resource group {rg}",
                code="ResourceNotFound",
                region=region,
                step="cluster",
                hint=f"create it with: raks up --regions {region}",
            )
        new = yaml.safe_load(arm.cluster_user_kubeconfig(rg, cluster))
    kc.write_private(path, kc.merge(existing, new))
    context = str(new.get("current-context") or cluster)
    if g.output == "json":
        emit_json({"schema_version": 1, "command": "kubeconfig", "region": region, "cluster": cluster,
                   "file": str(path), "context": context, "merged": existing is not None})  # fmt: skip
    else:
        print(f"wrote {path} (context {context}); try: kubectl --kubeconfig {path} get nodes")
    return EXIT_OK
