"""The fixtures as a user's own project meets them, run through pytester in a subprocess."""

from __future__ import annotations

import pytest

from tests.support import INNER_PYTEST

SNIPPET = """
from ossemu.client import Callback

def test_upload_notifies_app(oss_bucket, callback_receiver):
    cb = Callback(url=callback_receiver.url, body="object=${object}&size=${size}")
    oss_bucket.put_object("a.txt", b"hello", callback=cb)
    (got,) = callback_receiver.wait_for(1)
    assert got.form == {"object": "a.txt", "size": "5"}
"""


@pytest.fixture
def run(pytester: pytest.Pytester):
    def run(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess(*INNER_PYTEST, *args)

    return run


def test_the_issue_snippet_just_works(pytester, run):
    pytester.makepyfile(SNIPPET)
    run().assert_outcomes(passed=1)


def test_safe_under_xdist(pytester, run):
    tests = "\n".join(
        f"def test_{i}(oss_bucket, oss_emulator):\n"
        f"    oss_bucket.put_object('k', b'{i}')\n"
        f"    assert oss_bucket.get_object('k') == b'{i}'\n"
        for i in range(6)
    )
    pytester.makepyfile(tests)
    run("-n", "2").assert_outcomes(passed=6)


def test_each_test_gets_a_fresh_bucket_and_receiver(pytester, run):
    pytester.makepyfile("""
        seen = []

        def test_one(oss_bucket, callback_receiver):
            seen.append((oss_bucket.name, callback_receiver.url))
            oss_bucket.put_object("left-over", b"x")

        def test_two(oss_bucket, callback_receiver):
            assert (oss_bucket.name, callback_receiver.url) != seen[0]
            assert list(oss_bucket.list_objects()) == []
            assert callback_receiver.log == []
    """)
    run().assert_outcomes(passed=2)


def test_a_clock_moved_in_one_test_is_back_in_the_next(pytester, run):
    pytester.makepyfile("""
        import time

        def test_moves(oss_emulator):
            oss_emulator.advance_clock(86400)
            assert oss_emulator.now() > time.time() + 86000

        def test_sees_wall_time(oss_emulator):
            assert abs(oss_emulator.now() - time.time()) < 60
    """)
    run().assert_outcomes(passed=2)


def test_config_fixtures_can_be_overridden(pytester, run):
    pytester.makeconftest("""
        import pytest

        @pytest.fixture(scope="session")
        def oss_credentials():
            return "my-id", "my-secret"

        @pytest.fixture(scope="session")
        def oss_emulator_auth():
            return False
    """)
    pytester.makepyfile("""
        import requests

        def test_lenient_emulator_with_my_credentials(oss_emulator):
            assert (oss_emulator.access_key_id, oss_emulator.access_key_secret) == (
                "my-id", "my-secret")
            assert requests.put(oss_emulator.url + "/unsigned-bucket").status_code == 200
    """)
    run().assert_outcomes(passed=1)


def test_assert_received_lists_near_misses(pytester, run):
    pytester.makepyfile("""
        from ossemu.client import Callback

        def test_wrong_expectation(oss_bucket, callback_receiver):
            cb = Callback(url=callback_receiver.url, body="object=${object}")
            oss_bucket.put_object("real.txt", b"x", callback=cb)
            callback_receiver.wait_for(1)
            callback_receiver.assert_received(object="other.txt")
    """)
    result = run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*real.txt*"])


def test_an_emulator_crash_fails_the_test_that_caused_it(pytester, run):
    pytester.makepyfile("""
        import pytest
        from ossemu.client import ServerError

        def test_triggers_a_500(oss_emulator, oss_bucket, monkeypatch):
            def broken(*args, **kwargs):
                raise RuntimeError("storage exploded")

            monkeypatch.setattr(oss_emulator.services.storage, "head_object", broken)
            with pytest.raises(ServerError):  # the client sees InternalError...
                oss_bucket.head_object("k")   # ...and the test errors with the real cause

        def test_next_one_is_clean(oss_emulator):
            assert True
    """)
    result = run()
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*RuntimeError: storage exploded*"])


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('\'{"from": "str"}\'', b'{"from": "str"}'),
        ('{"from": "dict", "n": 1}', b'{"from": "dict", "n": 1}'),
        ('b\'{"from": "bytes"}\'', b'{"from": "bytes"}'),
    ],
    ids=["str", "dict", "bytes"],
)
def test_respond_with_body_takes_str_dict_or_bytes(pytester, run, body, expected):
    pytester.makepyfile(f"""
        from ossemu.client import Callback

        def test_app_answer_reaches_the_uploader(oss_bucket, callback_receiver):
            callback_receiver.respond_with(body={body})
            result = oss_bucket.put_object(
                "a.txt", b"x", callback=Callback(url=callback_receiver.url)
            )
            callback_receiver.wait_for(1)
            assert result.callback_body == {expected!r}
    """)
    run().assert_outcomes(passed=1)


def test_a_late_callback_never_shows_in_the_next_test(pytester, run):
    pytester.makepyfile("""
        import threading
        import pytest
        from ossemu.client import Callback, CallbackError

        late = {}

        def upload_late(bucket):
            with pytest.raises(CallbackError):  # its answer is cut short when test A ends
                bucket.put_object("late", b"x", callback=Callback(url=late["url"]))

        def test_a_leaves_a_callback_in_flight(oss_bucket, callback_receiver):
            late["url"] = callback_receiver.url
            callback_receiver.respond_with(delay=0.3)
            thread = threading.Thread(target=upload_late, args=(oss_bucket,))
            thread.start()
            callback_receiver.wait_for(1)
            late["thread"] = thread

        def test_b_sees_only_its_own(oss_bucket, callback_receiver, oss_emulator):
            oss_bucket.put_object("mine", b"y", callback=Callback(url=callback_receiver.url))
            with pytest.raises(CallbackError, match="404"):
                oss_bucket.put_object("stray", b"z", callback=Callback(url=late["url"]))
            late["thread"].join(5)
            (got,) = callback_receiver.wait_for(1)
            assert callback_receiver.log == [got] and got.form["object"] == "mine"
            stray = oss_emulator.callbacks(key="stray")[0]
            assert stray["outcome"] != "ok"
    """)
    run().assert_outcomes(passed=2)


def test_a_receiver_error_fails_the_test_that_caused_it(pytester, run):
    pytester.makepyfile("""
        def test_bad_answer(callback_receiver):
            callback_receiver._inbox.record_error(RuntimeError("receiver broke"))

        def test_next_one_is_clean(callback_receiver):
            callback_receiver.check()
    """)
    result = run()
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*RuntimeError: receiver broke*"])


def test_overriding_a_config_fixture_after_the_emulator_started_is_an_error(pytester, run):
    pytester.makepyfile(test_a_root="def test_root(oss_emulator):\n    pass\n")
    sub = pytester.mkpydir("z_sub")  # collected after test_a_root.py, which starts the emulator
    (sub / "conftest.py").write_text(
        "import pytest\n\n"
        "@pytest.fixture(scope='session')\n"
        "def oss_credentials():\n"
        "    return 'other-id', 'other-secret'\n"
    )
    (sub / "test_sub.py").write_text("def test_sub(oss_emulator):\n    pass\n")
    result = run()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*oss_credentials for z_sub/test_sub.py::test_sub comes from z_sub, but the session "
            "emulator was started by test_a_root.py::test_root with the one from a plugin*"
        ]
    )
