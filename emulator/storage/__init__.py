"""Bytes and metadata on disk: no HTTP, no Flask. May import only ``emulator.protocol.errors``.

The layout and the commit order are drawn in :mod:`emulator.storage.store`.
"""

from .hashing import crc64, crc64_combine
from .models import BucketInfo, ListPage, ObjectMeta, PartMeta, PartPage, Upload, UploadPage
from .multipart import MAX_PART_NUMBER, MIN_PART_SIZE, check_part_number
from .names import check_bucket_name, check_object_key
from .store import Storage

__all__ = [
    "MAX_PART_NUMBER",
    "MIN_PART_SIZE",
    "BucketInfo",
    "ListPage",
    "ObjectMeta",
    "PartMeta",
    "PartPage",
    "Storage",
    "Upload",
    "UploadPage",
    "check_bucket_name",
    "check_object_key",
    "check_part_number",
    "crc64",
    "crc64_combine",
]
