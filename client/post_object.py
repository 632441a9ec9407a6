"""``Bucket.post_object_form`` (the app server's half of a browser's direct upload) and
``Bucket.post_object`` (the browser's half, from Python: tests, scripts, a mini-program's twin)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import requests

from .bucket_base import BucketBase, guess_content_type
from .callback import Callback
from .exceptions import RequestError, ServerError
from .models import PutObjectResult
from .post_form import FormBody, PostObjectForm, build_form
from .transport import USER_AGENT


class PostObjectOperations(BucketBase):
    """Form uploads (PostObject) of one bucket."""

    def post_object_form(
        self,
        key: str | None = None,
        *,
        key_prefix: str | None = None,
        expires: int = 3600,
        content_length_range: tuple[int, int] | None = None,
        success_action_status: int | None = None,
        success_action_redirect: str | None = None,
        callback: Callback | None = None,
        callback_vars: Mapping[str, Any] | None = None,
        fields: Mapping[str, str] | None = None,
        conditions: Iterable[Any] = (),
        signature_version: str | None = None,
    ) -> PostObjectForm:
        """Sign a PostObject form that lets a browser upload one file here, for ``expires`` s.

        ``key`` is the exact object name (``${filename}`` in it becomes the file's name on
        upload); ``key_prefix`` instead allows any key under it (the form's key is then
        ``<prefix>${filename}``). The policy pins the bucket, the key, the size range and the
        callback, its ``x:`` variables and any ``fields`` (Content-Type, ``x-oss-meta-*``...);
        ``conditions`` adds raw policy conditions. No request is made.
        """
        signer = self._transport.signer
        return build_form(
            self._transport.url(self.name, None, ()),
            self.name,
            signer.credentials,
            version=(signature_version or signer.version).lower(),
            region=signer.region,
            now=signer.now(),
            key=key,
            key_prefix=key_prefix,
            expires=expires,
            content_length_range=content_length_range,
            success_action_status=success_action_status,
            success_action_redirect=success_action_redirect,
            callback=callback,
            callback_vars=callback_vars,
            fields=fields,
            conditions=conditions,
        )

    def post_object(
        self,
        form: PostObjectForm,
        data: Any,
        *,
        filename: str | os.PathLike[str] = "file",
        content_type: str | None = None,
        extra_fields: Mapping[str, str] | None = None,
    ) -> PutObjectResult:
        """POST ``data`` (bytes, str or a seekable binary file) with a signed form, as a browser
        does: unsigned, streamed, sent once (a form with a callback must not be replayed).

        Returns the stored object's ETag and CRC-64, and the app server's reply when the form
        carries a callback; a failed callback raises ``CallbackError`` (the object is stored).
        A ``success_action_redirect`` answer (303) is not followed: ``result.headers["Location"]``.
        """
        name = os.path.basename(os.fspath(filename))
        body = FormBody(
            {**form.fields, **(extra_fields or {})},
            data,
            name,
            content_type or guess_content_type(name),
        )
        headers = {"User-Agent": USER_AGENT, "Content-Type": body.content_type}
        try:
            resp = self._transport.session.post(
                form.url,
                data=body,
                headers=headers,
                timeout=self._transport.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise RequestError(f"POST {form.url} failed: {exc}", exc) from exc
        redirected = resp.status_code == 303 and "success_action_redirect" in form.fields
        if (resp.status_code >= 300 and not redirected) or (
            form.has_callback and resp.status_code == 203
        ):
            raise ServerError.from_response(resp)
        return PutObjectResult.from_response(resp, form.has_callback)
