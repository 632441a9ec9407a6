"""Every emulator setting and its default, in one frozen dataclass.

The CLI, the pytest plugin and ``from_env()`` only *build* an :class:`EmulatorConfig`;
``create_app(config)`` is the single consumer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

#: The documented development credentials, used when nothing else is configured.
DEV_ACCESS_KEY_ID = "ossemu-dev-key"
DEV_ACCESS_KEY_SECRET = "ossemu-dev-secret"


@dataclass(frozen=True)
class EmulatorConfig:
    """What one emulator instance needs to know."""

    data_dir: Path = Path(".ossemu-data")
    host: str = "127.0.0.1"
    port: int = 8090
    access_key_id: str = DEV_ACCESS_KEY_ID
    access_key_secret: str = field(default=DEV_ACCESS_KEY_SECRET, repr=False)
    #: False turns signature checking off (a lenient fixture); strict is the default.
    auth: bool = True
    #: Host suffix for virtual-hosted addressing: ``<bucket>.localhost:8090``.
    domain: str = "localhost"
    region: str = "cn-hangzhou"
    #: Seconds to wait for each callback URL (OSS: 5 s, fixed).
    callback_timeout: float = 5.0
    #: Seconds an upload body may sit idle (between bytes, not in total) before the client gets
    #: 400 RequestTimeout and is disconnected, as OSS and S3 do; 0 waits for ever.
    body_timeout: float = 20.0
    #: Bytes a second an upload body must average, after ``body_timeout`` seconds of grace,
    #: before the client gets 400 RequestTimeout; 0: no minimum. A trickle of a byte every few
    #: seconds never trips the idle limit, and would hold a server thread for ever.
    body_min_rate: int = 16384
    #: Seconds a request head may take to arrive in full, from the connection's start (or the
    #: first byte after a kept-alive wait); then the connection is dropped. 0: no limit.
    head_timeout: float = 10.0
    #: Reject private and loopback callback addresses as real OSS does.
    strict_callback_urls: bool = False
    #: PEM file of the RSA key that signs callbacks; default: generated once per data dir.
    callback_private_key: Path | None = None
    #: Base URL the callback receiver can reach the emulator on (for ``x-oss-pub-key-url``);
    #: default: the address the server listens on.
    public_url: str | None = None
    #: Host names the control API also answers to (besides IP literals, localhost, the domain
    #: and the public URL's host): a name that points at this machine, for instance.
    allowed_hosts: tuple[str, ...] = ()
    log_level: str = "INFO"
    log_format: str = "text"
    #: Seconds a RestoreObject takes, on the emulator's clock (tests move it with
    #: ``advance_clock``); OSS takes about a minute for Archive and hours for the cold classes.
    restore_seconds: float = 60.0

    def with_(self, **changes: object) -> EmulatorConfig:
        """A copy with some fields changed (``dataclasses.replace`` with a short name)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> EmulatorConfig:
        """Defaults, then ``OSS_ACCESS_KEY_ID``/``OSS_ACCESS_KEY_SECRET``/``OSSEMU_DATA_DIR``."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if env.get("OSS_ACCESS_KEY_ID") and env.get("OSS_ACCESS_KEY_SECRET"):
            values["access_key_id"] = env["OSS_ACCESS_KEY_ID"]
            values["access_key_secret"] = env["OSS_ACCESS_KEY_SECRET"]
        if env.get("OSSEMU_DATA_DIR"):
            values["data_dir"] = Path(env["OSSEMU_DATA_DIR"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
