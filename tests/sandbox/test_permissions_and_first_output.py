"""A first `raks up --sandbox` opens with information, not warnings (issue 15, item 3): the
emulated ARM answers the permissions API, and what the sandbox does not need reads as `info`."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ResourceNotFoundError


def test_the_permissions_api_answers_owner_for_an_existing_group_and_404_for_a_missing_one(az):
    with pytest.raises(ResourceNotFoundError) as missing:
        list(az.auth.permissions.list_for_resource_group("nope-rg"))
    assert missing.value.error.code == "ResourceGroupNotFound"
    az.resource.resource_groups.create_or_update("rg", {"location": "uksouth"})
    perms = list(az.auth.permissions.list_for_resource_group("rg"))
    assert [(p.actions, p.not_actions) for p in perms] == [(["*"], [])]


def test_preflight_against_the_sandbox_shows_no_warning(served, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))  # no helm, no anyscale on PATH
    code, out, err = served.raks(capsys, "preflight", "--regions", "uksouth")
    assert code == 0, err
    statuses = {line.split()[2] for line in out.splitlines()[1:] if line.split() and not line.startswith(" ")}
    assert "warn" not in statuses, out
    assert "info" in statuses  # the token, the service principal, the group not existing yet: information
    sp = next(line for line in out.splitlines() if "anyscale service principal" in line)
    assert "normal in the sandbox" in sp and "up` creates it" in sp
    helm = next(line for line in out.splitlines() if " helm " in line)
    assert " ok " in helm and "engine" in helm  # no helm binary needed: the engine is in-process
    code, out, err = served.raks(capsys, "up", "--regions", "uksouth", "--yes")
    assert code == 0, err
    assert "preflight warn" not in err and "0 warnings" in err
