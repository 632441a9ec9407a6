"""Canned ACLs as pure values: the effective ACL and what it opens to anonymous callers."""

from __future__ import annotations

import pytest

from ossemu.emulator.protocol import acl
from ossemu.emulator.protocol.errors import OssError


@pytest.mark.parametrize(
    ("bucket", "obj", "effective"),
    [
        ("private", "default", "private"),
        ("public-read", "default", "public-read"),
        ("public-read-write", "private", "private"),
        ("private", "public-read-write", "public-read-write"),
    ],
)
def test_the_object_acl_decides_unless_it_is_default(bucket, obj, effective):
    assert acl.effective(bucket, obj) == effective


def test_anonymous_operations_by_kind():
    acl.check_anonymous("GetObject", "public-read")
    acl.check_anonymous("ListObjects", "public-read")
    acl.check_anonymous("PostObject", "public-read-write")
    acl.check_anonymous("InitiateMultipartUpload", "public-read-write")
    for operation, bucket, message in [
        ("PutObject", "public-read", acl.OBJECT_DENIED),
        ("GetObject", "private", acl.OBJECT_DENIED),
        ("PutBucketAcl", "public-read-write", acl.OPERATION_DENIED),
        ("GetBucketCors", "public-read-write", acl.OPERATION_DENIED),
        ("ListBuckets", "public-read-write", acl.OPERATION_DENIED),
    ]:
        with pytest.raises(OssError) as denied:
            acl.check_anonymous(operation, bucket)
        assert (denied.value.status, denied.value.code, denied.value.message) == (
            403,
            "AccessDenied",
            message,
        )


def test_acl_values_are_checked_and_rendered():
    assert acl.bucket_acl("public-read") == "public-read"
    with pytest.raises(OssError) as bad:
        acl.bucket_acl("default")  # only objects may defer
    assert bad.value.details == {"ArgumentName": "x-oss-acl", "ArgumentValue": "default"}
    assert acl.object_acl("default") == "default"
    xml = acl.policy_xml("public-read", [("ID", "o"), ("DisplayName", "o")])
    assert b"<AccessControlList><Grant>public-read</Grant></AccessControlList>" in xml
