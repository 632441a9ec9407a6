"""oss2 and alibabacloud-oss-v2 multipart paths against the emulator: resumable uploaders
(byte-exact, their own CRC checks on) and hand-made multipart uploads with a callback on Complete.
"""

from __future__ import annotations

import json
import random
import uuid

import alibabacloud_oss_v2 as oss
import oss2
import pytest
from alibabacloud_oss_v2.uploader import UploadError
from oss2.models import PartInfo

from ossemu.emulator.storage import crc64
from tests.support import b64json

PART = 100 * 1024
SIZE = 3 * PART + 54_321  # four parts, the last one short


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def payload(tmp_path):
    data = random.Random(7).randbytes(SIZE)
    path = tmp_path / "payload.bin"
    path.write_bytes(data)
    return path, data


@pytest.fixture(params=["v1", "v4"])
def oss2_bucket(request, oss_emulator):
    auth_class = oss2.Auth if request.param == "v1" else oss2.AuthV4
    auth = auth_class(oss_emulator.access_key_id, oss_emulator.access_key_secret)
    bucket = oss2.Bucket(auth, oss_emulator.url, unique("oss2"), region="cn-hangzhou")
    bucket.create_bucket()
    yield bucket
    oss_emulator.services.storage.drop_bucket(bucket.bucket_name)


@pytest.fixture
def v2_client(oss_emulator):
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
        oss_emulator.access_key_id, oss_emulator.access_key_secret
    )
    cfg.region = "cn-hangzhou"
    cfg.endpoint = oss_emulator.url
    client = oss.Client(cfg)
    name = unique("v2")
    client.put_bucket(oss.PutBucketRequest(bucket=name))
    yield client, name
    oss_emulator.services.storage.drop_bucket(name)


def callback_headers(receiver) -> dict[str, str]:
    return {
        "x-oss-callback": b64json(
            {
                "callbackUrl": receiver.url,
                "callbackBody": "op=${operation}&size=${size}&v=${x:v}",
                "callbackBodyType": "application/x-www-form-urlencoded",
            }
        ),
        "x-oss-callback-var": b64json({"x:v": "from-sdk"}),
    }


def test_oss2_resumable_upload_is_byte_exact_with_crc_checked(oss2_bucket, payload, tmp_path):
    path, data = payload
    assert oss2_bucket.enable_crc
    result = oss2.resumable_upload(
        oss2_bucket,
        "big/oss2.bin",
        str(path),
        store=oss2.ResumableStore(root=str(tmp_path / "store")),
        multipart_threshold=PART,
        part_size=PART,
        num_threads=2,
    )
    assert result.crc == crc64(data)
    assert oss2_bucket.get_object("big/oss2.bin").read() == data
    head = oss2_bucket.head_object("big/oss2.bin")
    assert head.object_type == "Multipart" and head.etag.endswith("-4")
    assert list((tmp_path / "store" / ".py-oss-upload").iterdir()) == []


def test_oss2_resumable_upload_resumes_with_the_missing_parts(
    oss2_bucket, oss_emulator, payload, tmp_path
):
    path, data = payload
    key = "big/resumed.bin"
    store = oss2.ResumableStore(root=str(tmp_path / "store"))
    options = {"store": store, "multipart_threshold": PART, "part_size": PART, "num_threads": 1}
    oss_emulator.add_fault(operation="UploadPart", key=key, part_number=3)
    with pytest.raises(oss2.exceptions.ServerError):
        oss2.resumable_upload(oss2_bucket, key, str(path), **options)
    (upload,) = oss2.MultipartUploadIterator(oss2_bucket)
    uploaded = list(oss2.PartIterator(oss2_bucket, key, upload.upload_id))

    sent = oss_emulator.add_fault(action="delay", operation="UploadPart", key=key, times=100)
    oss2.resumable_upload(oss2_bucket, key, str(path), **options)

    assert sent.hits == 4 - len(uploaded)
    assert oss2_bucket.get_object(key).read() == data


@pytest.mark.parametrize("checkpoint", [True, False])
def test_v2_uploader_fires_the_callback_on_complete(
    v2_client, payload, tmp_path, callback_receiver, oss_emulator, checkpoint
):
    client, name = v2_client
    path, data = payload
    checkpoint_dir = tmp_path / "v2-checkpoints"
    checkpoint_dir.mkdir()
    uploader = client.uploader(
        part_size=PART,
        parallel_num=2,
        enable_checkpoint=checkpoint,
        checkpoint_dir=f"{checkpoint_dir}/",  # v2 takes dirname() of it: the slash matters
    )
    cb = callback_headers(callback_receiver)
    result = uploader.upload_file(
        oss.PutObjectRequest(
            bucket=name,
            key="big/v2.bin",
            callback=cb["x-oss-callback"],
            callback_var=cb["x-oss-callback-var"],
        ),
        filepath=str(path),
    )

    assert result.status_code == 200 and result.hash_crc64 == str(crc64(data))
    got = client.get_object(oss.GetObjectRequest(bucket=name, key="big/v2.bin"))
    assert got.body.read() == data
    (received,) = callback_receiver.log
    assert received.form == {"op": "CompleteMultipartUpload", "size": str(SIZE), "v": "from-sdk"}
    assert len(oss_emulator.callbacks(bucket=name)) == 1
    assert list(checkpoint_dir.iterdir()) == []


def test_v2_uploader_resumes_from_its_checkpoint(v2_client, payload, tmp_path, oss_emulator):
    client, name = v2_client
    path, data = payload
    checkpoint_dir = tmp_path / "v2-checkpoints"
    checkpoint_dir.mkdir()
    uploader = client.uploader(
        part_size=PART, parallel_num=1, enable_checkpoint=True, checkpoint_dir=f"{checkpoint_dir}/"
    )
    key = "big/v2-resumed.bin"
    request = oss.PutObjectRequest(bucket=name, key=key)
    oss_emulator.add_fault(operation="UploadPart", key=key, part_number=3, times=100)
    with pytest.raises(UploadError):
        uploader.upload_file(request, filepath=str(path))
    assert len(list(checkpoint_dir.iterdir())) == 1
    oss_emulator.services.faults.clear()

    sent = oss_emulator.add_fault(action="delay", operation="UploadPart", key=key, times=100)
    result = uploader.upload_file(request, filepath=str(path))

    assert sent.hits == 2  # parts 3 and 4; 1 and 2 came from ListParts
    assert result.hash_crc64 == str(crc64(data))
    got = client.get_object(oss.GetObjectRequest(bucket=name, key=key))
    assert got.body.read() == data


def oss2_parts(bucket, key, upload_id, data) -> list[PartInfo]:
    parts = []
    for number, offset in enumerate(range(0, len(data), PART), start=1):
        chunk = data[offset : offset + PART]
        result = bucket.upload_part(key, upload_id, number, chunk)
        parts.append(PartInfo(number, result.etag, size=len(chunk), part_crc=result.crc))
    return parts


@pytest.mark.parametrize("app_status", [200, 500])
def test_oss2_manual_multipart_with_callback_on_complete(
    oss2_bucket, payload, callback_receiver, app_status
):
    _, data = payload
    callback_receiver.respond_with(status=app_status, body=b'{"app":"accepted"}')
    upload_id = oss2_bucket.init_multipart_upload("mp.bin").upload_id
    parts = oss2_parts(oss2_bucket, "mp.bin", upload_id, data)

    result = oss2_bucket.complete_multipart_upload(
        "mp.bin", upload_id, parts, headers=callback_headers(callback_receiver)
    )

    body = result.resp.read()
    if app_status == 200:
        assert result.status == 200 and json.loads(body) == {"app": "accepted"}
    else:
        assert result.status == 203 and b"<Code>CallbackFailed</Code>" in body
    assert result.crc == crc64(data)  # oss2 also checked it against its parts
    assert callback_receiver.log[0].form["op"] == "CompleteMultipartUpload"
    assert oss2_bucket.get_object("mp.bin").read() == data


@pytest.mark.parametrize("app_status", [200, 500])
def test_v2_complete_multipart_with_callback(v2_client, payload, callback_receiver, app_status):
    client, name = v2_client
    _, data = payload
    callback_receiver.respond_with(status=app_status, body=b'{"app":"accepted"}')
    upload = client.initiate_multipart_upload(
        oss.InitiateMultipartUploadRequest(bucket=name, key="mp.bin")
    )
    parts = []
    for number, offset in enumerate(range(0, len(data), PART), start=1):
        result = client.upload_part(
            oss.UploadPartRequest(
                bucket=name,
                key="mp.bin",
                upload_id=upload.upload_id,
                part_number=number,
                body=data[offset : offset + PART],
            )
        )
        parts.append(oss.UploadPart(part_number=number, etag=result.etag))
    cb = callback_headers(callback_receiver)

    result = client.complete_multipart_upload(
        oss.CompleteMultipartUploadRequest(
            bucket=name,
            key="mp.bin",
            upload_id=upload.upload_id,
            complete_multipart_upload=oss.CompleteMultipartUpload(parts=parts),
            callback=cb["x-oss-callback"],
            callback_var=cb["x-oss-callback-var"],
        )
    )

    if app_status == 200:
        assert result.status_code == 200
        assert json.loads(result.callback_result) == {"app": "accepted"}
    else:
        assert result.status_code == 203 and "CallbackFailed" in result.callback_result
    assert result.hash_crc64 == str(crc64(data))
    assert callback_receiver.log[0].form == {
        "op": "CompleteMultipartUpload",
        "size": str(SIZE),
        "v": "from-sdk",
    }
