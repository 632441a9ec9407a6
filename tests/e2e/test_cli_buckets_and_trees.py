"""`ossemu` on whole buckets and folders: ls oss://, put -r, rm -r then rb; truthful messages."""

from __future__ import annotations

import uuid


def fresh_name() -> str:
    return f"cli-tree-{uuid.uuid4().hex[:10]}"


def test_ls_of_oss_root_lists_my_buckets(ossemu, oss_bucket):
    for root in ("oss://", "oss:///"):
        code, out, err = ossemu("ls", root)
        assert (code, err) == (0, "")
        assert f"  oss://{oss_bucket.name}\n" in out
    assert ossemu("ls", "oss://")[1] == ossemu("ls")[1]


def test_put_r_uploads_a_folder_tree_with_slash_keys(ossemu, oss_bucket, tmp_path):
    site = tmp_path / "site"
    (site / "css" / "deep").mkdir(parents=True)
    (site / "index.html").write_text("<h1>hi</h1>")
    (site / "css" / "a.css").write_text("a{}")
    (site / "css" / "deep" / "b.css").write_text("b{}")
    code, out, err = ossemu("put", "-r", str(site), f"oss://{oss_bucket.name}/web")
    assert (code, err) == (0, "")
    keys = sorted(o.key for o in oss_bucket.list_objects())
    assert keys == ["web/css/a.css", "web/css/deep/b.css", "web/index.html"]
    assert oss_bucket.get_object("web/css/deep/b.css") == b"b{}"
    assert oss_bucket.head_object("web/index.html").content_type == "text/html"
    lines = out.splitlines()
    assert lines[0].startswith(f"oss://{oss_bucket.name}/web/css/a.css  etag ")
    assert lines[-1] == f"uploaded 3 files from {site} to {oss_bucket.name}"


def test_put_without_r_of_a_folder_says_to_use_r(ossemu, oss_bucket, tmp_path):
    code, out, err = ossemu("put", str(tmp_path), f"oss://{oss_bucket.name}/x/")
    assert (code, out) == (2, "")
    assert err == f"ossemu: error: no such file: {tmp_path} (a folder: use put -r)\n"


def test_rm_r_empties_a_bucket_so_rb_deletes_it(ossemu, oss_client):
    name = fresh_name()
    bucket = oss_client.create_bucket(name)
    for key in ("a", "dir/b", "dir/sub/c", "other/d"):
        bucket.put_object(key, b"x")
    upload_id = bucket.init_multipart_upload("dir/unfinished")

    code, _, err = ossemu("rb", f"oss://{name}")
    assert code == 2
    assert err == (
        f"ossemu: error: oss://{name} is not empty: `ossemu rm -r oss://{name}/` deletes its "
        "objects and unfinished uploads\n"
    )

    code, out, err = ossemu("rm", "-r", f"oss://{name}/dir")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"aborted upload {upload_id} of oss://{name}/dir/unfinished",
        f"deleted 2 objects under oss://{name}/dir",
    ]
    assert sorted(o.key for o in bucket.list_objects()) == ["a", "other/d"]

    assert ossemu("rm", "--recursive", f"oss://{name}/") == (
        0,
        f"deleted 2 objects under oss://{name}/\n",
        "",
    )
    assert ossemu("rm", "-r", f"oss://{name}/") == (
        0,
        f"no objects under oss://{name}/: nothing deleted\n",
        "",
    )
    assert ossemu("rb", f"oss://{name}") == (0, f"deleted oss://{name}\n", "")


def test_rm_r_of_a_key_is_that_key_and_its_folder_not_its_siblings(ossemu, oss_bucket):
    for key in ("logs", "logs/1", "logs2"):
        oss_bucket.put_object(key, b"x")
    code, out, _ = ossemu("rm", "-r", f"oss://{oss_bucket.name}/logs")
    assert (code, out) == (0, f"deleted 2 objects under oss://{oss_bucket.name}/logs\n")
    assert [o.key for o in oss_bucket.list_objects()] == ["logs2"]


def test_mb_of_a_bucket_i_own_says_so_and_succeeds(ossemu, oss_bucket):
    code, out, err = ossemu("mb", f"oss://{oss_bucket.name}")
    assert (code, err) == (0, "")
    assert out == f"oss://{oss_bucket.name} already exists and is yours: nothing changed\n"


def test_mb_of_an_object_path_is_a_usage_error_that_says_why(ossemu, oss_client):
    name = fresh_name()
    code, out, err = ossemu("mb", f"oss://{name}/photos")
    assert (code, out) == (2, "")
    assert err == (
        f"ossemu: error: mb creates buckets, and 'oss://{name}/photos' names a path inside one "
        f"(key 'photos'): use oss://{name}; OSS has no folders to create\n"
    )
    assert name not in [b.name for b in oss_client.list_buckets()]


def test_rm_of_a_missing_key_says_no_such_object_and_exits_2(ossemu, oss_bucket):
    oss_bucket.put_object("here", b"x")
    oss_bucket.put_object("folder/inside", b"x")
    base = f"oss://{oss_bucket.name}"
    code, out, err = ossemu("rm", f"{base}/nothing", f"{base}/here", f"{base}/folder")
    assert code == 2
    assert out == f"deleted {base}/here\n"
    assert err.splitlines() == [
        f"ossemu: no such object: {base}/nothing (nothing deleted)",
        f"ossemu: no such object: {base}/folder (nothing deleted: it is a folder, use rm -r)",
    ]
    assert [o.key for o in oss_bucket.list_objects()] == ["folder/inside"]
