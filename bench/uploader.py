"""``python -m bench.uploader CLIENT URL BUCKET KEY FILE``: one resumable upload, timed.

Each client runs in its own process so its peak memory (``ru_maxrss``) is its own. Prints one
JSON line: ``{"seconds": .., "maxrss_mb": ..}``. All three get the same part size and threads.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from .peers import KEY_ID, SECRET


def _ours(url: str, bucket: str, key: str, path: str, part_size: int, threads: int, cp: str):
    from ossemu.client import Client

    with Client(url, KEY_ID, SECRET) as c:
        b = c.get_bucket(bucket)
        upload = getattr(b, "resumable_upload", None)
        if upload is None:  # before Bucket.resumable_upload existed
            from ossemu.client.resumable import resumable_upload

            return resumable_upload(
                b, key, path, part_size=part_size, threads=threads, checkpoint_dir=cp
            )
        return upload(key, path, part_size=part_size, threads=threads, checkpoint_dir=cp)


def _oss2(url: str, bucket: str, key: str, path: str, part_size: int, threads: int, cp: str):
    import oss2

    b = oss2.Bucket(oss2.Auth(KEY_ID, SECRET), url, bucket)
    return oss2.resumable_upload(
        b,
        key,
        path,
        store=oss2.ResumableStore(root=cp),
        multipart_threshold=part_size,
        part_size=part_size,
        num_threads=threads,
    )


def _v2(url: str, bucket: str, key: str, path: str, part_size: int, threads: int, cp: str):
    import alibabacloud_oss_v2 as oss

    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(KEY_ID, SECRET)
    cfg.region = "cn-hangzhou"
    cfg.endpoint = url
    uploader = oss.Client(cfg).uploader(
        part_size=part_size, parallel_num=threads, enable_checkpoint=True, checkpoint_dir=cp
    )
    return uploader.upload_file(oss.PutObjectRequest(bucket=bucket, key=key), filepath=path)


def _peak_rss_mb() -> float:
    """VmHWM: this process's own peak (``ru_maxrss`` would include the parent's at fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


CLIENTS = {"ossemu client": _ours, "oss2": _oss2, "alibabacloud-oss-v2": _v2}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.uploader")
    p.add_argument("client", choices=sorted(CLIENTS))
    p.add_argument("url")
    p.add_argument("bucket")
    p.add_argument("key")
    p.add_argument("file")
    p.add_argument("--part-size", type=int, default=8 * 1024 * 1024)
    p.add_argument("--threads", type=int, default=4)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-cp-") as cp:
        started = time.perf_counter()
        CLIENTS[args.client](
            args.url, args.bucket, args.key, args.file, args.part_size, args.threads, cp
        )
        seconds = time.perf_counter() - started
    maxrss_mb = _peak_rss_mb()
    print(json.dumps({"seconds": seconds, "maxrss_mb": maxrss_mb}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
