"""``Client``: credentials, endpoint and one connection pool; hands out ``Bucket`` objects."""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import TracebackType

import requests

from .auth import Credentials, CredentialsProvider, Signer
from .bucket import Bucket
from .endpoint import DEFAULT_LOCAL_REGION, Endpoint, validate_bucket_name
from .exceptions import ClientError
from .models import BucketInfo
from .retry import RetryPolicy
from .transport import Transport
from .xmlutil import Document, build


def _credentials(
    access_key_id: str | None, access_key_secret: str | None, security_token: str | None
) -> Credentials:
    if access_key_id is None and access_key_secret is None:
        access_key_id = os.environ.get("OSS_ACCESS_KEY_ID")
        access_key_secret = os.environ.get("OSS_ACCESS_KEY_SECRET")
        security_token = security_token or os.environ.get("OSS_SESSION_TOKEN") or None
    if not access_key_id or not access_key_secret:
        raise ClientError(
            "No OSS credentials: pass access_key_id and access_key_secret, or set the "
            "OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET environment variables."
        )
    return Credentials(access_key_id, access_key_secret, security_token)


def _region(endpoint: Endpoint, region: str | None, version: str) -> str:
    if region:
        return region.removeprefix("oss-")
    if endpoint.region:
        return endpoint.region
    if endpoint.is_local:
        return DEFAULT_LOCAL_REGION
    if version == "v4":
        raise ClientError(
            f"Cannot tell the region of {endpoint.host!r}; pass region='cn-hangzhou' (or the "
            "bucket's region): V4 signatures include it."
        )
    return ""


class Client:
    """An OSS account at one endpoint. Thread-safe; use it as a context manager or ``close()``.

    ``Client("http://127.0.0.1:8090", ak, sk)`` talks path-style, V4, region ``cn-hangzhou``
    to a local emulator; ``Client("oss-cn-hangzhou.aliyuncs.com")`` uses https, virtual-hosted
    buckets and credentials from ``OSS_ACCESS_KEY_ID``/``OSS_ACCESS_KEY_SECRET``.
    ``max_retries`` is the number of replays after the first attempt (or a ``RetryPolicy``).
    Temporary credentials: ``security_token=`` with an STS key pair, or a
    ``credentials_provider`` (e.g. :class:`~.sts.AssumeRoleProvider`) asked on every request.
    """

    def __init__(
        self,
        endpoint: str,
        access_key_id: str | None = None,
        access_key_secret: str | None = None,
        *,
        region: str | None = None,
        signature_version: str = "v4",
        path_style: bool | None = None,
        connect_timeout: float = 10,
        read_timeout: float = 60,
        max_retries: int | RetryPolicy = 3,
        enable_crc: bool = True,
        session: requests.Session | None = None,
        security_token: str | None = None,
        credentials_provider: CredentialsProvider | None = None,
    ) -> None:
        version = str(signature_version).lower()
        if version not in ("v1", "v4"):
            raise ClientError(f"signature_version must be 'v1' or 'v4', not {signature_version!r}.")
        self.endpoint = Endpoint.parse(endpoint, path_style=path_style)
        self.region = _region(self.endpoint, region, version)
        self.signature_version = version
        self.enable_crc = enable_crc
        credentials: Credentials | CredentialsProvider = (
            credentials_provider
            if credentials_provider is not None
            else _credentials(access_key_id, access_key_secret, security_token)
        )
        retry = max_retries if isinstance(max_retries, RetryPolicy) else RetryPolicy(max_retries)
        self._transport = Transport(
            self.endpoint,
            Signer(credentials, version, self.region),
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retry=retry,
            session=session,
        )

    def __repr__(self) -> str:
        return (
            f"Client({self.endpoint.scheme}://{self.endpoint.netloc!s}, "
            f"region={self.region!r}, signature_version={self.signature_version!r})"
        )

    def get_bucket(self, name: str) -> Bucket:
        """A handle on bucket ``name``; makes no request."""
        return Bucket(self._transport, name, enable_crc=self.enable_crc)

    def create_bucket(
        self, name: str, *, acl: str | None = None, storage_class: str | None = None
    ) -> Bucket:
        """Create the bucket (PutBucket) and return its handle."""
        validate_bucket_name(name)
        headers = {"x-oss-acl": acl} if acl else {}
        body = None
        if storage_class:
            body = build("CreateBucketConfiguration", [("StorageClass", storage_class)])
            headers["Content-Type"] = "application/xml"
        self._transport.request("PUT", bucket=name, headers=headers, body=body)
        return self.get_bucket(name)

    def delete_bucket(self, name: str) -> None:
        """Delete an empty bucket (``BucketNotEmpty`` otherwise)."""
        validate_bucket_name(name)
        self._transport.request("DELETE", bucket=name)

    def list_buckets(self, prefix: str = "", *, max_keys: int = 100) -> Iterator[BucketInfo]:
        """Every bucket of the account (optionally under ``prefix``), following pagination."""
        marker = ""
        while True:
            params = [("max-keys", str(max_keys))]
            params += [(k, v) for k, v in (("prefix", prefix), ("marker", marker)) if v]
            doc = Document.parse(self._transport.request("GET", params=params).content)
            for b in doc.all("Buckets/Bucket"):
                yield BucketInfo(
                    b.text("Name"),
                    b.text("Location") or None,
                    b.timestamp("CreationDate"),
                    b.text("StorageClass") or None,
                    b.text("Region") or None,
                    b.text("ExtranetEndpoint") or None,
                    b.text("IntranetEndpoint") or None,
                )
            next_marker = doc.text("NextMarker")
            if not doc.flag("IsTruncated") or not next_marker or next_marker == marker:
                return
            marker = next_marker

    def close(self) -> None:
        """Close pooled connections (a session passed in stays open: it is the caller's)."""
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
