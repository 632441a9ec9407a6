"""protocol.lifecycle without HTTP: rules read and written back, and when they fall due."""

from __future__ import annotations

import pytest

from ossemu.emulator.protocol.errors import OssError
from ossemu.emulator.protocol.lifecycle import DAY, When, parse_lifecycle, to_xml

BODY = (
    b"<LifecycleConfiguration>"
    b"<Rule><ID>a</ID><Prefix>logs/</Prefix><Status>Enabled</Status>"
    b"<Expiration><Days>3</Days></Expiration>"
    b"<Transition><Days>1</Days><StorageClass>IA</StorageClass></Transition></Rule>"
    b"<Rule><Filter><Prefix>tmp/</Prefix></Filter><Status>Disabled</Status>"
    b"<AbortMultipartUpload><CreatedBeforeDate>2024-01-01T00:00:00.000Z</CreatedBeforeDate>"
    b"</AbortMultipartUpload></Rule>"
    b"</LifecycleConfiguration>"
)


def test_rules_round_trip_with_generated_ids():
    rules = parse_lifecycle(BODY)
    assert [(r.id, r.prefix, r.enabled) for r in rules] == [
        ("a", "logs/", True),
        ("rule2", "tmp/", False),
    ]
    assert parse_lifecycle(to_xml(rules)) == rules
    assert b"<CreatedBeforeDate>2024-01-01T00:00:00.000Z</CreatedBeforeDate>" in to_xml(rules)


def test_days_and_dates_fall_due():
    assert When(days=3).cutoff(10 * DAY) == 7 * DAY
    assert When(date=1704067200.0, tag="Date").cutoff(0) == 1704067200.0


@pytest.mark.parametrize(
    "body",
    [
        BODY.replace(b"<ID>a</ID>", b"<ID>rule2</ID>"),  # duplicate IDs once generated
        BODY.replace(b"<StorageClass>IA", b"<StorageClass>Glacier"),
        BODY.replace(b"<Days>3</Days>", b"<Days>3</Days><Date>2024-01-01T00:00:00.000Z</Date>"),
    ],
)
def test_bad_rules_refused(body):
    with pytest.raises(OssError) as e:
        parse_lifecycle(body)
    assert e.value.code in ("InvalidArgument", "MalformedXML")
