"""Image processing (x-oss-process=image/...) through oss2, alibabacloud-oss-v2, a presigned
URL and raw requests; every source image is drawn by Pillow in the test."""

from __future__ import annotations

import io
import json
import uuid

import alibabacloud_oss_v2 as oss
import oss2
import pytest
import requests
from PIL import Image


def picture(fmt: str = "PNG", size: tuple[int, int] = (400, 300), mode: str = "RGB") -> bytes:
    """A two-colour image: red left half, blue right half (so crops and rotations show)."""
    image = Image.new(mode, size, "red")
    image.paste(Image.new(mode, (size[0] // 2, size[1]), "blue"), (size[0] // 2, 0))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def opened(body: bytes) -> Image.Image:
    return Image.open(io.BytesIO(body))


def test_oss2_thumbnail_of_an_upload(oss2_bucket):
    oss2_bucket.put_object("photo.png", picture())
    got = oss2_bucket.get_object("photo.png", process="image/resize,w_100")
    assert got.headers["Content-Type"] == "image/png"
    assert opened(got.read()).size == (100, 75)


def test_oss2_chain_resize_crop_rotate_format_quality(oss2_bucket):
    oss2_bucket.put_object("photo.png", picture())
    spec = (
        "image/resize,m_fixed,w_200,h_100/crop,w_100,h_100,g_east/rotate,90/format,jpg/quality,Q_50"
    )
    got = oss2_bucket.get_object("photo.png", process=spec)
    assert got.headers["Content-Type"] == "image/jpeg"
    image = opened(got.read())
    assert image.format == "JPEG" and image.size == (100, 100)
    red, green, blue = image.convert("RGB").getpixel((50, 50))
    assert blue > 200 and red < 60  # g_east kept the blue half


def test_oss2_image_info_json(oss2_bucket):
    body = picture("JPEG", (640, 480))
    oss2_bucket.put_object("photo.jpg", body)
    got = oss2_bucket.get_object("photo.jpg", process="image/info")
    assert got.headers["Content-Type"] == "application/json"
    assert json.loads(got.read()) == {
        "FileSize": {"value": str(len(body))},
        "Format": {"value": "jpg"},
        "ImageHeight": {"value": "480"},
        "ImageWidth": {"value": "640"},
    }


def test_oss2_presigned_url_with_process(oss2_bucket):
    oss2_bucket.put_object("photo.png", picture())
    url = oss2_bucket.sign_url(
        "GET", "photo.png", 600, params={"x-oss-process": "image/resize,h_30"}
    )
    got = requests.get(url)
    assert got.status_code == 200, got.text
    assert opened(got.content).size == (40, 30)
    tampered = url.replace("h_30", "h_60")
    assert requests.get(tampered).status_code == 403  # the process is signed


def test_oss2_bad_parameter_is_invalid_argument(oss2_bucket):
    oss2_bucket.put_object("photo.png", picture())
    with pytest.raises(oss2.exceptions.ServerError) as e:
        oss2_bucket.get_object("photo.png", process="image/quality,q_abc")
    assert e.value.status == 400 and e.value.code == "InvalidArgument"
    assert e.value.message == "The value: abc of parameter: q is invalid.reason:Value must be digit"


def test_v2_get_object_request_process(oss_emulator):
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
        oss_emulator.access_key_id, oss_emulator.access_key_secret
    )
    cfg.region, cfg.endpoint = "cn-hangzhou", oss_emulator.url
    client = oss.Client(cfg)
    name = f"img-v2-{uuid.uuid4().hex[:10]}"
    client.put_bucket(oss.PutBucketRequest(bucket=name))
    try:
        client.put_object(oss.PutObjectRequest(bucket=name, key="a.gif", body=picture("GIF")))
        got = client.get_object(
            oss.GetObjectRequest(
                bucket=name, key="a.gif", process="image/resize,m_pad,w_100,h_100/format,webp"
            )
        )
        assert got.content_type == "image/webp"
        image = opened(got.body.read())
        assert image.format == "WEBP" and image.size == (100, 100)
        assert min(image.convert("RGB").getpixel((50, 2))) > 245  # the white pad (lossy webp)
        signed = client.presign(
            oss.GetObjectRequest(bucket=name, key="a.gif", process="image/resize,w_10")
        )
        got = requests.get(signed.url)
        assert got.status_code == 200, got.text
        assert opened(got.content).size == (10, 8)
    finally:
        oss_emulator.services.storage.drop_bucket(name)


@pytest.mark.parametrize(
    ("spec", "size"),
    [
        ("image/resize,w_100,h_100", (100, 75)),  # lfit: inside the box
        ("image/resize,m_mfit,w_100,h_100", (133, 100)),  # mfit: covers the box
        ("image/resize,m_fill,w_100,h_100", (100, 100)),
        ("image/resize,m_pad,w_100,h_50", (100, 50)),
        ("image/resize,m_fixed,w_50,h_50", (50, 50)),
        ("image/resize,l_200", (200, 150)),
        ("image/resize,s_150", (200, 150)),
        ("image/resize,p_50", (200, 150)),
        ("image/resize,w_800", (400, 300)),  # limit_1 (default): never enlarged
        ("image/resize,w_800,limit_0", (800, 600)),
        ("image/crop,w_100,h_50,x_10,y_10", (100, 50)),
        ("image/crop,w_1000,h_1000,x_300,y_200", (100, 100)),  # clipped to the image
        ("image/rotate,90", (300, 400)),
        ("image/auto-orient,1/format,bmp", (400, 300)),
    ],
)
def test_raw_get_process_dimensions(oss_emulator, oss_bucket, spec, size):
    oss_bucket.put_object("p.png", picture())
    url = oss_bucket.sign_url("GET", "p.png", expires=60, params={"x-oss-process": spec})
    got = requests.get(url)
    assert got.status_code == 200, got.text
    assert opened(got.content).size == size


@pytest.mark.parametrize(
    ("spec", "status", "code"),
    [
        ("image/resize,w_0", 400, "InvalidArgument"),
        ("image/resize,w_20000", 400, "InvalidArgument"),
        ("image/resize,m_stretch,w_10", 400, "InvalidArgument"),
        ("image/resize,m_fixed,w_5000,h_5000,limit_0", 400, "ImageTooLarge"),
        ("image/resize,limit_1", 400, "MissingArgument"),
        ("image/crop,x_500", 400, "InvalidArgument"),
        ("image/rotate,361", 400, "InvalidArgument"),
        ("image/format,xyz", 400, "InvalidArgument"),
        ("image/quality,q_0", 400, "InvalidArgument"),
        ("image/frobnicate,1", 400, "InvalidArgument"),
        ("image/watermark,text_aGk", 501, "NotImplemented"),
        ("video/snapshot,t_0", 501, "NotImplemented"),
    ],
)
def test_raw_bad_process_parameters(oss_emulator, oss_bucket, spec, status, code):
    oss_bucket.put_object("p.png", picture())
    url = oss_bucket.sign_url("GET", "p.png", expires=60, params={"x-oss-process": spec})
    got = requests.get(url)
    assert (got.status_code, f"<Code>{code}</Code>" in got.text) == (status, True), got.text


def test_non_image_object_is_bad_request(oss_bucket):
    oss_bucket.put_object("notes.txt", b"not a picture at all")
    url = oss_bucket.sign_url(
        "GET", "notes.txt", expires=60, params={"x-oss-process": "image/info"}
    )
    got = requests.get(url)
    assert got.status_code == 400 and "<Code>BadRequest</Code>" in got.text


def test_source_over_20_mb_refused_unread(oss_bucket):
    oss_bucket.put_object("big.bin", b"\0" * (20 * 1024 * 1024 + 1))
    url = oss_bucket.sign_url("GET", "big.bin", expires=60, params={"x-oss-process": "image/info"})
    got = requests.get(url)
    assert got.status_code == 400 and "<Code>ImageTooLarge</Code>" in got.text


def test_source_over_30000_pixels_a_side_refused(oss_bucket):
    oss_bucket.put_object("wide.png", picture(size=(30001, 1), mode="L"))
    url = oss_bucket.sign_url("GET", "wide.png", expires=60, params={"x-oss-process": "image/info"})
    got = requests.get(url)
    assert got.status_code == 400 and "<Code>ImageTooLarge</Code>" in got.text


def test_missing_object_with_process_is_no_such_key(oss_bucket):
    url = oss_bucket.sign_url("GET", "nope.png", expires=60, params={"x-oss-process": "image/info"})
    assert requests.get(url).status_code == 404
