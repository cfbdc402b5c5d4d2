"""Which credential a pipeline authenticates with: reported by `raks preflight`, never the secret."""

from __future__ import annotations

from raks.adapters.azure import credential

APP = {"AZURE_CLIENT_ID": "00000000-0000-0000-0000-0000000000c1", "AZURE_TENANT_ID": "t"}


def test_the_source_is_named_as_default_azure_credential_would_pick_it(tmp_path):
    token = tmp_path / "token"
    token.write_text("eyJ-oidc")
    # GitHub OIDC through AZURE_FEDERATED_TOKEN_FILE (workload identity).
    assert (
        credential.describe_environment({**APP, "AZURE_FEDERATED_TOKEN_FILE": str(token)})
        == credential.WORKLOAD_IDENTITY
    )
    # A service principal's secret wins over a token file, as in DefaultAzureCredential's order.
    both = {**APP, "AZURE_CLIENT_SECRET": "s3cr3t-value", "AZURE_FEDERATED_TOKEN_FILE": str(token)}
    assert credential.describe_environment(both) == credential.CLIENT_SECRET
    assert "s3cr3t" not in credential.describe_environment(both)
    assert (
        credential.describe_environment({**APP, "AZURE_CLIENT_CERTIFICATE_PATH": "/c.pem"})
        == credential.CLIENT_CERTIFICATE
    )
    # A client id alone (no tenant, no secret) is not a credential.
    assert credential.describe_environment({"AZURE_CLIENT_ID": "x", "PATH": ""}).startswith("none found")
    assert credential.describe_environment({"PATH": str(tmp_path)}).startswith("none found")
    az = tmp_path / "az"
    az.write_text("#!/bin/sh\n")
    az.chmod(0o755)
    assert credential.describe_environment({"PATH": str(tmp_path)}) == credential.AZURE_CLI


def test_preflight_names_the_credential_and_subscription_and_hides_secrets(served, capsys, monkeypatch):
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "s3cr3t-value")
    code, out, err = served.raks(capsys, "preflight", "--regions", "uksouth")
    assert code == 0, err
    rows = {line.split()[1]: line for line in out.splitlines() if line.startswith("global ")}
    assert rows["credential"].split(None, 3)[3] == "sandbox static token"
    assert served.endpoints["subscription_id"] in rows["subscription"]
    assert "s3cr3t" not in out + err
