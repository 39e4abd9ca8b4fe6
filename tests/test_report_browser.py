"""The Snakemake report as a reader sees it: loaded in headless Chromium at 1400 × 900, it opens on
its landing page's top — the findings heading inside the first viewport — and scrolls to its end.

Snakemake 9's content pane is a flex box that centres its page vertically; a landing page taller
than the window then starts above it, out of scroll reach (the demo's ~46 800 px page opened
~23 000 px down, on "10 correlation length (abm2d)"). Parsing the HTML cannot see this, so the
report is laid out by a real browser (Debian's ``chromium``), driven over the Chrome DevTools
protocol on a pipe (``--remote-debugging-pipe``: no websocket client, no driver).

The report here is built by Snakemake from a small workflow that uses the project's landing page
(workflow/report/workflow.rst), its findings page (glasscam.report.findings) and 8 tall figures
with captions — a page far taller than the window, as the demo's. tests/test_workflow.py applies
the same check to the report of the tiny DAG.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VIEWPORT = (1400, 900)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_binary() -> str | None:
    return next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)), None)


needs_chromium = pytest.mark.skipif(chromium_binary() is None, reason="no chromium on PATH (Debian: apt-get install chromium)")


def _as_fds_3_and_4(read_end: int, write_end: int) -> None:
    """In the child: the pipe ends as fds 3 and 4 (moved above 10 first, so neither clobbers the
    other); os.pipe's ends are not inherited, these two are."""
    import fcntl

    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (read_end, write_end)]
    os.dup2(high[0], 3)
    os.dup2(high[1], 4)


class Chromium:
    """Headless Chromium driven over the DevTools protocol on fds 3/4 (NUL-separated JSON)."""

    def __init__(self, binary: str):
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # the browser reads commands on fd 3 and writes replies on fd 4
        self.process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-pipe",
             f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=False,
            preexec_fn=lambda: _as_fds_3_and_4(to_browser_r, from_browser_w),
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._id = 0

    def send(self, method: str, session: str | None = None, **params) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self._buffer:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the DevTools pipe")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def open(self, url: str) -> str:
        """A page of VIEWPORT size at ``url``; returns its session id."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.send("Emulation.setDeviceMetricsOverride", session, width=VIEWPORT[0], height=VIEWPORT[1],
                  deviceScaleFactor=1, mobile=False)
        self.send("Page.navigate", session, url=url)
        return session

    def evaluate(self, session: str, expression: str):
        result = self.send("Runtime.evaluate", session, expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}…: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self):
        try:
            self.send("Browser.close")
        except (RuntimeError, OSError):
            pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self._to_browser)
        os.close(self._from_browser)
        shutil.rmtree(self.profile, ignore_errors=True)


# The landing page's layout at load and after scrolling its pane to the end. The pane is the
# nearest ancestor of the page that scrolls (Snakemake: div.h-screen.overflow-auto).
LAYOUT = """(() => {
  const heading = [...document.querySelectorAll('h1, h2, h3')].find(h => h.textContent.trim() === 'Findings');
  if (!heading) return null;
  let pane = heading.parentElement;
  while (pane && !(pane.scrollHeight > pane.clientHeight && ['auto', 'scroll'].includes(getComputedStyle(pane).overflowY))) pane = pane.parentElement;
  const page = heading.closest('.prose') || heading.parentElement;
  const at_load = {heading_top: heading.getBoundingClientRect().top, heading_bottom: heading.getBoundingClientRect().bottom,
                   page_top: page.getBoundingClientRect().top, page_height: page.getBoundingClientRect().height};
  if (!pane) return {...at_load, scrolls: false};
  pane.scrollTop = pane.scrollHeight;
  const end = page.getBoundingClientRect();
  const pane_box = pane.getBoundingClientRect();
  return {...at_load, scrolls: true, page_bottom_after_scroll: end.bottom, pane_bottom: pane_box.bottom,
          pane_top: pane_box.top};
})()"""


DRAWN = "[...document.querySelectorAll('h1, h2, h3')].some(h => h.textContent.trim() === 'Findings')"


def report_layout(report: Path, timeout: float = 240) -> dict:
    """The LAYOUT record of ``report`` in headless Chromium, once the findings heading is drawn."""
    browser = Chromium(chromium_binary())
    try:
        session = browser.open(report.resolve().as_uri())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if browser.evaluate(session, DRAWN):
                time.sleep(1)  # let the tailwind stylesheet and images settle, then measure (once: it scrolls)
                return browser.evaluate(session, LAYOUT)
            time.sleep(0.5)
        raise AssertionError(f"{report}: no 'Findings' heading rendered within {timeout} s")
    finally:
        browser.close()


def assert_opens_on_findings(report: Path) -> dict:
    """The findings heading is inside the first 1400 × 900 viewport at load, and scrolling the
    pane to its end brings the page's bottom into the window."""
    layout = report_layout(report)
    assert layout["page_height"] > 3 * VIEWPORT[1], f"the landing page is not taller than the window: {layout}"
    assert 0 <= layout["heading_top"] and layout["heading_bottom"] <= VIEWPORT[1], f"findings heading outside the first viewport: {layout}"
    assert layout["page_top"] >= 0, f"the page starts above the window, out of scroll reach: {layout}"
    assert layout["scrolls"], layout
    assert layout["page_bottom_after_scroll"] <= layout["pane_bottom"] + 1, f"the page's end cannot be scrolled to: {layout}"
    return layout


SNAKEFILE = """
from glasscam.report.findings import register_report_directives, findings_rst, rst_to_html
from glasscam.io.tables import write_text

register_report_directives()
configfile: "config.yaml"
report: "{root}/workflow/report/workflow.rst"

# one job (each job is a Snakemake process): the findings page and 8 figures of 4 × 16 inches
rule all:
    output:
        rst="results/findings/findings.rst",
        html=report("results/findings/findings.html", caption="{root}/workflow/report/findings.rst",
                    category="0 Findings", labels={{"page": "findings"}}),
        figures=[report(f"results/figures/ka3d/fig{{k}}.png", caption="caption.rst", category="ka3d",
                        subcategory="1 Simulation", labels={{"figure": f"fig{{k}}"}}) for k in range(8)],
    run:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        text = findings_rst({{"systems": {{}}}})
        write_text(output.rst, text)
        write_text(output.html, rst_to_html(text))
        for path in output.figures:
            fig, ax = plt.subplots(figsize=(4, 16), dpi=20)
            ax.plot([0, 1], [0, 1])
            fig.savefig(path)
            plt.close(fig)
"""


@pytest.fixture(scope="module")
def small_report(tmp_path_factory) -> Path:
    """A report built by Snakemake from the project's landing page and findings page and 8 tall
    figures (the landing page is tens of thousands of pixels tall, like the demo's)."""
    workdir = tmp_path_factory.mktemp("report")
    (workdir / "Snakefile").write_text(textwrap.dedent(SNAKEFILE.format(root=ROOT)))
    (workdir / "config.yaml").write_text("run_systems: [ka3d]\nengine: lammps\nseed: 1\n")
    (workdir / "caption.rst").write_text("A tall test figure: a line from (0, 0) to (1, 1), drawn "
                                         "to make the landing page much taller than the window.\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}
    for args in (["--cores", "1"], ["--report", "report.html"]):
        run = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=workdir, env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return workdir / "report.html"


@needs_chromium
def test_report_opens_on_the_findings_and_scrolls_to_its_end(small_report):
    assert_opens_on_findings(small_report)
