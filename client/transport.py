"""The one place requests are sent: a pooled ``requests.Session``, signing, retries, errors.

``Transport.request`` builds the URL, signs each attempt afresh (dates move on), replays what
:mod:`client.retry` allows, and turns any status >= 300 into a :class:`ServerError`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import requests
from requests.adapters import HTTPAdapter

from .auth import OssAuth, Signer
from .body import RequestBody
from .callback import carries_callback
from .endpoint import Endpoint, encode_query
from .exceptions import ClientError, RequestError, ServerError
from .retry import (
    REJECTED_UNPROCESSED,
    RetryPolicy,
    never_reached_server,
    retryable_exception,
    retryable_status,
)

USER_AGENT = "ossemu-client/0.1 (python-requests)"


class Transport:
    """Sends signed OSS requests over one connection pool; safe to share between threads."""

    def __init__(
        self,
        endpoint: Endpoint,
        signer: Signer,
        *,
        connect_timeout: float = 10,
        read_timeout: float = 60,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        pool_size: int = 16,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint = endpoint
        self.signer = signer
        self.timeout = (connect_timeout, read_timeout)
        self.retry = retry or RetryPolicy()
        self._owns_session = session is None
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self.session = session
        self._sleep = sleep
        self._skew_lock = threading.Lock()

    def close(self) -> None:
        """Release pooled connections (only when the session is ours)."""
        if self._owns_session:
            self.session.close()

    def url(self, bucket: str | None, key: str | None, params: Iterable[tuple[str, str]]) -> str:
        """The URL for a resource, with an RFC 3986-encoded query."""
        return self.endpoint.url(bucket, key, encode_query(list(params)))

    def request(
        self,
        method: str,
        *,
        bucket: str | None = None,
        key: str | None = None,
        params: Iterable[tuple[str, str]] = (),
        headers: Mapping[str, str] | None = None,
        body: RequestBody | bytes | None = None,
        stream: bool = False,
        has_callback: bool = False,
    ) -> requests.Response:
        """Send with retries; return a 2xx response or raise an :class:`OssError`."""
        url = self.url(bucket, key, params)
        has_callback = has_callback or carries_callback(headers or {})
        base_headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        base_headers.update(headers or {})
        attempt = 0
        while True:
            if attempt and isinstance(body, RequestBody):
                body.rewind()
            try:
                resp = self.session.request(
                    method,
                    url,
                    data=body,
                    headers=dict(base_headers),
                    auth=OssAuth(self.signer, bucket, key),
                    timeout=self.timeout,
                    stream=stream,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                if not retryable_exception(exc):
                    raise RequestError(f"{method} {url} failed: {exc}", exc) from exc
                safe = never_reached_server(exc) or not has_callback
                if not (safe and self._may_retry(attempt, body)):
                    raise RequestError(f"{method} {url} failed: {exc}", exc) from exc
            else:
                if resp.status_code < 300:
                    return resp
                error = ServerError.from_response(resp)
                resp.close()
                if error.code == "RequestTimeTooSkewed":
                    self._correct_clock(resp)
                safe = error.code in REJECTED_UNPROCESSED or not has_callback
                retryable = retryable_status(error.status, error.code)
                if not (retryable and safe and self._may_retry(attempt, body)):
                    raise error
            attempt += 1
            self._sleep(self.retry.delay(attempt))

    def _may_retry(self, attempt: int, body: RequestBody | bytes | None) -> bool:
        if attempt >= self.retry.max_retries:
            return False
        if isinstance(body, RequestBody):
            return body.replayable or not body.started
        return True

    def _correct_clock(self, resp: requests.Response) -> None:
        """Adopt the server's clock so the next signature falls inside its 15-minute window."""
        try:
            server_time = parsedate_to_datetime(resp.headers["Date"])
        except (KeyError, TypeError, ValueError):
            return
        if server_time.tzinfo is None:
            server_time = server_time.replace(tzinfo=timezone.utc)
        with self._skew_lock:
            now = datetime.now(timezone.utc)
            self.signer.clock_offset = (server_time - now).total_seconds()

    def presign(
        self,
        method: str,
        bucket: str | None,
        key: str | None,
        params: Iterable[tuple[str, str]],
        headers: Mapping[str, str],
        expires: int,
    ) -> str:
        """A URL that performs ``method`` without credentials for ``expires`` seconds."""
        if expires <= 0:
            raise ClientError("expires must be a positive number of seconds.")
        if self.signer.version == "v4" and expires > 7 * 24 * 3600:
            raise ClientError("V4 signed URLs expire after at most 604800 seconds (7 days).")
        query = self.signer.presign(method.upper(), bucket, key, list(params), headers, expires)
        return self.url(bucket, key, query)
