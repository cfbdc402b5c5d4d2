"""The sandbox's small blob data plane (control API): data lives and dies with its container."""

from __future__ import annotations

import pytest

RG = "blob-rg"


def _account(az, name: str) -> None:
    from azure.mgmt.storage.models import BlobContainer, Sku, StorageAccountCreateParameters

    az.resource.resource_groups.create_or_update(RG, {"location": "uksouth"})
    params = StorageAccountCreateParameters(sku=Sku(name="Standard_LRS"), kind="StorageV2", location="uksouth")
    az.storage.storage_accounts.begin_create(RG, name, params).result()
    for container in ("data", "logs"):
        az.storage.blob_containers.create(RG, name, container, BlobContainer(public_access="None"))


def test_blobs_are_written_read_listed_and_go_with_their_container_and_account(az, control):
    _account(az, "blobacct01")
    control.put_blob("blobacct01", "data", "runs/1/result.json", b"{}")
    control.put_blob("blobacct01", "logs", "a.txt", b"hello")
    assert control.get_blob("blobacct01", "data", "runs/1/result.json") == b"{}"
    assert control.list_blobs("blobacct01", "data") == ["runs/1/result.json"]
    with pytest.raises(RuntimeError, match="BlobNotFound"):
        control.get_blob("blobacct01", "data", "missing")
    with pytest.raises(RuntimeError, match="ContainerNotFound"):
        control.put_blob("blobacct01", "nope", "x", b"x")

    az.storage.blob_containers.delete(RG, "blobacct01", "data")
    assert control.list_blobs("blobacct01", "logs") == ["a.txt"]
    az.storage.blob_containers.create(RG, "blobacct01", "data", {})  # a new container starts empty
    assert control.list_blobs("blobacct01", "data") == []
    az.storage.storage_accounts.delete(RG, "blobacct01")
    with pytest.raises(RuntimeError, match="StorageAccountNotFound"):
        control.list_blobs("blobacct01", "logs")
    assert "blobacct01" not in control.state()["blobs"]
