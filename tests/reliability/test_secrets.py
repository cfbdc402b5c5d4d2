"""Secrets never leak: `up`, `plan`, `status` and `down` with -v, a known Anyscale token and a
known sandbox credential, the Helm binary driver (a recording fake helm on PATH); then every
place a secret could land — stdout, stderr (table and JSON), log files, each recorded helm argv
and values file, the emulator's request log and persisted state — is searched: zero hits. And the
emulator saw the credentials where they belong: every ARM request carried the sandbox token given in
RAKS_SANDBOX_TOKEN, every Anyscale request the ANYSCALE_CLI_TOKEN, every Kubernetes request its
cluster's token (the request log labels each request's credential, never holding it).
"""

from __future__ import annotations

import json
from pathlib import Path

from helpers.fake_helm import install_fake_helm

ANYSCALE_TOKEN = "sss_reliability_secret_0451"
SANDBOX_TOKEN = "raks-sandbox-credential-9137"
SECRETS = (ANYSCALE_TOKEN, SANDBOX_TOKEN)


def test_no_secret_in_any_output_log_argv_or_state(served, capsys, tmp_path, monkeypatch):
    helm_log = install_fake_helm(tmp_path, monkeypatch)
    monkeypatch.setenv("ANYSCALE_CLI_TOKEN", ANYSCALE_TOKEN)
    monkeypatch.setenv("RAKS_SANDBOX_TOKEN", SANDBOX_TOKEN)
    served.control.name_credential("sandbox-token", SANDBOX_TOKEN)  # only its SHA-256 is sent
    served.control.name_credential("anyscale-token", ANYSCALE_TOKEN)

    outputs: list[str] = []
    # (each command with platform anyscale runs the anyscale CLI, ≈1 s a call: few runs)
    runs = [
        ("up", "--yes", "-v"),
        ("plan", "-v", "-o", "json"),
        ("status", "-v"),
        ("status", "-v", "-o", "json"),
        ("down", "--yes", "--delete-data", "-v", "-o", "json"),
    ]
    for argv in runs:
        code, out, err = served.raks(capsys, *argv, "--regions", "uksouth")
        assert code == 0, f"{argv}: {err}"
        outputs += [out, err]
        if "json" in argv:
            json.loads(out)  # the JSON outputs are among those searched

    helm_calls = [json.loads(line) for line in helm_log.read_text().splitlines()]
    assert any(c["argv"][:2] == ["upgrade", "--install"] for c in helm_calls), "the helm driver was not exercised"
    haystacks = {
        "stdout/stderr": "\n".join(outputs),
        "helm argv and values": helm_log.read_text(),
    }
    for path in sorted(Path(served.dir).rglob("*")) + sorted(tmp_path.glob("*.log")):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".log", ".yaml", ".txt", ""):
            haystacks[str(path)] = path.read_text(errors="replace")
    assert any(name.endswith("requests.jsonl") for name in haystacks)
    assert any(name.endswith("state.json") for name in haystacks)
    leaks = [(where, s) for where, text in haystacks.items() for s in SECRETS if s in text]
    assert leaks == []
    # The emulator did see the credentials (so the search is not vacuous), each where it belongs.
    seen: dict[str, set[str]] = {}
    for entry in served.control.requests():
        seen.setdefault(entry["api"], set()).add(entry["credential"])
    # Graph (the operator app's service principal) is called with the Azure credential too; the
    # Retail Prices API (plan's and status' cost) is public: it is sent no credential at all.
    assert seen == {
        "arm": {"sandbox-token"},
        "graph": {"sandbox-token"},
        "anyscale": {"anyscale-token"},
        "kube": {"kube-token"},
        "prices": {"none"},
    }


def test_the_request_log_labels_each_credential_without_holding_it(served):
    import ssl
    import urllib.error
    import urllib.request

    served.control.name_credential("sandbox-token", SANDBOX_TOKEN)
    context = ssl.create_default_context(cafile=served.endpoints["ca_bundle"])
    url = f"{served.endpoints['arm']}/subscriptions?api-version=2022-12-01"
    for token in (None, SANDBOX_TOKEN, "raks-sandbox-token", "someone-elses-token"):
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
        try:
            urllib.request.urlopen(request, context=context, timeout=30).close()
        except urllib.error.HTTPError as exc:
            assert token is None and exc.code == 401
    labels = [e["credential"] for e in served.control.requests()]
    assert labels == ["none", "sandbox-token", "default-sandbox-token", "unknown"]
    assert SANDBOX_TOKEN not in (served.dir / "requests.jsonl").read_text()
