"""Temporary credentials across processes: gunicorn workers booted together all create or read
the one seal key of the data dir, so a token issued by any worker is accepted by every other."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests

from ossemu.client import Client, assume_role, prefix_policy
from tests.reliability.helpers import KEY_ID, SECRET, GunicornProcess

ROLE = "acs:ram::1000000000000001:role/workers"


def test_tokens_issued_by_one_worker_are_accepted_by_all(tmp_path):
    gunicorn = GunicornProcess(tmp_path / "data", workers=4)
    try:
        Client(gunicorn.url, KEY_ID, SECRET).create_bucket("shared")

        def session(n: int) -> None:
            creds = assume_role(
                gunicorn.url,
                KEY_ID,
                SECRET,
                ROLE,
                f"user-{n}",
                policy=prefix_policy("shared", f"user-{n}/"),
            )
            for i in range(6):  # a new connection each time, so the workers take turns
                with requests.Session() as http:
                    client = Client(
                        gunicorn.url,
                        creds.access_key_id,
                        creds.access_key_secret,
                        security_token=creds.security_token,
                        max_retries=0,
                        session=http,
                    )
                    client.get_bucket("shared").put_object(f"user-{n}/{i}", b"x")

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(session, range(8)))
        listed = Client(gunicorn.url, KEY_ID, SECRET).get_bucket("shared").list_objects()
        assert len(list(listed)) == 48
        assert len(list((tmp_path / "data").glob("sts-seal.key"))) == 1
    finally:
        gunicorn.stop()
