"""The notebooks as a person sees them: JupyterLab on 127.0.0.1, driven by headless Chromium (``make browser-test``).

For notebook 01 and the video notebooks 04 and 07, at ``PROFILE = "smoke"`` set in their parameters cell as a user
would: run all cells from the browser, then check that no cell errored, that figures rendered as images, and that the
viewers' sliders change the image they show. A screenshot of each rendered notebook goes to ``results/figures/``.

Needs Debian's ``chromium`` and ``chromium-driver`` (apt) and selenium (``pip install -e .[browser]``); without
them the module is skipped and says so. Tables and checkpoints go to a temporary folder, never to the kit's own.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from colorizerutils import paths, results

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="Chromium not installed: on Debian or Ubuntu, `sudo apt-get install chromium "
                                      "chromium-driver`, then `make browser-test`")
NOTEBOOKS = ("01_lab_preprocessing", "04_video_diffusion", "07_long_videos")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _smoke_copy(src: Path, dest: Path) -> None:
    """The notebook with ``PROFILE = "smoke"`` typed into its parameters cell, as a user changes it in the browser."""
    nb = json.loads(src.read_text())
    (cell,) = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    text = "".join(cell["source"])
    new, n = re.subn(r'^PROFILE = "\w+"', 'PROFILE = "smoke"', text, flags=re.M)
    assert n == 1, f"{src}: expected one PROFILE = ... line in its parameters cell"
    cell["source"] = new.splitlines(keepends=True)
    dest.write_text(json.dumps(nb, indent=1))


@pytest.fixture(scope="module")
def lab(tmp_path_factory, manifest):
    root = tmp_path_factory.mktemp("lab")
    work, settings = root / "notebooks", root / "settings"
    work.mkdir()
    for name in NOTEBOOKS:
        _smoke_copy(paths.NOTEBOOKS / f"{name}.ipynb", work / f"{name}.ipynb")
    # every cell in the DOM (JupyterLab 4 otherwise renders only the cells in view)
    tracker = settings / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    news = settings / "@jupyterlab" / "apputils-extension"           # no "get notified about news?" toast on top
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    env = {k: v for k, v in os.environ.items() if k != "COLORIZER_HEADLESS"}   # live widgets, as in make lab
    env.update(COLORIZER_RESULTS=str(root / "results"), COLORIZER_CHECKPOINTS=str(root / "checkpoints"),
               JUPYTERLAB_SETTINGS_DIR=str(settings), MPLBACKEND="module://matplotlib_inline.backend_inline")
    port, token = _free_port(), secrets.token_hex(16)
    log = open(root / "jupyterlab.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
                               f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
                               f"--ServerApp.root_dir={work}", "--LabApp.expose_app_in_browser=True",
                               *(["--allow-root"] if os.geteuid() == 0 else [])],   # containers and CI run as root
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError(f"JupyterLab exited: {(root / 'jupyterlab.log').read_text()[-2000:]}")
                time.sleep(1)
        else:
            raise RuntimeError(f"JupyterLab did not answer on {url} within 120 s")
        yield url, token, root
    finally:
        server.terminate()
        server.wait(30)
        log.close()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield driver
    driver.quit()


KERNEL_IDLE = """
const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
return !!(k && k.status === 'idle' && w.content && w.content.widgets.length);
"""
ALL_RUN = KERNEL_IDLE.replace("return !!(", "const idle = !!(") + """
const code = w.content.widgets.filter(c => c.model.type === 'code');
const failed = code.some(c => c.model.outputs.toJSON().some(o => o.output_type === 'error'));
return idle && (failed || code.every(c => c.model.executionCount !== null));
"""
CELL_STATE = """
const nb = window.jupyterapp.shell.currentWidget.content;
return nb.widgets.filter(c => c.model.type === 'code').map(c => ({
  count: c.model.executionCount,
  errors: c.model.outputs.toJSON().filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue),
  images: c.model.outputs.toJSON().filter(o => o.data && o.data['image/png']).length,
  widgets: c.model.outputs.toJSON().filter(o => o.data && o.data['application/vnd.jupyter.widget-view+json']).length,
}));
"""


def _wait(driver, script, what, timeout=900, poll=2.0):
    end = time.time() + timeout
    while time.time() < end:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(poll)
    raise TimeoutError(f"waited {timeout} s for {what}")


def _run_all(driver, url, token, name):
    # a workspace of its own, reset: JupyterLab would otherwise reopen the previous notebook's tab beside this one
    driver.get(f"{url}/lab/workspaces/{name}/tree/{name}.ipynb?reset&token={token}")
    _wait(driver, KERNEL_IDLE, f"{name}: the kernel to start", timeout=180)
    driver.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells');")
    time.sleep(3)
    _wait(driver, ALL_RUN, f"{name}: every cell to run")
    return driver.execute_script(CELL_STATE)


def _slider_changes_image(driver, slider_label: str) -> bool:
    """Move the labelled ipywidgets slider with the keyboard, as a user would, and report whether the image under
    it changed (ipywidgets.Image shows a new blob: URL for new bytes)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element(By.XPATH, f"//div[contains(@class,'widget-slider')][.//*[contains(text(),"
                                        f"'{slider_label}')]]/ancestor::div[contains(@class,'widget-vbox')][1]")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
    image = lambda: box.find_element(By.CSS_SELECTOR, "img").get_attribute("src")
    before = image()
    handle = box.find_element(By.CSS_SELECTOR, ".noUi-handle")
    handle.click()
    for _ in range(10):
        handle.send_keys(Keys.ARROW_RIGHT)
    end = time.time() + 30
    while time.time() < end and image() == before:
        time.sleep(0.5)
    return image() != before


CUT_IMAGES = """
// widget images a reader cannot see whole: wider than the output area, or inside a widget box that scrolls sideways
const cut = [];
for (const img of document.querySelectorAll('.jp-OutputArea-output .widget-image')) {
  const area = img.closest('.jp-OutputArea-output').getBoundingClientRect(), r = img.getBoundingClientRect();
  let box = img.parentElement, scrolls = false;
  for (; box && !box.classList.contains('jp-OutputArea-output'); box = box.parentElement)
    scrolls = scrolls || box.scrollWidth > box.clientWidth + 1;
  if (r.width > 0 && (scrolls || r.right > area.right + 1)) cut.push(Math.round(r.width) + 'px wide');
}
return cut;
"""


@pytest.mark.parametrize("name,slider", [("01_lab_preprocessing", "frame"), ("04_video_diffusion", "before | after"),
                                         ("07_long_videos", "frame")])
def test_notebook_runs_in_jupyterlab_with_figures_and_working_sliders(lab, browser, name, slider):
    url, token, _ = lab
    cells = _run_all(browser, url, token, name)
    errors = [e for c in cells for e in c["errors"]]
    assert not errors, f"{name}: cells errored in the browser: {errors}"
    assert sum(c["images"] for c in cells) >= 1, f"{name}: no figure rendered"
    assert sum(c["widgets"] for c in cells) >= 1, f"{name}: no widget shown (widgets.interactive() false?)"
    assert _slider_changes_image(browser, slider), f"{name}: moving the {slider!r} slider did not change the image"
    cut = browser.execute_script(CUT_IMAGES)
    assert not cut, f"{name}: {len(cut)} widget images are cut off by the notebook's width ({cut})"
    results.save_png(browser.get_screenshot_as_png(), f"browser_{name}", notebook=name,
                     params={"PROFILE": "smoke", "browser": browser.capabilities.get("browserVersion"),
                             "what": f"JupyterLab after run-all, the {slider!r} slider moved"})
