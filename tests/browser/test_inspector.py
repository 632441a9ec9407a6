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


def accept_confirm(browser) -> None:
    wait(browser, expected_conditions.alert_is_present())
    browser.switch_to.alert.accept()


def entries(browser) -> list:
    return browser.find_elements(By.CSS_SELECTOR, "details.entry")


def test_inspector_shows_uploads_and_callbacks_and_replays_a_203(
    browser, oss_emulator, oss_bucket, callback_receiver
):
    oss_bucket.put_object("ok.txt", b"fine", callback=Callback(url=callback_receiver.url))
    callback_receiver.respond_with(status=500, body=b'{"error":"down"}')
    with pytest.raises(CallbackError):
        oss_bucket.put_object("bad.txt", b"oops", callback=Callback(url=callback_receiver.url))
    upload_id = oss_bucket.init_multipart_upload("big.bin")
    oss_bucket.upload_part("big.bin", upload_id, 1, b"p" * 1000)

    browser.get(oss_emulator.url + "/_ossemu/")
    wait(browser, lambda b: b.find_elements(By.LINK_TEXT, oss_bucket.name))[0].click()
    rows = wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "tr.object"))
    assert [row.get_attribute("data-key") for row in rows] == ["bad.txt", "ok.txt"]
    upload = wait(browser, lambda b: b.find_element(By.CSS_SELECTOR, "tr.upload"))
    assert upload_id in upload.text and "#1 1000 B" in upload.text

    browser.find_element(By.ID, "tab-journal").click()
    shown = wait(browser, lambda b: len(entries(b)) == 2 and entries(b))
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
        browser, lambda b: len(entries(b)) == 3 and entries(b)[0].get_attribute("data-id")
    )
    assert int(newest) > int(failed_id)
    replayed = entries(browser)[0]
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
