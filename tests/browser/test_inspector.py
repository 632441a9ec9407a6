"""The inspector page in headless Chromium: after uploads with callbacks (one accepted, one
answered 500 so its upload got 203), a user finds the objects and both deliveries, replays the
failed one once the app is fixed, aborts an upload and deletes an object, all from the page."""

from __future__ import annotations

import pytest
import requests
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from ossemu.client import Callback, CallbackError


def wait(browser, until, timeout: float = 30):
    """``until``, retried while the page's live refresh replaces what it looked at."""
    ignored = (StaleElementReferenceException,)
    return WebDriverWait(browser, timeout, ignored_exceptions=ignored).until(until)


def open_page(browser, url: str) -> None:
    """Load ``url`` afresh: going from one ``#/...`` of the page to another keeps the document
    (and its journal filter), which another test may have left behind."""
    browser.get("about:blank")
    browser.get(url)


def accept_confirm(browser) -> None:
    wait(browser, expected_conditions.alert_is_present())
    browser.switch_to.alert.accept()


def entries(browser, bucket: str) -> list:
    """The journal entries shown for ``bucket`` (the session's journal holds other tests' too)."""
    shown = browser.find_elements(By.CSS_SELECTOR, "details.entry")
    return [e for e in shown if e.find_element(By.CSS_SELECTOR, ".where").text.startswith(bucket)]


def test_inspector_shows_uploads_and_callbacks_and_replays_a_203(
    browser, oss_emulator, oss_bucket, callback_receiver
):
    oss_bucket.put_object("ok.txt", b"fine", callback=Callback(url=callback_receiver.url))
    callback_receiver.respond_with(status=500, body=b'{"error":"down"}')
    with pytest.raises(CallbackError):
        oss_bucket.put_object("bad.txt", b"oops", callback=Callback(url=callback_receiver.url))
    upload_id = oss_bucket.init_multipart_upload("big.bin")
    oss_bucket.upload_part("big.bin", upload_id, 1, b"p" * 1000)

    open_page(browser, oss_emulator.url + "/_ossemu/")
    wait(browser, lambda b: b.find_elements(By.LINK_TEXT, oss_bucket.name))[0].click()
    rows = wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "tr.object"))
    assert [row.get_attribute("data-key") for row in rows] == ["bad.txt", "ok.txt"]
    upload = wait(browser, lambda b: b.find_element(By.CSS_SELECTOR, "tr.upload"))
    assert upload_id in upload.text and "#1 1000 B" in upload.text

    browser.find_element(By.ID, "tab-journal").click()
    shown = wait(
        browser, lambda b: len(entries(b, oss_bucket.name)) == 2 and entries(b, oss_bucket.name)
    )
    failed, ok = shown
    assert "failed" in failed.get_attribute("class").split()
    assert failed.find_element(By.CSS_SELECTOR, ".badge").text == "203 failed"
    assert "bad.txt" in failed.find_element(By.CSS_SELECTOR, ".where").text
    assert "app: 500" in failed.text
    assert ok.find_element(By.CSS_SELECTOR, ".badge").text == "200 ok"
    assert "ok.txt" in ok.find_element(By.CSS_SELECTOR, ".where").text

    failed_id = failed.get_attribute("data-id")
    failed.find_element(By.TAG_NAME, "summary").click()
    assert failed.find_element(By.CSS_SELECTOR, ".signature").text == "signature verifies"
    assert '{"error":"down"}' in failed.text  # the app's answer, as it came
    callback_receiver.respond_with(status=200)
    failed.find_element(By.CSS_SELECTOR, "button.replay").click()
    newest = wait(
        browser,
        lambda b: (
            len(entries(b, oss_bucket.name)) == 3
            and entries(b, oss_bucket.name)[0].get_attribute("data-id")
        ),
    )
    assert int(newest) > int(failed_id)
    replayed = entries(browser, oss_bucket.name)[0]
    assert replayed.find_element(By.CSS_SELECTOR, ".badge").text == "200 ok"
    assert f"replay of #{failed_id}" in replayed.text
    assert callback_receiver.wait_for(3)[-1].verified

    browser.get(f"{oss_emulator.url}/_ossemu/#/bucket/{oss_bucket.name}/")
    wait(browser, lambda b: b.find_element(By.CSS_SELECTOR, "tr.upload button.abort")).click()
    accept_confirm(browser)
    wait(browser, lambda b: not b.find_elements(By.CSS_SELECTOR, "tr.upload"))
    uploads = requests.get(f"{oss_emulator.url}/_ossemu/buckets/{oss_bucket.name}/uploads")
    assert uploads.json()["uploads"] == []

    row = browser.find_element(By.CSS_SELECTOR, "tr.object[data-key='ok.txt']")
    row.find_element(By.CSS_SELECTOR, "button.delete").click()
    accept_confirm(browser)
    wait(browser, lambda b: not b.find_elements(By.CSS_SELECTOR, "tr.object[data-key='ok.txt']"))
    assert not oss_bucket.object_exists("ok.txt") and oss_bucket.object_exists("bad.txt")


def test_inspector_journal_updates_live_and_filters_by_outcome(
    browser, oss_emulator, oss_bucket, callback_receiver
):
    oss_bucket.put_object("first.txt", b"1", callback=Callback(url=callback_receiver.url))
    open_page(browser, oss_emulator.url + "/_ossemu/#/journal")
    wait(browser, lambda b: len(entries(b, oss_bucket.name)) == 1)

    callback_receiver.respond_with(status=500)
    with pytest.raises(CallbackError):
        oss_bucket.put_object("second.txt", b"2", callback=Callback(url=callback_receiver.url))
    # No reload: the page polls and the new delivery appears on top.
    wait(
        browser,
        lambda b: (
            len(entries(b, oss_bucket.name)) == 2
            and "second.txt" in entries(b, oss_bucket.name)[0].text
        ),
    )

    browser.find_element(By.CSS_SELECTOR, "#filter input[name=bucket]").send_keys(oss_bucket.name)
    browser.find_element(
        By.CSS_SELECTOR, "#filter select[name=outcome] option[value=failed]"
    ).click()
    browser.find_element(By.CSS_SELECTOR, "#filter button").click()
    wait(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, "details.entry")) == 1)
    [only] = entries(browser, oss_bucket.name)
    assert "second.txt" in only.text and "failed" in only.get_attribute("class").split()


def test_inspector_adds_and_clears_fault_rules(browser, oss_emulator, oss_bucket):
    open_page(browser, oss_emulator.url + "/_ossemu/#/faults")
    form = wait(browser, lambda b: b.find_element(By.ID, "add-fault"))
    form.find_element(By.NAME, "operation").send_keys("PutObject")
    form.find_element(By.NAME, "bucket").send_keys(oss_bucket.name)
    times = form.find_element(By.NAME, "times")
    times.clear()
    times.send_keys("2")
    status = form.find_element(By.NAME, "status")
    status.clear()
    status.send_keys("503")
    form.find_element(By.TAG_NAME, "button").click()
    row = wait(browser, lambda b: b.find_element(By.CSS_SELECTOR, "tr.fault"))
    assert "PutObject" in row.text and "503 InternalError" in row.text
    [rule] = oss_emulator.services.faults.list()
    assert (rule["operation"], rule["bucket"], rule["times"], rule["status"]) == (
        "PutObject",
        oss_bucket.name,
        2,
        503,
    )

    browser.find_element(By.ID, "clear-faults").click()
    wait(browser, lambda b: not b.find_elements(By.CSS_SELECTOR, "tr.fault"))
    assert oss_emulator.services.faults.list() == []


def test_inspector_triggers_a_callback_for_a_stored_object(
    browser, oss_emulator, oss_bucket, callback_receiver
):
    oss_bucket.put_object("photo.jpg", b"jpeg bytes")
    open_page(browser, f"{oss_emulator.url}/_ossemu/#/bucket/{oss_bucket.name}/")
    row = wait(
        browser, lambda b: b.find_element(By.CSS_SELECTOR, "tr.object[data-key='photo.jpg']")
    )
    row.find_element(By.CSS_SELECTOR, "button.use").click()
    form = browser.find_element(By.ID, "trigger")
    assert form.find_element(By.NAME, "key").get_attribute("value") == "photo.jpg"
    form.find_element(By.NAME, "url").send_keys(callback_receiver.url)
    body = form.find_element(By.NAME, "body")
    body.clear()
    body.send_keys("object=${object}&size=${size}&uid=${x:uid}")
    form.find_element(By.NAME, "vars").send_keys("x:uid=42")
    form.find_element(By.TAG_NAME, "button").click()
    status = wait(browser, lambda b: b.find_element(By.ID, "status").text)
    assert status.startswith("callback #") and ": ok 200" in status
    [sent] = callback_receiver.wait_for(1)
    assert sent.body == b"object=photo.jpg&size=10&uid=42" and sent.verified
