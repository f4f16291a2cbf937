"""Screenshot an HTML report in headless Chromium: ``python scripts/screenshot_report.py REPORT OUT.png``.

Used to refresh ``reports/examples/``; needs the dev extra (Playwright) and /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("report", type=Path, help="the index.html to open")
    parser.add_argument("out", type=Path, help="the PNG to write")
    parser.add_argument("--height", type=int, default=2200, help="the most pixels of page height to keep")
    args = parser.parse_args()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(args.report.resolve().as_uri(), wait_until="load")
        page.locator("#cases thead th").nth(3).locator("button").click()  # sorted by median
        height = min(args.height, page.evaluate("document.documentElement.scrollHeight"))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.out), clip={"x": 0, "y": 0, "width": 1280, "height": height}, full_page=True)
        browser.close()
    if errors:
        raise SystemExit(f"The page reported errors: {errors}")
    print(args.out)


if __name__ == "__main__":
    main()
