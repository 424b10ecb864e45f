"""The scorecard in a real headless Chromium (Debian's chromium + chromedriver, installed by
scripts/system-deps.sh; nothing is downloaded): the demo's page renders, its script runs under the
page's own CSP, the filters and sorting work, print hides the controls, a hostile title stays text."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import demo
from bot.fixture_portal import FixturePortal
from bot.service import _load, scan_once
from tests.test_scorecard import HOSTILE, _card, _hostile_site

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = [
    *("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"),
    *("--disable-background-networking", "--disable-component-update", "--disable-sync"),
    *("--disable-dev-shm-usage", "--window-size=1280,1600"),
]


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        pytest.fail("Debian chromium / chromium-driver missing: run scripts/system-deps.sh as root (or make setup)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def visible_bodies(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    return [tr.find_element(By.TAG_NAME, "b").text for tr in driver.find_elements(By.CSS_SELECTOR, "#rows tbody tr")
            if tr.is_displayed()]  # fmt: skip


def test_the_demo_scorecard_in_chromium(browser, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    with FixturePortal() as portal:
        demo.build(portal)
        cfg = demo.write_config(tmp_path, portal.url, (tmp_path / "db.sqlite").as_posix())
        config, rules = _load(cfg)
        scan_once(config, rules, send=False)
    page = config.scorecard.path
    assert page == tmp_path / "scorecard.html" and page.exists()
    browser.get(page.as_uri())
    assert browser.title.startswith("示例市2023年度")
    # the page's own script ran under its CSP (it rewrites the counter), and every body has a row
    assert browser.find_element(By.ID, "shown").text == "显示 5 / 5 个机关"
    assert sorted(visible_bodies(browser)) == sorted(
        ["洪泽区人民政府", "示例区人民政府", "示例区李庄镇人民政府", "示例区王集镇人民政府", "示例区城东街道办事处"]
    )
    badges = {
        tr.find_element(By.TAG_NAME, "b").text: [b.text for b in tr.find_elements(By.CLASS_NAME, "badge")]
        for tr in browser.find_elements(By.CSS_SELECTOR, "#rows tbody tr")
    }
    assert badges["洪泽区人民政府"] == ["逾期发布", "有错误"]
    assert badges["示例区李庄镇人民政府"] == ["未发布"]
    headline = browser.find_element(By.CSS_SELECTOR, ".figures tr.total").text.split()
    assert headline[:7] == ["合计", "5", "2", "0", "2", "3", "0"]  # expected, published, on time, late, missing, …
    browser.save_screenshot(str(tmp_path / "scorecard.png"))
    assert (tmp_path / "scorecard.png").stat().st_size > 20_000

    Select(browser.find_element(By.ID, "f-status")).select_by_visible_text("未发布")
    assert sorted(visible_bodies(browser)) == ["示例区人民政府", "示例区李庄镇人民政府", "示例区王集镇人民政府"]
    assert browser.find_element(By.ID, "shown").text == "显示 3 / 5 个机关"
    Select(browser.find_element(By.ID, "f-region")).select_by_visible_text("洪泽区")
    assert visible_bodies(browser) == []
    Select(browser.find_element(By.ID, "f-status")).select_by_visible_text("全部")
    assert visible_bodies(browser) == ["洪泽区人民政府"]
    Select(browser.find_element(By.ID, "f-region")).select_by_visible_text("全部")
    browser.find_element(By.ID, "f-text").send_keys("街道")
    assert visible_bodies(browser) == ["示例区城东街道办事处"]
    browser.find_element(By.ID, "f-text").clear()
    browser.execute_script("document.getElementById('f-text').dispatchEvent(new Event('input'))")

    header = browser.find_element(By.CSS_SELECTOR, 'th[data-key="days"]')
    header.click()
    header.click()  # descending: the longest overdue first
    days = [int(d) for d in (td.text for td in browser.find_elements(By.CSS_SELECTOR, "#rows tbody td.num")) if d]
    assert days == sorted(days, reverse=True) and len(days) == 5
    assert header.get_attribute("aria-sort") == "descending"

    browser.find_element(By.LINK_TEXT, "详情").click()  # the first row's details link jumps to its findings
    assert browser.execute_script("return location.hash").startswith("#d-")

    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not browser.find_element(By.CSS_SELECTOR, ".filters").is_displayed()
        assert browser.find_element(By.CSS_SELECTOR, ".stamp").is_displayed()  # room for the seal
        browser.save_screenshot(str(tmp_path / "scorecard-print.png"))
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_a_hostile_title_is_shown_as_text(browser, make_site, tmp_path: Path) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    from bot.scorecard import render_page, write_atomic

    page = tmp_path / "hostile.html"
    write_atomic(page, render_page(_card(_hostile_site(make_site))))
    browser.get(page.as_uri())
    titles = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#rows .title")]
    assert any(t.startswith(HOSTILE) for t in titles), titles
    assert browser.execute_script("return document.images.length") == 0
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018
    browser.save_screenshot(str(tmp_path / "hostile.png"))


def test_chromium_is_debians_not_a_download() -> None:
    assert shutil.which("chromium") == CHROMIUM or Path(CHROMIUM).exists()
    assert not (Path.home() / ".cache" / "selenium").exists() or not any((Path.home() / ".cache" / "selenium")
                                                                         .rglob("chromedriver*"))  # fmt: skip
