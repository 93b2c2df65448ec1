"""The pages in a real browser: headless Chromium (Debian's) driven by Selenium, against the real
dev-infra-server and the real dev-infra CLI. Run by tests/browser/run-tests.sh.

The tests run in file order and share one server and alice's signed-in browser; the last tests
assert what every page visited before had to satisfy (no Content-Security-Policy violation, no
unlabelled input, no asset from elsewhere, nothing wider than a phone) and that every screenshot
was saved. Run the whole file (extra pytest arguments narrow it, and then those last tests fail).
"""

import re
import urllib.parse

import pytest
from selenium.common.exceptions import NoSuchElementException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select

from conftest import ALICE_PASSWORD, RAW_KEY, ROOT_PASSWORD, SCREENSHOTS, gone, http

PAGES = ["login", "device", "device-confirm", "device-done", "keys", "key-created", "revoke-confirm", "audit"]
CSP = ("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def cookie_header(cookie: dict) -> dict:
    return {"Cookie": f"{cookie['name']}={cookie['value']}"}


def whoami(server, key: str):
    return http("GET", server.url + "/v1/whoami", headers=bearer(key))


def location_path(answer) -> str:
    return urllib.parse.urlsplit(answer.headers.get("Location", "")).path


# --- sign-in -----------------------------------------------------------------------------------------

def test_login_page_headers_and_redirect(server):
    page = http("GET", server.url + "/login")
    assert page.status == 200, page.text
    assert page.headers.get("Content-Type", "").startswith("text/html")
    directives = {d.strip() for d in page.headers.get("Content-Security-Policy", "").split(";") if d.strip()}
    assert directives == {d.strip() for d in CSP.split(";")}, page.headers.get("Content-Security-Policy")
    assert page.headers.get("X-Content-Type-Options") == "nosniff"
    assert page.headers.get("Referrer-Policy") == "no-referrer"
    assert "no-store" in page.headers.get("Cache-Control", "")
    assert 'name="username"' in page.text and 'name="password"' in page.text
    assert re.search(r'<meta[^>]+name="viewport"', page.text), "no viewport meta tag"

    # Signed out, a page sends the browser to /login, saying where to come back to.
    keys = http("GET", server.url + "/keys")
    assert keys.status == 303, keys.text
    assert location_path(keys) == "/login"


def test_login_page_and_a_wrong_password(server, open_browser):
    browser = open_browser()
    browser.open("/login")
    assert browser.field("password").get_attribute("type") == "password"
    browser.shoot("login")

    browser.fill("username", "alice")
    browser.fill("password", "not alice's password")
    browser.submit_form_of(browser.field("password"))
    assert browser.path.startswith("/login"), browser.path
    assert browser.field("username") and browser.field("password")  # the form again, with an error
    assert browser.driver.get_cookie("dinf_session") is None


def test_sign_in_sets_a_strict_http_only_session_cookie(alice):
    assert alice.path == "/keys", alice.path
    cookie = alice.session_cookie()
    assert cookie["httpOnly"] is True
    assert cookie.get("sameSite") == "Strict"
    assert cookie.get("path") == "/"


def test_login_form_by_keyboard_only(server, open_browser):
    """Tab to the username field, type, Tab to the password, type, Enter: signed in, no mouse."""
    browser = open_browser()
    browser.open("/login")
    driver = browser.driver
    for _ in range(25):
        if driver.switch_to.active_element.get_attribute("name") == "username":
            break
        ActionChains(driver).send_keys(Keys.TAB).perform()  # a new chain each time: a chain replays its keys
    assert driver.switch_to.active_element.get_attribute("name") == "username", "Tab never reached the username field"
    # Focus is visible: the focused field keeps an outline (or a box-shadow) of some kind.
    outline, shadow = driver.execute_script(
        "var s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.boxShadow];")
    assert outline != "none" or shadow != "none", f"no visible focus on the username field ({outline}, {shadow})"

    ActionChains(driver).send_keys("alice").send_keys(Keys.TAB).perform()
    assert driver.switch_to.active_element.get_attribute("name") == "password", "Tab from username did not reach password"
    old = driver.find_element(By.TAG_NAME, "html")
    ActionChains(driver).send_keys(ALICE_PASSWORD).send_keys(Keys.ENTER).perform()
    browser.wait(gone(old), message="Enter did not submit the login form")
    assert browser.path == "/keys", f"{browser.path}:\n{browser.text[:2000]}"
    assert driver.get_cookie("dinf_session")


# --- the device grant, with the real CLI polling ------------------------------------------------------

def test_device_approval_logs_the_cli_in(server, alice, web_login):
    login = web_login()
    code = login.user_code()

    alice.open("/device")
    assert alice.path.startswith("/device"), alice.path
    alice.shoot("device")
    alice.fill("user_code", code)
    alice.submit_form_of(alice.field("user_code"))
    assert alice.path.startswith("/device"), alice.path
    confirm_text = alice.text
    assert code in confirm_text, f"the confirmation page does not show the code {code}:\n{confirm_text}"
    for scope in ("keys:read", "projects:read"):
        assert scope in confirm_text, f"the confirmation page does not show the asked scope {scope}:\n{confirm_text}"
    alice.shoot("device-confirm")

    alice.click_and_wait(alice.button("approve"))
    assert "approved" in alice.text.lower(), alice.text
    alice.shoot("device-done")

    assert login.wait() == 0, f"dev-infra login --web failed:\n{login.stderr}"
    token = login.run("token")
    assert token.returncode == 0, token.stderr
    key = token.stdout.strip()
    found = RAW_KEY.fullmatch(key)
    assert found, f"dev-infra token printed {key!r}"
    me = whoami(server, key)
    assert me.status == 200, me.text
    assert me.json()["user"] == "alice"
    assert me.json()["key_id"] == found.group(1)

    # The key is alice's personal key named after the machine, and the page showed that machine.
    shown = http("GET", f"{server.url}/v1/keys/{found.group(1)}", headers=bearer(server.admin_key))
    assert shown.status == 200, shown.text
    name = shown.json()["name"]
    assert name.startswith("dev-infra CLI on "), name
    assert shown.json()["owner"] == "alice"
    machine = name.removeprefix("dev-infra CLI on ")
    assert machine in confirm_text, f"the confirmation page does not name the machine {machine!r}:\n{confirm_text}"

    alice.open("/keys")
    assert name in alice.text


def test_device_denial_makes_the_cli_exit_3(server, open_browser, web_login):
    login = web_login()
    code = login.user_code()
    # The URL that fills the code in, as the CLI prints it; signed out, it goes through /login and back.
    target = login.complete_uri() or f"{server.url}/device?user_code={code}"
    browser = open_browser()
    browser.driver.get(target)
    assert browser.path.startswith("/login"), browser.path
    browser.sign_in("alice", ALICE_PASSWORD)
    assert browser.path.startswith("/device"), f"after sign-in, not back on /device: {browser.path}"
    assert code in browser.text, browser.text

    browser.click_and_wait(browser.button("deny"))
    assert "denied" in browser.text.lower(), browser.text

    assert login.wait() == 3, f"expected exit 3; stderr:\n{login.stderr}"
    assert "[access_denied]" in login.stderr, login.stderr
    token = login.run("token")
    assert token.returncode != 0, "a denied login stored a key"


# --- keys: create, use, revoke -----------------------------------------------------------------------

def create_key(browser, name: str, scope: str = "projects:read", team: str | None = "web") -> str:
    """Fills /keys' create form (name, one scope ticked, team) and returns the raw key the answer shows."""
    browser.open("/keys")
    name_field = browser.driver.find_element(By.CSS_SELECTOR, "form input[name=name]")
    form = name_field.find_element(By.XPATH, "./ancestor::form")
    name_field.clear()
    name_field.send_keys(name)
    for box in form.find_elements(By.CSS_SELECTOR, "input[type=checkbox][name=scopes]"):
        if (box.get_attribute("value") == scope) != box.is_selected():
            box.click()
    assert form.find_element(By.CSS_SELECTOR, f"input[type=checkbox][name=scopes][value='{scope}']").is_selected()
    if team is not None:
        try:
            field = form.find_element(By.NAME, "team")
        except NoSuchElementException:
            field = None
        if field is not None and field.tag_name == "select":
            Select(field).select_by_value(team)
        elif field is not None:
            field.clear()
            field.send_keys(team)
    browser.submit_form_of(name_field)
    found = RAW_KEY.search(browser.source)
    assert found, f"no raw key on the page after creating {name!r}:\n{browser.text[:2000]}"
    return found.group(0)


def test_create_use_and_revoke_a_key(server, alice):
    alice.open("/keys")
    alice.shoot("keys")

    key = create_key(alice, "browser-made key")
    key_id = RAW_KEY.fullmatch(key).group(1)
    copy = alice.driver.find_elements(
        By.XPATH, "//button[contains(translate(normalize-space(.), 'COPY', 'copy'), 'copy')]")
    assert copy, "no copy button beside the new key"
    alice.shoot("key-created")

    me = whoami(server, key)
    assert me.status == 200, me.text
    assert me.json()["key_id"] == key_id
    assert "projects:read" in me.json()["scopes"]

    # Shown once: the list has the key's id, never its secret.
    alice.open("/keys")
    assert key_id in alice.source
    assert key not in alice.source

    # Revoke through the confirmation page: a link (GET /keys/{id}/revoke) or a GET form's button.
    revoke = alice.driver.find_elements(
        By.XPATH, f"//a[contains(@href, '/keys/{key_id}/revoke')] | //form[contains(@action, '/keys/{key_id}/revoke')]//button")
    assert revoke, f"no revoke link or button for {key_id} on /keys"
    alice.click_and_wait(revoke[0])
    assert alice.path.startswith(f"/keys/{key_id}/revoke"), alice.path
    assert key_id in alice.text and "revoke" in alice.text.lower(), alice.text
    alice.shoot("revoke-confirm")
    try:
        alice.fill("reason", "revoked from the browser test")
    except NoSuchElementException:
        pytest.fail("no reason field (name=reason) on the revoke confirmation page")
    alice.submit_form_of(alice.field("reason"))
    assert "revoked" in alice.text.lower(), alice.text

    denied = whoami(server, key)
    assert denied.status == 401, denied.text
    assert denied.json()["code"] == "key_revoked", denied.text


def test_forged_form_posts_are_refused(server, alice):
    cookie = alice.session_cookie()
    alice.open("/keys")
    token = alice.csrf_token()
    assert token
    form = {"name": "forged key", "scopes": "projects:read", "team": "web"}
    origin = {"Origin": server.url, "Referer": server.url + "/keys"}

    forged = http("POST", server.url + "/keys", headers={**cookie_header(cookie), **origin}, form=form)
    assert forged.status == 403, f"a POST without the csrf token answered {forged.status}:\n{forged.text[:1000]}"
    wrong = http("POST", server.url + "/keys", headers={**cookie_header(cookie), **origin},
                 form={**form, "csrf": "A" * len(token)})
    assert wrong.status == 403, f"a POST with a wrong csrf token answered {wrong.status}"
    logout = http("POST", server.url + "/logout", headers={**cookie_header(cookie), **origin})
    assert logout.status == 403, f"a logout without the csrf token answered {logout.status}"
    approve = http("POST", server.url + "/device/approve", headers={**cookie_header(cookie), **origin},
                   form={"user_code": "BCDF-GHJK"})
    assert approve.status == 403, f"a device approval without the csrf token answered {approve.status}"

    alice.open("/keys")
    assert alice.path == "/keys", "the forged logout ended the session"
    assert "forged key" not in alice.text

    # The same request with the session's token goes through: it was the token that was missing.
    made = http("POST", server.url + "/keys", headers={**cookie_header(cookie), **origin},
                form={**form, "name": "key with the token", "csrf": token})
    assert made.status in (200, 201, 303), f"with the token: {made.status}\n{made.text[:1000]}"


def test_logout_ends_the_session(server, open_browser):
    browser = open_browser()
    browser.sign_in("alice", ALICE_PASSWORD)
    cookie = browser.session_cookie()
    buttons = browser.driver.find_elements(By.XPATH, "//form[contains(@action, '/logout')]//button")
    assert buttons, "no logout form (action /logout) with a button on /keys"
    browser.click_and_wait(buttons[0])
    after = http("GET", server.url + "/keys", headers=cookie_header(cookie))
    assert after.status == 303 and location_path(after) == "/login", f"the old session still works: {after.status}"


def test_pages_work_without_javascript(server, open_browser):
    browser = open_browser(javascript=False)
    browser.sign_in("alice", ALICE_PASSWORD)
    key = create_key(browser, "made without javascript")
    assert whoami(server, key).status == 200


# --- admins ------------------------------------------------------------------------------------------

def test_audit_page_for_admins(server, open_browser, alice):
    browser = open_browser()
    browser.sign_in("root", ROOT_PASSWORD)
    browser.open("/audit")
    assert browser.path.startswith("/audit"), browser.path
    assert "key.created" in browser.text, browser.text[:2000]
    assert "key.revoked" in browser.text, browser.text[:2000]
    browser.shoot("audit")

    # Not for alice.
    refused = http("GET", server.url + "/audit", headers=cookie_header(alice.session_cookie()))
    assert refused.status in (403, 404), f"alice's /audit answered {refused.status}"


# --- what every page above had to satisfy (keep these last) -----------------------------------------

def test_no_content_security_policy_violations(findings, open_browser):
    for browser in open_browser.all:
        browser.collect_console()
    assert not findings.csp_violations, "\n".join(findings.csp_violations)


def test_pages_fit_a_phone_width(findings):
    assert not findings.phone_overflows, "\n".join(findings.phone_overflows)


def test_every_input_has_a_label(findings):
    assert not findings.unlabelled_inputs, "\n".join(findings.unlabelled_inputs)


def test_no_assets_from_elsewhere(findings):
    assert not findings.external_assets, "\n".join(findings.external_assets)


def test_every_page_was_shot_at_both_widths(findings):
    expected = {f"{page}-{width}.png" for page in PAGES for width in ("desktop", "phone")}
    missing = sorted(name for name in expected if name not in findings.screenshots or not (SCREENSHOTS / name).is_file())
    assert not missing, f"screenshots not saved under {SCREENSHOTS}: {missing}"
