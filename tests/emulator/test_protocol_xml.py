"""XML in and out: keys with control characters survive both directions."""

from __future__ import annotations

import pytest

from ossemu.emulator.protocol.errors import OssError
from ossemu.emulator.protocol.xml import parse_delete_keys, render


def delete_body(*keys: bytes) -> bytes:
    objects = b"".join(b"<Object><Key>" + k + b"</Key></Object>" for k in keys)
    return b'<?xml version="1.0" encoding="UTF-8"?>\r\n<Delete>' + objects + b"</Delete>"


@pytest.mark.parametrize(
    "sent,key",
    [
        (b"a\x01b", "a\x01b"),  # raw, as oss2's ElementTree writes it
        (b"a&#01;b", "a\x01b"),  # v2's reference, which XML 1.0 forbids
        (b"a&#x1F;&#12;b", "a\x1f\x0cb"),
        (b"cr&#13;&#10;lf", "cr\r\nlf"),  # valid XML: kept as it is
        (b"tab\tand&#x9;", "tab\tand\t"),
        (b"&#xF0000;", "\U000f0000"),  # a stand-in character itself, alone, is just a key
    ],
)
def test_delete_keys_with_control_characters_are_read_back_exactly(sent, key):
    assert parse_delete_keys(delete_body(sent, b"plain")) == ([key, "plain"], False)


def test_a_body_mixing_stand_ins_and_controls_is_malformed_not_misread():
    with pytest.raises(OssError) as e:
        parse_delete_keys(delete_body(b"a\x01", "\U000f0001".encode()))
    assert e.value.code == "MalformedXML"


def test_rendered_keys_use_references_for_controls_and_keep_tab_and_lf():
    out = render("ListBucketResult", [("Key", "a\x01\r\n\tb&<")])
    assert b"<Key>a&#x1;&#xD;\n\tb&amp;&lt;</Key>" in out
