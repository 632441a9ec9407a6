"""The direct-upload page of ``ossemu dev``, in a real browser: pick an image, the page gets a
signed form (V1 or V4) from the app server, POSTs the file straight to the emulator (another
origin) with a callback, and shows the app server's JSON and the public-read image."""

from __future__ import annotations

import json

import pytest
from PIL import Image
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.test_make_run import start_dev


@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    """``ossemu dev`` as a user starts it (``make run``), on free ports."""
    proc, emulator, receiver = start_dev(tmp_path_factory.mktemp("dev") / "data")
    for _ in range(4):  # up to the page's line: the page knows its callback URL from then on
        if proc.stdout.readline().startswith("direct-upload page on"):
            break
    yield proc, emulator, receiver
    proc.terminate()
    proc.communicate(timeout=15)


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_dev_page_uploads_an_image_straight_to_the_emulator_with_a_callback(
    browser, dev, tmp_path, version
):
    proc, emulator, receiver = dev
    picture = tmp_path / f"cat-{version}.png"
    Image.new("RGB", (24, 16), (200, 80, 40)).save(picture)

    browser.get(receiver + "/")
    browser.find_element(By.ID, "file").send_keys(str(picture))
    browser.find_element(By.CSS_SELECTOR, f"input[name=version][value={version}]").click()
    browser.find_element(By.ID, "send").click()
    status = WebDriverWait(browser, 20).until(
        lambda b: (
            b.find_element(By.ID, "status").get_attribute("data-status")
            or ("failed" in b.find_element(By.ID, "status").text and "failed")
        )
    )
    assert status == "200", browser.find_element(By.ID, "status").text
    answer = json.loads(browser.find_element(By.ID, "answer").text)
    assert answer == {"Status": "OK"}  # what the receiver (the app server) answered
    WebDriverWait(browser, 10).until(
        lambda b: b.execute_script(
            "const i = document.getElementById('preview'); return i.complete && i.naturalWidth"
        )
    )
    size = browser.execute_script(
        "const i = document.getElementById('preview'); return [i.naturalWidth, i.naturalHeight]"
    )
    assert size == [24, 16]
    link = browser.find_element(By.ID, "link").text
    assert link == f"{emulator}/examplebucket/uploads/{picture.name}"
    # The receiver printed the verified callback, with the form's x: variable.
    line = proc.stdout.readline()
    while line.startswith(("Ctrl-C", "examplebucket:")):
        line = proc.stdout.readline()
    assert line.startswith("POST /?from=dev-page verified "), line
    assert f"object=uploads%2F{picture.name}" in line and "uid=42" in line
