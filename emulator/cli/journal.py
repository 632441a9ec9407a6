"""``ossemu callbacks [replay|trigger]``: the emulator's callback journal, readable in a
terminal; send a journalled callback again, or one for a stored object (as the page does)."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from typing import Any

import requests

from .errors import UserError

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def show_callbacks(args: argparse.Namespace, endpoint: str) -> int:
    """Print the journal (``--follow``: and what arrives next, until Ctrl-C)."""
    url = endpoint + "/_ossemu/callbacks"
    query = {name: value for name in ("bucket", "key") if (value := getattr(args, name))}

    def fetch() -> list[dict[str, Any]]:
        resp = requests.get(url, params=query, timeout=10)
        if resp.status_code != 200:
            raise UserError(f"{url} answered {resp.status_code}: is it an ossemu emulator?")
        return list(resp.json())

    if not args.follow:
        entries = fetch()
        print(
            json.dumps(entries, indent=2) if args.json else "\n".join(map(format_delivery, entries))
        )
        return 0
    print(f"following {url} (Ctrl-C stops)", file=sys.stderr, flush=True)
    seen = 0
    try:
        while True:
            entries = fetch()
            for entry in entries[seen if seen <= len(entries) else 0 :]:  # shorter: cleared
                print(json.dumps(entry) if args.json else format_delivery(entry), flush=True)
            seen = len(entries)
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return 0


def replay_callback(args: argparse.Namespace, endpoint: str) -> int:
    """POST the journal entry's body again (signed afresh); exit 3 when the app refuses it."""
    fields = {"url": args.url} if args.url else {}
    return _delivered(endpoint, f"/_ossemu/callbacks/{args.id}/replay", fields, f"#{args.id}")


def trigger_callback(args: argparse.Namespace, endpoint: str, bucket: str, key: str) -> int:
    """Deliver a callback for a stored object, rendered from ``--body`` and ``--var``s."""
    variables = {}
    for item in args.var or []:
        name, sep, value = item.partition("=")
        if not sep or not name.startswith("x:"):
            raise UserError(f"--var takes x:NAME=VALUE, not {item!r}")
        variables[name] = value
    callback = {"callbackUrl": args.url, "callbackBody": args.body}
    callback["callbackBodyType"] = args.body_type
    if args.host:
        callback["callbackHost"] = args.host
    fields = {"bucket": bucket, "key": key, "callback": callback, "variables": variables}
    return _delivered(endpoint, "/_ossemu/callbacks/trigger", fields, f"oss://{bucket}/{key}")


def _delivered(endpoint: str, path: str, fields: dict[str, Any], what: str) -> int:
    resp = requests.post(endpoint + path, json=fields, timeout=60)
    try:
        answer = resp.json()
    except ValueError:
        answer = {}
    if resp.status_code != 201:
        why = answer.get("error") or f"{endpoint} answered {resp.status_code}"
        raise UserError(f"{what}: {why}")
    if answer["outcome"] == "ok":
        print(f"{what}: delivered as journal entry #{answer['id']}: ok ({answer['status']})")
        return 0
    print(f"{what}: delivered as journal entry #{answer['id']}: FAILED: {answer['message']}")
    return 3


def format_delivery(entry: dict[str, Any]) -> str:
    """One journal entry as a readable block, ending with a blank line."""
    get = entry.get
    outcome = "ok" if get("outcome") == "ok" else f"FAILED: {get('message')}"
    number = f"#{get('id')}  " if get("id") is not None else ""
    lines = [
        f"{number}{get('time')}  {get('operation')}  oss://{get('bucket')}/{get('key')}  "
        f"-> {outcome}",
        f"  request {get('request_id')}, {get('duration_ms')} ms",
    ]
    attempts = get("attempts") or []
    if attempts:
        kind = (get("callback") or {}).get("body_type", "")
        lines.append(f"  sent ({kind}): {_body(attempts[0].get('request') or {})}")
    for number, attempt in enumerate(attempts, 1):
        response = attempt.get("response") or {}
        verdict = "ok" if attempt.get("ok") else f"failed: {attempt.get('message')}"
        lines.append(
            f"  try {number}: POST {attempt.get('url')} -> {response.get('status', 'no answer')}, "
            f"{verdict} ({attempt.get('duration_ms')} ms)"
        )
        if attempt.get("error"):
            lines.append(f"         why: {attempt['error']}")
        if response:
            lines.append(f"         answer: {_body(response)}")
    return "\n".join(lines) + "\n"


def _body(record: dict[str, Any]) -> str:
    if "body_base64" in record:
        return f"<binary; base64 {record['body_base64'][:60]}...>"
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", record.get("body", ""))
    return (text[:1000] + "...") if len(text) > 1000 else (text or "<empty>")
