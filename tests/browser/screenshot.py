"""``python -m tests.browser.screenshot [OUT.png]`` (``make screenshot``): the README's picture
of the inspector, drawn from a live emulator in the browser the browser tests use.

It starts an emulator and a callback receiver on free ports in a scratch data dir, uploads a
few objects with callbacks (one answered 500, so its upload got 203), opens the journal and
the failed delivery, and saves the window.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from ossemu.client import Callback, CallbackError, Client
from ossemu.emulator.config import EmulatorConfig
from ossemu.emulator.receiver import CallbackReceiver
from ossemu.emulator.server import EmulatorServer

from .conftest import ARGS, CHROMEDRIVER, CHROMIUM

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "docs" / "inspector.png"
WINDOW = (1280, 900)


def seed(server: EmulatorServer, receiver: CallbackReceiver) -> None:
    """Two uploads whose callbacks worked, one the app answered 500, one upload in progress."""
    client = Client(server.url, server.access_key_id, server.access_key_secret)
    bucket = client.create_bucket("examplebucket")
    for key in ("avatars/ada.png", "avatars/grace.png"):
        bucket.put_object(key, b"\x89PNG" + key.encode(), callback=Callback(url=receiver.url))
    try:
        failing = Callback(url=receiver.url + "/fail/orders", body="object=${object}&size=${size}")
        bucket.put_object("invoices/2026-12.pdf", b"%PDF-1.7 ...", callback=failing)
    except CallbackError:
        pass  # the 203 the picture shows
    upload_id = bucket.init_multipart_upload("videos/launch.mp4")
    bucket.upload_part("videos/launch.mp4", upload_id, 1, b"\0" * 200_000)


def shoot(out: Path) -> int:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with tempfile.TemporaryDirectory() as tmp:
        server = EmulatorServer(EmulatorConfig(data_dir=Path(tmp), port=0)).start()
        receiver = CallbackReceiver(fail_prefix="/fail/").start()
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in (*ARGS, f"--window-size={WINDOW[0]},{WINDOW[1]}", "--hide-scrollbars"):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        try:
            seed(server, receiver)
            driver.get(server.url + "/_ossemu/#/journal")
            failed = WebDriverWait(driver, 20).until(
                lambda d: d.find_elements(By.CSS_SELECTOR, "details.entry.failed summary")
            )
            failed[0].click()
            WebDriverWait(driver, 10).until(
                lambda d: d.find_element(By.CSS_SELECTOR, "details.entry.failed[open] .signature")
            )
            out.parent.mkdir(parents=True, exist_ok=True)
            if not driver.save_screenshot(str(out)):
                print(f"could not write {out}", file=sys.stderr)
                return 1
        finally:
            driver.quit()
            receiver.stop()
            server.stop()
    print(f"{out}: {out.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(shoot(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT))
