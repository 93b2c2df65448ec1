"""Fixtures of the browser tests: the real dev-infra-server on a free loopback port with a fresh SQLite
database, Debian's headless Chromium driven by Selenium through Debian's chromedriver, the real
`dev-infra` CLI, and small helpers (an HTTP client that never follows redirects, screenshots at
desktop and phone widths, page checks that every page must pass).

Environment: DEV_INFRA_SERVER_BIN and DEV_INFRA_BIN name the binaries (default <repo>/.build/debug/...);
CHROMIUM_BIN and CHROMEDRIVER_BIN the browser and its driver (default /usr/bin/chromium and
/usr/bin/chromedriver); UPDATE_README_SCREENSHOTS=1 also copies the README's screenshots to docs/screenshots/.
"""

import base64
import json
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SERVER_BIN = os.environ.get("DEV_INFRA_SERVER_BIN", str(REPO / ".build" / "debug" / "dev-infra-server"))
CLI_BIN = os.environ.get("DEV_INFRA_BIN", str(REPO / ".build" / "debug" / "dev-infra"))
CHROMIUM_BIN = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER_BIN = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
SCREENSHOTS = REPO / ".build" / "screenshots"
README_SCREENSHOTS = REPO / "docs" / "screenshots"
# The two screenshots the README shows; copied only with UPDATE_README_SCREENSHOTS=1.
README_SHOTS = {"keys-desktop.png", "device-confirm-phone.png"}

ALICE_PASSWORD = "correct horse battery staple"
ROOT_PASSWORD = "root's own long password"

DESKTOP = (1280, 900)
PHONE = (390, 844)

# A raw key: dinf_ + 12 base62 (the key id) + _ + 32 base62 (the secret) + 6 base62 (the checksum).
RAW_KEY = re.compile(r"dinf_([0-9A-Za-z]{12})_[0-9A-Za-z]{38}")
# A user code as the CLI shows it: 8 letters from BCDFGHJKLMNPQRSTVWXZ, as XXXX-XXXX.
USER_CODE = re.compile(r"\b([BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4})\b")
COMPLETE_URI = re.compile(r"(https?://[^\s\"'<>]+/device\?user_code=[A-Za-z0-9%-]+)")


# --- HTTP without a browser -------------------------------------------------------------------------


def gone(element):
    """Like expected_conditions.staleness_of, for every way chromedriver says an element left the
    page: Chromium 156 answers "Node with given id does not belong to the document" (a plain
    WebDriverException) where older ones raised StaleElementReferenceException."""
    from selenium.common.exceptions import WebDriverException

    def check(_driver):
        try:
            element.is_enabled()
            return False
        except WebDriverException:
            return True
    return check

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the caller sees the 303 itself


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


@dataclass
class Answer:
    status: int
    headers: object
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> dict:
        return json.loads(self.body or b"{}")


def http(method: str, url: str, headers: dict | None = None, form: dict | list | None = None) -> Answer:
    """One request, redirects not followed; form data is sent urlencoded."""
    data = None
    headers = dict(headers or {})
    if form is not None:
        data = urllib.parse.urlencode(form, doseq=True).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with _OPENER.open(request, timeout=15) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read())


# --- the server --------------------------------------------------------------------------------------

@dataclass
class Server:
    url: str
    database: str
    admin_key: str
    folder: Path
    log_path: Path
    proc: subprocess.Popen

    def log_tail(self, characters: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-characters:]


def _admin(database: str, folder: Path, *args: str, stdin: str = "") -> str:
    done = subprocess.run([SERVER_BIN, "admin", *args, "--database", database], input=stdin, capture_output=True,
                          text=True, timeout=60, env={"HOME": str(folder), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, f"dev-infra-server admin {' '.join(args)} exited {done.returncode}: {done.stderr}"
    return done.stdout


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory, request):
    """A fresh dev-infra-server: an admin key (bootstrap), team web, alice (member of web) and root (admin),
    both with passwords; `serve --port 0` on 127.0.0.1, its port read from its log."""
    for binary in (SERVER_BIN, CLI_BIN):
        if not os.access(binary, os.X_OK):
            pytest.fail(f"no binary at {binary} (swift build, or set DEV_INFRA_SERVER_BIN / DEV_INFRA_BIN)")
    folder = tmp_path_factory.mktemp("server")
    database = f"sqlite:{folder}/server.sqlite"
    admin_key = _admin(database, folder, "bootstrap").strip()
    _admin(database, folder, "team", "add", "web")
    _admin(database, folder, "user", "add", "alice", "--team", "web", stdin=ALICE_PASSWORD + "\n")
    _admin(database, folder, "user", "add", "root", "--admin", stdin=ROOT_PASSWORD + "\n")

    log_path = folder / "server.log"
    with open(log_path, "wb") as log:
        # A generous sign-in limit: the tests sign in a handful of times from one address, and what is
        # measured here is the pages, not the throttle (the Swift suites test that).
        proc = subprocess.Popen([SERVER_BIN, "serve", "--host", "127.0.0.1", "--port", "0", "--database", database,
                                 "--sign-in-limit", "1000"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                                env={"HOME": str(folder), "PATH": "/usr/bin:/bin"})
    # The server logs the address it bound once it listens (as Tests/EndToEndTests/Support/ServerProcess.swift reads it).
    port, deadline = None, time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(r"listening on 127\.0\.0\.1:(\d+)", log_path.read_text(errors="replace"))
        if found:
            port = int(found.group(1))
            break
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    if port is None:
        _stop(proc)
        pytest.fail(f"dev-infra-server did not start:\n{log_path.read_text(errors='replace')[-4000:]}")
    started = Server(url=f"http://127.0.0.1:{port}", database=database, admin_key=admin_key, folder=folder,
                     log_path=log_path, proc=proc)
    yield started
    _stop(proc)
    if request.session.testsfailed:
        print(f"\n--- dev-infra-server log (last lines) ---\n{started.log_tail()}")


# --- the browser -------------------------------------------------------------------------------------

@dataclass
class Findings:
    """What every page must satisfy, gathered while the tests go and asserted by the last tests."""
    csp_violations: list = field(default_factory=list)
    phone_overflows: list = field(default_factory=list)
    unlabelled_inputs: list = field(default_factory=list)
    external_assets: list = field(default_factory=list)
    screenshots: list = field(default_factory=list)


_LABEL_CHECK = """
return Array.from(document.querySelectorAll('input, select, textarea')).filter(function (e) {
  var type = (e.getAttribute('type') || '').toLowerCase();
  if (type === 'hidden' || type === 'submit' || type === 'button' || type === 'reset') return false;
  if (e.getAttribute('aria-label') || e.getAttribute('aria-labelledby')) return false;
  if (e.closest('label')) return false;
  if (e.id && document.querySelector('label[for="' + CSS.escape(e.id) + '"]')) return false;
  return true;
}).map(function (e) { return e.outerHTML.slice(0, 200); });
"""

_ASSET_CHECK = """
var origin = location.origin;
return Array.from(document.querySelectorAll('[src], link[href]')).map(function (e) {
  return e.src || e.href;
}).filter(function (u) { return u && new URL(u, location.href).origin !== origin; });
"""


class Browser:
    """One headless Chromium with helpers written against the pages' form field names."""

    def __init__(self, server: Server, findings: Findings, folder: Path, javascript: bool = True):
        self.server = server
        self.findings = findings
        options = Options()
        options.binary_location = CHROMIUM_BIN
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         f"--window-size={DESKTOP[0]},{DESKTOP[1]}", "--hide-scrollbars", "--no-first-run",
                         "--no-default-browser-check", "--disable-extensions", "--no-proxy-server",
                         "--password-store=basic", "--lang=en-US"):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        if not javascript:
            options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
        service = Service(executable_path=CHROMEDRIVER_BIN, log_output=str(folder / "chromedriver.log"))
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_page_load_timeout(30)

    # navigation

    def url(self, path: str) -> str:
        return self.server.url + path

    def open(self, path: str) -> None:
        self.driver.get(self.url(path))
        self.collect_console()

    @property
    def path(self) -> str:
        parts = urllib.parse.urlsplit(self.driver.current_url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    @property
    def text(self) -> str:
        return self.driver.find_element(By.TAG_NAME, "body").text

    @property
    def source(self) -> str:
        return self.driver.page_source

    def wait(self, condition, timeout: float = 15, message: str = ""):
        return WebDriverWait(self.driver, timeout).until(condition, message)

    def click_and_wait(self, element) -> None:
        """Clicks a button or link that loads a new page, and waits for that page."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        element.click()
        self.wait(gone(old), message="the click did not load a new page")
        self.wait(lambda d: d.execute_script("return document.readyState") == "complete")
        self.collect_console()

    # forms, by the spec's field names

    def field(self, name: str):
        return self.driver.find_element(By.NAME, name)

    def fill(self, name: str, value: str) -> None:
        element = self.field(name)
        element.clear()
        element.send_keys(value)

    def submit_form_of(self, element) -> None:
        """Clicks the submit button of the form around `element` (a real click: works without JavaScript)."""
        form = element.find_element(By.XPATH, "./ancestor::form")
        button = form.find_element(By.CSS_SELECTOR, "button[type=submit], button:not([type]), input[type=submit]")
        self.click_and_wait(button)

    def button(self, word: str):
        """A <button> whose value or name is `word`, or whose text starts with it (any case)."""
        lower = word.lower()
        xpath = ("//button[@value='{w}' or @name='{w}' or starts-with(translate(normalize-space(.), "
                 "'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), '{w}')]").format(w=lower)
        try:
            return self.driver.find_element(By.XPATH, xpath)
        except NoSuchElementException:
            raise AssertionError(f"no <button> with value/name {lower!r} or text {word!r} on {self.path}:\n{self.text[:2000]}")

    def sign_in(self, username: str, password: str) -> None:
        """Signs in on /login (username, password) and lands where the server sends the browser."""
        if not self.path.startswith("/login"):
            self.open("/login")
        self.fill("username", username)
        self.fill("password", password)
        self.submit_form_of(self.field("password"))
        assert not self.path.startswith("/login"), f"sign-in as {username} failed:\n{self.text[:2000]}"

    def session_cookie(self) -> dict:
        cookie = self.driver.get_cookie("dinf_session")
        assert cookie, f"no dinf_session cookie after signing in; cookies: {self.driver.get_cookies()}"
        return cookie

    def csrf_token(self) -> str:
        return self.driver.find_element(By.CSS_SELECTOR, "input[type=hidden][name=csrf]").get_attribute("value")

    # checks and screenshots

    def collect_console(self) -> None:
        try:
            entries = self.driver.get_log("browser")
        except WebDriverException:
            return
        for entry in entries:
            message = entry.get("message", "")
            if "Content Security Policy" in message or "Content-Security-Policy" in message:
                self.findings.csp_violations.append(f"{self.path}: {message}")

    def check_page(self, name: str) -> None:
        unlabelled = self.driver.execute_script(_LABEL_CHECK)
        if unlabelled:
            self.findings.unlabelled_inputs.append(f"{name} ({self.path}): {unlabelled}")
        external = self.driver.execute_script(_ASSET_CHECK)
        if external:
            self.findings.external_assets.append(f"{name} ({self.path}): {external}")

    def _set_width(self, size: tuple, mobile: bool) -> None:
        if mobile:
            self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": size[0], "height": size[1], "deviceScaleFactor": 2, "mobile": True})
        else:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
            self.driver.set_window_size(*size)
        time.sleep(0.2)  # let the layout settle

    def _capture(self, path: Path) -> None:
        """The whole page, not only the viewport (capped at 6000 CSS pixels)."""
        try:
            metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
            content = metrics.get("cssContentSize") or metrics["contentSize"]
            viewport = metrics.get("cssLayoutViewport") or metrics["layoutViewport"]
            width = max(int(viewport["clientWidth"]), 1)
            height = min(max(int(content["height"]), int(viewport["clientHeight"])), 6000)
            shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
            path.write_bytes(base64.b64decode(shot["data"]))
        except (WebDriverException, KeyError):
            self.driver.save_screenshot(str(path))

    def shoot(self, name: str) -> None:
        """`<name>-desktop.png` and `<name>-phone.png` under .build/screenshots/, the page checked at both
        widths; the README's two are copied to docs/screenshots/ with UPDATE_README_SCREENSHOTS=1."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.check_page(name)
        self._set_width(DESKTOP, mobile=False)
        self._capture(SCREENSHOTS / f"{name}-desktop.png")
        self._set_width(PHONE, mobile=True)
        widths = self.driver.execute_script(
            "return [document.documentElement.scrollWidth, document.body ? document.body.scrollWidth : 0, window.innerWidth];")
        if max(widths[0], widths[1]) > PHONE[0] + 1:
            self.findings.phone_overflows.append(
                f"{name} ({self.path}): {max(widths[0], widths[1])} CSS px wide at a {PHONE[0]} px phone (innerWidth {widths[2]})")
        self._capture(SCREENSHOTS / f"{name}-phone.png")
        self._set_width(DESKTOP, mobile=False)
        self.collect_console()
        for suffix in ("desktop", "phone"):
            file = f"{name}-{suffix}.png"
            self.findings.screenshots.append(file)
            if os.environ.get("UPDATE_README_SCREENSHOTS") == "1" and file in README_SHOTS:
                README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(SCREENSHOTS / file, README_SCREENSHOTS / file)

    def quit(self) -> None:
        try:
            self.collect_console()
        finally:
            self.driver.quit()


@pytest.fixture(scope="session")
def findings():
    return Findings()


@pytest.fixture(scope="session")
def open_browser(server, findings, tmp_path_factory):
    """A factory: open_browser(javascript=True) -> a fresh Browser (own cookies); all quit at the end."""
    browsers = []

    def make(javascript: bool = True) -> Browser:
        folder = tmp_path_factory.mktemp("chromium")
        browser = Browser(server, findings, folder, javascript=javascript)
        browsers.append(browser)
        return browser

    make.all = browsers
    yield make
    for browser in browsers:
        try:
            browser.quit()
        except WebDriverException:
            pass


@pytest.fixture(scope="session")
def alice(open_browser):
    """A browser in which alice is signed in (session-wide: the device, keys and CSRF tests share it)."""
    browser = open_browser()
    browser.sign_in("alice", ALICE_PASSWORD)
    return browser


# --- the CLI -----------------------------------------------------------------------------------------

def cli_environment(server: Server, home: Path) -> dict:
    """A clean environment for the CLI: its own HOME and XDG folders, the server's URL, no display."""
    for sub in ("config", "data", "cache"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    return {"HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data"),
            "XDG_CACHE_HOME": str(home / "cache"), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
            "DEV_INFRA_API_URL": server.url}


class WebLogin:
    """A running `dev-infra login --web --no-browser --storage file`, its stdout and stderr read as they come."""

    def __init__(self, server: Server, home: Path):
        self.env = cli_environment(server, home)
        self.proc = subprocess.Popen([CLI_BIN, "login", "--web", "--no-browser", "--storage", "file"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=self.env)
        self._out, self._err = bytearray(), bytearray()
        self._lock = threading.Lock()
        self._readers = [threading.Thread(target=self._read, args=(self.proc.stdout, self._out), daemon=True),
                         threading.Thread(target=self._read, args=(self.proc.stderr, self._err), daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, into: bytearray) -> None:
        while True:
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                return
            with self._lock:
                into.extend(chunk)

    @property
    def stderr(self) -> str:
        with self._lock:
            return self._err.decode("utf-8", errors="replace")

    @property
    def stdout(self) -> str:
        with self._lock:
            return self._out.decode("utf-8", errors="replace")

    def user_code(self, timeout: float = 30) -> str:
        """The code the CLI prints on stderr (the line with "one-time code", or any XXXX-XXXX code)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.stderr
            lines = [line for line in re.split(r"[\r\n]", text) if "one-time code" in line.lower()] or [text]
            for line in lines:
                found = USER_CODE.search(line)
                if found:
                    return found.group(1)
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"dev-infra login --web printed no user code (exit {self.proc.returncode}); stderr:\n{self.stderr}")

    def complete_uri(self) -> str | None:
        found = COMPLETE_URI.search(self.stderr)
        return found.group(1) if found else None

    def wait(self, timeout: float = 45) -> int:
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            pytest.fail(f"dev-infra login --web still polling after {timeout} s; stderr:\n{self.stderr}")
        for reader in self._readers:
            reader.join(5)
        return code

    def stop(self) -> None:
        _stop(self.proc)

    def run(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        """Another CLI command with the same HOME, XDG folders and server URL."""
        return subprocess.run([CLI_BIN, *args], env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout)


@pytest.fixture
def web_login(server, tmp_path):
    """A factory: web_login() starts `dev-infra login --web` in its own temp HOME; stopped after the test."""
    started = []

    def start() -> WebLogin:
        login = WebLogin(server, tmp_path / f"home{len(started)}")
        started.append(login)
        return login

    yield start
    for login in started:
        login.stop()
