"""XML bodies and user metadata stay within OSS's limits however they are sent (issue 15).

A 1 GiB DeleteMultipleObjects or CompleteMultipartUpload body, declared or chunked, is refused
with ``MalformedXML`` while it streams: the sender manages to push only the limit plus the
kernel's socket buffers, and the server's memory does not grow with the body. User metadata past
OSS's 8 KB gets OSS's error and is not stored.
"""

from __future__ import annotations

import contextlib
import socket
import threading

import pytest

from tests.reliability.helpers import BUCKET, signed_headers
from tests.support import RawResponse, parse_response, target, wire

MIB = 1024 * 1024
GIB = 1024 * MIB


def _stream(port: int, head: bytes, piece: bytes, frame: bool, limit: int) -> tuple[int, bytes]:
    """Send ``head``, then ``piece`` again and again (on a thread) until the server answers or
    hangs up; return the body bytes sent and the answer."""
    sent = [0]
    s = socket.create_connection(("127.0.0.1", port), timeout=30)

    def send() -> None:
        data = b"%x\r\n%s\r\n" % (len(piece), piece) if frame else piece
        try:
            s.sendall(head)
            while sent[0] < limit:
                s.sendall(data)
                sent[0] += len(piece)
        except OSError:
            pass

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    answer = b""
    try:
        while chunk := s.recv(65536):
            answer += chunk
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)
        sender.join(30)
        s.close()
    return sent[0], answer


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("operation", ["DeleteMultipleObjects", "CompleteMultipartUpload"])
def test_a_1_gib_xml_body_is_refused_while_it_streams(server, operation, chunked):
    if operation == "DeleteMultipleObjects":
        key, params = None, [("delete", "")]
        opening, piece = b"<Delete>", b"<Object><Key>k</Key></Object>" * 2000
    else:
        key = "xml-huge"
        params = [("uploadId", server.upload_id(key))]
        opening, piece = b"<CompleteMultipartUpload>", b"<Part><PartNumber>1</PartNumber>" * 1500
    headers = signed_headers("POST", BUCKET, key, params, {"Host": f"127.0.0.1:{server.port}"})
    headers["Transfer-Encoding" if chunked else "Content-Length"] = (
        "chunked" if chunked else str(GIB)
    )
    head = f"POST {target(BUCKET, key, params)} HTTP/1.1\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    first = (b"%x\r\n%s\r\n" % (len(opening), opening)) if chunked else opening
    sent, answer = _stream(server.port, wire(head) + first, piece, chunked, GIB)
    assert sent < 64 * MIB, f"the server read {sent} bytes before refusing"
    response: RawResponse = parse_response(answer)
    assert (response.status, response.code) == (400, "MalformedXML")


def test_user_metadata_over_8_kb_is_refused_as_oss_does(server):
    headers = {f"x-oss-meta-m{n}": "v" * 1000 for n in range(9)}
    response = server.request("PUT", BUCKET, "fat-meta", headers=headers, body=b"x")
    assert (response.status, response.code) == (400, "InvalidArgument")
    assert b"<EC>0011-00000002</EC>" in response.body
    assert b"exceed the maximum allowed metadata size" in response.body
    assert server.request("GET", BUCKET, "fat-meta").status == 404
    init = server.request("POST", BUCKET, "fat-meta", params=[("uploads", "")], headers=headers)
    assert (init.status, init.code) == (400, "InvalidArgument")


def test_user_metadata_just_under_8_kb_is_stored_and_read_back(server):
    headers = {f"x-oss-meta-m{n}": "v" * 1000 for n in range(8)}  # 8 x 1,013 bytes
    assert server.request("PUT", BUCKET, "meta-8k", headers=headers, body=b"x").status == 200
    back = server.request("GET", BUCKET, "meta-8k")
    assert back.status == 200
    assert all(back.headers[name] == value for name, value in headers.items())
