"""The expert's Availability Management page in headless Chromium, against a live availd and
the Calendly stand-in: connect with Calendly (OAuth through the stand-in's page), tick two
event types, their slots, disconnect; sign in, a bad link (error shown), a good link (the event type's name
shown), a signed delivery arriving while the page is open (the appointment appears without a
reload), disconnect, the own-schedule editor, sign out; on a desktop and on a phone-sized
screen. Each step saves a screenshot under SCREENSHOTS (default .build/screenshots).

Run by scripts/browser-test.sh (make test); the binaries come from AVAILD_BIN_DIR.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("AVAILD_BIN_DIR", ROOT / ".build" / "debug"))
SHOTS = Path(os.environ.get("SCREENSHOTS", ROOT / ".build" / "screenshots"))
SIGNING_KEY = "browser-signing-key"
ADMIN = "browser-admin-token"
CLIENT_ID, CLIENT_SECRET = "browser-app", "browser-app-secret"


def start(command, prefix):
    """Starts a process and returns it with the URL it prints after `prefix`."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = process.stdout.readline()
        if line.startswith(prefix):
            return process, line[len(prefix):].strip()
        if process.poll() is not None:
            break
    process.kill()
    raise RuntimeError(f"{command[0]} did not print {prefix!r}")


def call(method, url, body=None, token=ADMIN):
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def signed_delivery(base, name):
    """Ada's fixture booking, made new and upcoming, signed and POSTed as Calendly would."""
    fixture = ROOT / "fixtures/deliveries/01-bookings/01-invitee-created-ada-zoom-lukas-becker.json"
    body = json.loads(fixture.read_text())
    start_time = (datetime.now(timezone.utc) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    event = str(uuid.uuid4())
    payload = body["payload"]
    payload["name"], payload["first_name"], payload["last_name"] = name, name.split()[0], name.split()[1]
    payload["email"] = "browser.tester@example.org"
    payload["uri"] = f"https://api.calendly.com/scheduled_events/{event}/invitees/{uuid.uuid4()}"
    payload["event"] = f"https://api.calendly.com/scheduled_events/{event}"
    payload["scheduled_event"]["uri"] = payload["event"]
    payload["scheduled_event"]["start_time"] = start_time.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    payload["scheduled_event"]["end_time"] = (start_time + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    body["created_at"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    raw = json.dumps(body).encode()
    stamp = str(int(time.time()))
    signature = hmac.new(SIGNING_KEY.encode(), stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    request = urllib.request.Request(f"{base}/webhooks/calendly", data=raw, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("Calendly-Webhook-Signature", f"t={stamp},v1={signature}")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202, response.status


class SettingsPageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        SHOTS.mkdir(parents=True, exist_ok=True)
        cls.folder = tempfile.TemporaryDirectory()
        cls.stand_in, calendly = start(
            [str(BIN / "availd-sim"), "calendly", "--port", "0", "--state", "fixtures/calendly-api/state.json"],
            "calendly stand-in listening on ")
        cls.daemon, cls.base = start(
            [str(BIN / "availd"), "serve", "--port", "0", "--database", f"{cls.folder.name}/availd.sqlite",
             "--signing-key", SIGNING_KEY, "--admin-token", ADMIN,
             "--calendly-api", calendly, "--calendly-token", "calendly-token-admin", "--calendly-window-days", "7",
             "--calendly-auth", calendly, "--calendly-client-id", CLIENT_ID, "--calendly-client-secret", CLIENT_SECRET],
            "availd listening on ")
        # The stand-in's OAuth app redirects to this daemon's callback (its port is known now).
        register = urllib.request.Request(
            f"{calendly}/_sim/oauth/apps", method="POST", headers={"Content-Type": "application/json"},
            data=json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                             "redirect_uris": [f"{cls.base}/oauth/calendly/callback"]}).encode())
        urllib.request.urlopen(register, timeout=10).read()
        call("PUT", f"{cls.base}/experts/ada",
             {"name": "Ada Lovelace", "email": "ada.lovelace@experts.example", "timezone": "Europe/London"})
        cls.token = call("POST", f"{cls.base}/experts/ada/tokens", {"label": "browser test"})["token"]
        # Katherine's Calendly account is in another organization: she connects it herself.
        call("PUT", f"{cls.base}/experts/katherine",
             {"name": "Katherine Johnson", "email": "katherine.johnson@orbits.example", "timezone": "America/New_York"})
        cls.katherine = call("POST", f"{cls.base}/experts/katherine/tokens", {"label": "browser test"})["token"]

        options = webdriver.ChromeOptions()
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         "--window-size=1280,1000", "--lang=en-GB"):
            options.add_argument(argument)
        binary = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        if Path(binary).exists():
            options.binary_location = binary
        service = webdriver.ChromeService(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
        cls.browser = webdriver.Chrome(options=options, service=service)
        # The page re-renders parts of itself (after a change, on the stream's news): an element
        # found on one poll may be gone by the next, so every wait finds its elements afresh on
        # each poll and takes a stale or missing element as "not yet" (Chromium also reports an
        # element that a reload removed between finding and reading it as a bare
        # WebDriverException, "Node with given id does not belong to the document").
        cls.wait = WebDriverWait(cls.browser, 15, ignored_exceptions=[
            StaleElementReferenceException, NoSuchElementException, WebDriverException])

    @classmethod
    def tearDownClass(cls):
        cls.browser.quit()
        for process in (cls.daemon, cls.stand_in):
            process.terminate()
            process.wait(timeout=30)
        cls.folder.cleanup()

    def shot(self, name):
        """The whole page, not only the window: Chromium's capture beyond the viewport."""
        metrics = self.browser.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = metrics["cssContentSize"]
        picture = self.browser.execute_cdp_cmd("Page.captureScreenshot", {
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        })
        (SHOTS / f"{name}.png").write_bytes(base64.b64decode(picture["data"]))

    def page(self):
        return f"{self.base}/experts/ada/availability-settings"

    def until(self, condition, what):
        """Waits until `condition(browser)` holds, evaluated afresh on every poll."""
        return self.wait.until(condition, f"timed out waiting for {what}")

    def wait_for_text(self, by, value, expected, exact=False):
        """Waits until the element's text contains (or is) `expected`, re-finding it each poll."""
        def holds(browser):
            text = browser.find_element(by, value).text
            return text == expected if exact else expected in text
        self.until(holds, f"{value} to show {expected!r}")

    def wait_for_value(self, by, value, attribute, expected):
        """Waits until the element's `attribute` is `expected`, re-finding it each poll."""
        self.until(lambda browser: browser.find_element(by, value).get_attribute(attribute) == expected,
                   f"{value}'s {attribute} to be {expected!r}")

    def act(self, by, value, action):
        """Finds the element and does `action` to it, again if a re-render replaced it first."""
        return self.until(lambda browser: action(browser.find_element(by, value)) or True, f"{value} to take an action")

    def test_calendar_feed_card(self):
        """Subscribe in my calendar: a secret address shown once, which a calendar app reads
        without any token, listed, then revoked (after the confirmation) and gone."""
        browser, wait = self.browser, self.wait
        browser.get(f"{self.base}/experts/katherine/availability-settings")
        self.act(By.ID, "token", lambda field: field.send_keys(self.katherine, Keys.ENTER))
        wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Availability Management"))
        self.assertTrue(browser.find_element(By.ID, "no-feeds").is_displayed())
        self.act(By.ID, "create-feed", lambda button: button.click())
        wait.until(EC.visibility_of_element_located((By.ID, "new-feed")))
        address = browser.find_element(By.ID, "new-feed-url").get_attribute("value")
        self.assertRegex(address, rf"^{re.escape(self.base)}/calendar/[A-Za-z0-9_-]+\.ics$")
        self.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#feeds li")) == 1, "the new address in the list")
        self.assertFalse(browser.find_element(By.ID, "no-feeds").is_displayed())
        self.assert_every_control_is_labelled()
        self.shot("00e-calendar-feed")
        # A calendar app subscribes with the address alone.
        with urllib.request.urlopen(address, timeout=10) as response:
            self.assertEqual(response.status, 200)
            self.assertTrue(response.headers["Content-Type"].startswith("text/calendar"))
            self.assertTrue(response.read().startswith(b"BEGIN:VCALENDAR\r\n"))
        # Revoked: gone from the list, and the address answers 404.
        self.act(By.CSS_SELECTOR, "#feeds li .revoke-feed", lambda button: button.click())
        wait.until(EC.alert_is_present()).accept()
        self.until(lambda b: not b.find_elements(By.CSS_SELECTOR, "#feeds li"), "the address to leave the list")
        self.assertTrue(browser.find_element(By.ID, "no-feeds").is_displayed())
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(address, timeout=10)
        self.assertEqual(refused.exception.code, 404)
        browser.delete_all_cookies()

    def test_connect_with_calendly(self):
        """Connect with Calendly → Approve on the stand-in's page → back, connected, event types
        listed → tick two → availability shows both → Disconnect."""
        browser, wait = self.browser, self.wait
        page = f"{self.base}/experts/katherine/availability-settings"
        browser.get(page)
        self.act(By.ID, "token", lambda field: field.send_keys(self.katherine, Keys.ENTER))
        wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Availability Management"))
        self.act(By.ID, "connect-calendly", lambda link: link.click())

        # The stand-in's authorize page: who is signed in at Calendly, and Approve.
        wait.until(EC.presence_of_element_located((By.ID, "approve")))
        self.shot("00a-calendly-authorize")
        self.act(By.CSS_SELECTOR, "#user option[value=katherine-johnson]", lambda option: option.click())
        self.act(By.ID, "approve", lambda button: button.click())

        # Back on the settings page: connected, her event types listed, none offered yet.
        wait.until(EC.presence_of_element_located((By.ID, "calendly-account")))
        self.assertEqual(browser.current_url, page)
        self.assertEqual(browser.find_element(By.ID, "calendly-account").get_attribute("data-status"), "connected")
        self.wait_for_text(By.ID, "account-name", "Katherine Johnson")
        labels = [box.find_element(By.XPATH, "..").text for box in browser.find_elements(By.CSS_SELECTOR, "#event-types-form input[name=event_type]")]
        self.assertEqual(len(labels), 2, labels)
        self.assertTrue(any("Quick Call · 20 minutes" in label for label in labels), labels)
        self.assertTrue(any("Orbital Review · 50 minutes" in label for label in labels), labels)
        self.assert_every_control_is_labelled()
        self.shot("00b-calendly-connected")

        # Tick both and offer them: the next free slots list both, each by name.
        for box in browser.find_elements(By.CSS_SELECTOR, "#event-types-form input[name=event_type]"):
            if not box.is_selected():
                box.click()
        self.act(By.ID, "save-event-types", lambda button: button.click())
        wait.until(EC.text_to_be_present_in_element((By.ID, "integration-status"), "Calendly"))
        boxes = lambda b: b.find_elements(By.CSS_SELECTOR, "#event-types-form input[name=event_type]")
        self.until(lambda b: len(boxes(b)) == 2 and all(box.is_selected() for box in boxes(b)), "both ticks to stay after the reload")
        slots = lambda b: " ".join(item.text for item in b.find_elements(By.CSS_SELECTOR, ".slots li"))
        self.until(lambda b: "Quick Call" in slots(b) and "Orbital Review" in slots(b), "slots of both event types")
        offered = call("GET", f"{self.base}/experts/katherine")["calendly"]["event_types"]
        self.assertEqual(sorted(item["name"] for item in offered), ["Orbital Review", "Quick Call"])
        self.shot("00c-calendly-two-event-types")

        # Disconnect (after the confirmation): the account is gone, the button is back.
        self.act(By.ID, "disconnect", lambda button: button.click())
        wait.until(EC.alert_is_present()).accept()
        wait.until(EC.presence_of_element_located((By.ID, "connect-calendly")))
        self.assertIsNone(call("GET", f"{self.base}/experts/katherine")["calendly"])
        self.shot("00d-calendly-disconnected")
        browser.delete_all_cookies()

    def test_the_whole_flow(self):
        browser, wait = self.browser, self.wait

        # Signed out: the sign-in form, and a wrong token is refused on the form.
        browser.get(self.page())
        self.shot("01-sign-in")
        self.act(By.ID, "token", lambda field: field.send_keys("availd_not_a_real_token", Keys.ENTER))
        wait.until(EC.visibility_of_element_located((By.ID, "token-error")))
        self.wait_for_text(By.ID, "token-error", "does not sign in")

        # The expert's token signs in (typed and submitted with the keyboard).
        self.act(By.ID, "token", lambda field: field.send_keys(self.token, Keys.ENTER))
        wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Availability Management"))
        self.wait_for_text(By.ID, "integration-status", "not connected")
        self.wait_for_text(By.ID, "no-appointments", "Nothing booked yet.", exact=True)
        self.assert_every_control_is_labelled()
        self.shot("02-signed-in")

        # A link that is not a Calendly event link: the API's message beside the field.
        submit = (By.CSS_SELECTOR, "#calendly-form button[type=submit]")
        self.act(By.ID, "event-link", lambda link: link.send_keys("https://example.com/ada/30min"))
        self.act(*submit, lambda button: button.click())
        wait.until(EC.visibility_of_element_located((By.ID, "event-link-error")))
        self.wait_for_text(By.ID, "event-link-error", "event_link")
        self.wait_for_value(By.ID, "event-link", "aria-invalid", "true")
        self.shot("03-bad-link")

        # A well-formed link Calendly does not know: its 404 shown the same way.
        self.act(By.ID, "event-link", lambda link: (link.clear(), link.send_keys("https://calendly.com/ada-lovelace/no-such-event")))
        self.act(*submit, lambda button: button.click())
        wait.until(EC.text_to_be_present_in_element((By.ID, "event-link-error"), "no Calendly event type"))
        self.shot("04-unknown-link")

        # The real link: connected, with the event type's name and length from Calendly.
        self.act(By.ID, "event-link", lambda link: (link.clear(), link.send_keys("https://calendly.com/ada-lovelace/30min")))
        self.act(*submit, lambda button: button.click())
        wait.until(EC.visibility_of_element_located((By.ID, "event-type-name")))
        self.wait_for_text(By.ID, "event-type-name", "30 Minute Meeting", exact=True)
        self.wait_for_text(By.ID, "event-type-duration", "30 minutes", exact=True)
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".slots li")))
        self.shot("05-connected")

        # A delivery arrives while the page is open: the appointment appears, no reload.
        wait.until(EC.text_to_be_present_in_element((By.ID, "live"), "live"))
        browser.execute_script("window.sameDocument = 'yes'")
        signed_delivery(self.base, "Browser Tester")
        wait.until(EC.text_to_be_present_in_element((By.ID, "appointments"), "Browser Tester"))
        self.assertEqual(browser.execute_script("return window.sameDocument"), "yes", "the page was reloaded")
        self.wait_for_text(By.XPATH, "//tr[td[contains(., 'Browser Tester')]]", "Scheduled")
        self.shot("06-live-appointment")

        # Disconnect, after confirming.
        self.act(By.ID, "disconnect", lambda button: button.click())
        wait.until(EC.alert_is_present()).accept()
        wait.until(EC.text_to_be_present_in_element((By.ID, "integration-status"), "not connected"))
        self.wait_for_text(By.ID, "appointments", "Browser Tester")  # appointments stay
        self.shot("07-disconnected")

        # Own schedule: weekdays 10:00-12:00, Monday also 14:00-16:00, the weekend off, a day
        # off, another zone.
        self.act(By.CSS_SELECTOR, "input[name=integration][value=native]", lambda radio: radio.click())
        wait.until(EC.visibility_of_element_located((By.ID, "native-form")))
        # The editing is done in one script each (nothing held between steps that a re-render
        # could replace): hours, Monday's second interval, a day off.
        browser.execute_script(
            "document.getElementById('timezone').value = 'Europe/Berlin';"
            "for (const input of document.querySelectorAll('[data-wday] .from')) input.value = '10:00';"
            "for (const input of document.querySelectorAll('[data-wday] .to')) input.value = '12:00';")
        intervals = (By.CSS_SELECTOR, "[data-wday=monday] .interval")
        before = len(browser.find_elements(*intervals))
        self.act(By.CSS_SELECTOR, "[data-wday=monday] .add-interval", lambda button: button.click())
        self.until(lambda browser: len(browser.find_elements(*intervals)) == before + 1, "Monday's new interval")
        browser.execute_script(
            "const afternoon = [...document.querySelectorAll('[data-wday=monday] .interval')].pop();"
            "afternoon.querySelector('.from').value = '14:00'; afternoon.querySelector('.to').value = '16:00';")
        self.act(By.ID, "add-override", lambda button: button.click())
        self.until(lambda browser: browser.find_elements(By.CSS_SELECTOR, "#overrides li"), "a day off to edit")
        browser.execute_script("[...document.querySelectorAll('#overrides li')].pop().querySelector('.date').value = '2030-12-24'")
        self.act(By.CSS_SELECTOR, "#overrides li:last-child .off", lambda box: box.click())
        self.shot("08-own-schedule-editing")
        native_submit = (By.CSS_SELECTOR, "#native-form button[type=submit]")
        self.act(*native_submit, lambda button: button.click())
        wait.until(EC.text_to_be_present_in_element((By.ID, "integration-status"), "my own schedule"))
        self.wait_for_value(By.ID, "timezone", "value", "Europe/Berlin")

        def monday(browser):
            return [(span.find_element(By.CSS_SELECTOR, ".from").get_attribute("value"),
                     span.find_element(By.CSS_SELECTOR, ".to").get_attribute("value"))
                    for span in browser.find_elements(By.CSS_SELECTOR, "[data-wday=monday] .interval")]
        self.until(lambda browser: monday(browser) == [("10:00", "12:00"), ("14:00", "16:00")], "Monday's two intervals")
        schedule = call("GET", f"{self.base}/experts/ada")["native_schedule"]
        self.assertIn({"type": "wday", "wday": "monday", "intervals": [{"from": "10:00", "to": "12:00"}, {"from": "14:00", "to": "16:00"}]},
                      schedule["rules"])
        self.wait_for_value(By.CSS_SELECTOR, "#overrides .date", "value", "2030-12-24")
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".slots li")))
        self.shot("09-own-schedule")

        # A bad schedule: the API's message, naming the field.
        browser.execute_script("document.querySelector('[data-wday=monday] .to').value = '08:00'")
        self.act(*native_submit, lambda button: button.click())
        wait.until(EC.visibility_of_element_located((By.ID, "native-error")))
        self.wait_for_text(By.ID, "native-error", "schedule.rules")

        # A phone-sized screen: nothing wider than the screen.
        browser.set_window_size(390, 844)
        browser.get(self.page())
        wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Availability Management"))
        overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        wide = browser.execute_script(
            "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
            ".slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)")
        self.assertLessEqual(overflow, 0, f"the page scrolls sideways on a phone: {wide}")
        self.shot("10-phone")
        browser.set_window_size(1280, 1000)

        # Sign out: the sign-in form again, and the API no longer answers the cookie.
        self.act(By.CSS_SELECTOR, "header form button", lambda button: button.click())
        wait.until(EC.presence_of_element_located((By.ID, "token")))
        self.assertEqual(browser.get_cookie("availd_session"), None)
        self.shot("11-signed-out")

    def assert_every_control_is_labelled(self):
        unlabelled = self.browser.execute_script(
            "return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]"
            ".filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.outerHTML)")
        self.assertEqual(unlabelled, [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
