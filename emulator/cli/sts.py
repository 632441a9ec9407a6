"""``ossemu sts``: temporary credentials from AssumeRole, printed as JSON or shell exports.

It calls the emulator's own STS by default (the OSS endpoint serves it too), or real STS with
``--endpoint https://sts.aliyuncs.com``. ``--prefix``/``--action`` build the session policy an
app server would hand a user; ``eval "$(ossemu sts --prefix user-42/ --format env)"`` sets
the variables that ``Client(endpoint)`` and the official SDKs' environment providers read.
"""

from __future__ import annotations

import argparse
import json
import shlex

from ossemu.client import RequestError, StsError, assume_role, prefix_policy

from .connection import DEFAULT_ENDPOINT, credentials, endpoint
from .errors import UserError
from .formatting import HelpFormatter

DEFAULT_ROLE = "acs:ram::1000000000000001:role/ossemu"
#: The names the SDKs read (oss2 and alibabacloud-oss-v2 environment providers, our Client).
ENV_NAMES = ("OSS_ACCESS_KEY_ID", "OSS_ACCESS_KEY_SECRET", "OSS_SESSION_TOKEN")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``sts`` to ``ossemu``'s subcommands."""
    p = sub.add_parser(
        "sts",
        help="print temporary credentials (STS AssumeRole) as JSON or shell exports",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=HelpFormatter,
    )
    p.add_argument("--endpoint", help=f"STS endpoint (default $OSS_ENDPOINT or {DEFAULT_ENDPOINT})")
    p.add_argument("--access-key-id", help="long-term key (default $OSS_ACCESS_KEY_ID)")
    p.add_argument("--access-key-secret", help="its secret (default $OSS_ACCESS_KEY_SECRET)")
    p.add_argument("--role-arn", default=DEFAULT_ROLE, help=f"(default {DEFAULT_ROLE})")
    p.add_argument("--session-name", default="ossemu-cli", help="the RoleSessionName")
    p.add_argument("--duration", type=int, default=3600, help="seconds, 900..43200 (default 3600)")
    p.add_argument("--bucket", default="*", help="bucket the session is confined to (default *)")
    p.add_argument("--prefix", help="confine the session to objects under this prefix")
    p.add_argument(
        "--action",
        action="append",
        help="allowed action with --prefix (repeatable; default oss:PutObject, oss:GetObject)",
    )
    p.add_argument("--policy", help="a session policy document (JSON) instead of --prefix")
    p.add_argument(
        "--format", choices=["json", "env"], default="json", help="JSON, or shell exports"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    url = endpoint(args)
    key_id, secret = credentials(args, url)
    policy = args.policy
    if policy is None and (args.prefix is not None or args.action):
        actions = args.action or ["oss:PutObject", "oss:GetObject"]
        policy = prefix_policy(args.bucket, args.prefix or "", actions)
    try:
        creds = assume_role(
            url,
            key_id,
            secret,
            args.role_arn,
            args.session_name,
            policy=policy,
            duration_seconds=args.duration,
        )
    except StsError as e:
        raise UserError(f"STS refused: {e.code}: {e.message}") from None
    except RequestError as e:
        raise UserError(f"cannot reach STS at {url}: {e}") from None
    fields = creds.as_dict()
    if args.format == "json":
        print(json.dumps(fields, indent=2))
    else:
        values = (fields["AccessKeyId"], fields["AccessKeySecret"], fields["SecurityToken"])
        for name, value in zip(ENV_NAMES, values, strict=True):
            print(f"export {name}={shlex.quote(value)}")
        print(f"# expires {fields['Expiration']}")
    return 0
