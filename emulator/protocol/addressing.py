"""Which bucket and key a request names: from the ``Host`` header (virtual-hosted) or the path.

Two kinds of Host name are virtual-hosted: ``<bucket>.<domain>`` (``--domain``, default
``localhost``) and OSS's own ``<bucket>.oss-<region>[-internal].aliyuncs.com``. The second is what
ali-oss sends whenever its endpoint is an IP address: it writes that Host over the URL's and
leaves the bucket out of the path (docs/official-sdks.md 4.4). Everything else is path-style,
``/<bucket>/<key>``.

With an IP endpoint *and* ``sldEnable``, ali-oss sends that same Host and a path-style path
(``/<bucket>/<key>``), and signs ``/<bucket>/<key>``. So under an aliyuncs Host, a path whose first
segment is the Host's bucket is read path-style. Real OSS would read the key as
``<bucket>/<key>``; such keys cannot be addressed through an aliyuncs Host here.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_ALIYUNCS = re.compile(r"(?P<bucket>.+)\.oss-[a-z0-9-]+\.aliyuncs\.com", re.IGNORECASE)


def resolve(host_header: str, path: str, domain: str) -> tuple[str | None, str | None]:
    """``(bucket, key)`` named by a request; ``path`` is the decoded path, starting with ``/``."""
    try:
        host = urlsplit("//" + host_header).hostname or ""
    except ValueError:  # "[::1" and the like: not a host, so path-style addressing
        host = ""
    if domain and host.endswith("." + domain):
        return host[: -len(domain) - 1], path[1:] or None
    if match := _ALIYUNCS.fullmatch(host):
        bucket = match["bucket"]
        first, slash, rest = path[1:].partition("/")
        if first == bucket and slash:  # ali-oss with an IP endpoint and sldEnable
            return bucket, rest or None
        return bucket, path[1:] or None
    first, _, rest = path[1:].partition("/")
    return first or None, rest or None
