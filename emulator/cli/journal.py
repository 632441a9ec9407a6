"""``ossemu callbacks``: the emulator's callback journal, readable in a terminal."""

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


def format_delivery(entry: dict[str, Any]) -> str:
    """One journal entry as a readable block, ending with a blank line."""
    get = entry.get
    outcome = "ok" if get("outcome") == "ok" else f"FAILED: {get('message')}"
    lines = [
        f"{get('time')}  {get('operation')}  oss://{get('bucket')}/{get('key')}  -> {outcome}",
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
