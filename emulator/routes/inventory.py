"""Bucket inventory over HTTP: Put/Get/Delete/ListBucketInventory, all kept in one
bucket-settings row (``inventory``: id -> document). No reports are ever written."""

from __future__ import annotations

from flask import Response

from ..protocol import inventory
from ..protocol.errors import NotFound, invalid_argument
from ..services import storage
from .parsing import OssRequest
from .responses import xml_response

SETTING = "inventory"
MAX_BODY = 64 * 1024


def put_bucket_inventory(req: OssRequest) -> Response:
    """PutBucketInventory: https://www.alibabacloud.com/help/en/oss/developer-reference/putbucketinventory"""
    inventory_id = _id(req)
    body = bytearray()
    for chunk in req.body_chunks():
        body += chunk
        if len(body) > MAX_BODY:
            raise invalid_argument("The inventory configuration is too large.")
    document = inventory.check_inventory(bytes(body), inventory_id)
    configs = _configs(req)
    configs[inventory_id] = document.decode()
    storage().put_bucket_setting(req.bucket or "", SETTING, inventory.dumps(configs))
    return Response(status=200)


def get_bucket_inventory(req: OssRequest) -> Response:
    """GetBucketInventory, or ListBucketInventory without ``inventoryId``:
    https://www.alibabacloud.com/help/en/oss/developer-reference/getbucketinventory"""
    configs = _configs(req)
    if "inventoryId" not in req.args:
        return xml_response(inventory.list_xml(configs, req.args.get("continuation-token", "")))
    return xml_response(_one(configs, _id(req)).encode())


def delete_bucket_inventory(req: OssRequest) -> Response:
    """DeleteBucketInventory: https://www.alibabacloud.com/help/en/oss/developer-reference/deletebucketinventory"""
    configs = _configs(req)
    _one(configs, _id(req))
    del configs[_id(req)]
    storage().put_bucket_setting(req.bucket or "", SETTING, inventory.dumps(configs))
    return Response(status=204)


def _configs(req: OssRequest) -> dict[str, str]:
    store = storage()
    value = store.get_bucket_setting(req.bucket or "", SETTING)
    if value is None:
        store.get_bucket(req.bucket or "")  # NoSuchBucket first
    return inventory.loads(value)


def _one(configs: dict[str, str], inventory_id: str) -> str:
    if inventory_id not in configs:
        raise NotFound("NoSuchInventory", "The specified inventory does not exist.")
    return configs[inventory_id]


def _id(req: OssRequest) -> str:
    value = req.args.get("inventoryId", "")
    if not value:
        raise invalid_argument("inventoryId is required.", "inventoryId", value)
    return value
