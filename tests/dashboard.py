#!/usr/bin/python3
"""tests/dashboard.py - drive the HQ dashboard in headless Chromium.

    dashboard.py --url URL --name ADMIN --password PW --out DIR --facts FILE
                 [--date D] [--map-territory T] [--resolve-field F]
                 [--accept TEXT] [--discard TEXT]

Talks to Chromium over the DevTools protocol on a pipe
(--remote-debugging-pipe: NUL-separated JSON on fds 3 and 4), so it needs
nothing but the Python standard library and Debian's chromium. As a person
would: opens the dashboard without a session (and lands on the login page),
signs in with a wrong and then the right password, opens every page,
reads what the DOM shows, takes a screenshot of each page into DIR, uses
the sort and filter controls, accepts and discards quarantined records and
keeps the other value of a conflict with the page's own buttons, and signs
out. What it saw goes to FILE as JSON for the shell test to check.
"""
import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


class Browser:
    def __init__(self, binary, width, height):
        self.profile = tempfile.mkdtemp(prefix="fieldsync-chromium.")
        to_chrome_r, self.to_chrome_w = os.pipe()
        self.from_chrome_r, from_chrome_w = os.pipe()

        def fds():
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--no-default-browser-check", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-extensions",
                "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
                "--force-color-profile=srgb", "--lang=en-US", "--disable-dev-shm-usage",
                "--remote-debugging-pipe", "--user-data-dir=" + self.profile, "about:blank"]
        self.proc = subprocess.Popen(args, preexec_fn=fds, close_fds=False, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf = b""
        self.next_id = 0
        self.session = None
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    def call(self, method, params=None, timeout=30):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if self.session and not method.startswith("Target."):
            msg["sessionId"] = self.session
        os.write(self.to_chrome_w, json.dumps(msg).encode() + b"\0")
        end = time.time() + timeout
        while True:
            while b"\0" not in self.buf:
                if time.time() > end:
                    raise RuntimeError(method + ": no answer from Chromium")
                chunk = os.read(self.from_chrome_r, 1 << 20)
                if not chunk:
                    raise RuntimeError(method + ": Chromium went away")
                self.buf += chunk
            raw, self.buf = self.buf.split(b"\0", 1)
            m = json.loads(raw)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(method + ": " + json.dumps(m["error"]))
                return m.get("result", {})

    def eval(self, expr):
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in r:
            raise RuntimeError("script failed: " + json.dumps(r["exceptionDetails"])[:500])
        return r["result"].get("value")

    def wait(self, expr, what, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            try:
                v = self.eval(expr)
                if v:
                    return v
            except RuntimeError:
                pass  # a navigation destroyed the context: try again
            time.sleep(0.05)
        raise RuntimeError("timed out waiting for " + what + " at " + str(self.eval("location.href")))

    def goto(self, url):
        self.call("Page.navigate", {"url": url})
        return self.settle()

    def settle(self):
        """Wait for a page: the login form, or a dashboard page that has drawn."""
        self.wait("document.readyState === 'complete' && (location.pathname === '/admin/login'"
                  " || (document.body && document.body.dataset.ready === '1'))", "the page")
        return self.eval("location.pathname")

    def screenshot(self, path):
        png = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(png))

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


# What the DOM of a dashboard page shows: tables (rows shown / before
# filtering), overview tiles, the map, the flash message, errors.
FACTS_JS = r"""(() => {
  const f = { path: location.pathname, page: document.body.dataset.page || null,
              error: document.body.dataset.error || null, tables: {}, tiles: {} };
  for (const t of document.querySelectorAll('table[id]'))
    f.tables[t.id] = { rows: t.dataset.rows !== undefined ? +t.dataset.rows : t.tBodies[0].rows.length,
                       total: t.dataset.total !== undefined ? +t.dataset.total : null,
                       planned: t.dataset.planned !== undefined ? +t.dataset.planned : null,
                       done: t.dataset.done !== undefined ? +t.dataset.done : null };
  for (const t of document.querySelectorAll('.tile[id]'))
    f.tiles[t.id.replace(/^tile-/, '')] = t.dataset.value;
  const m = document.getElementById('map-svg');
  if (m) f.map = { customers: +m.dataset.customers, stops: +m.dataset.stops,
                   circles: m.querySelectorAll('circle.cust').length, overdue: m.querySelectorAll('circle.cust.overdue').length,
                   markers: m.querySelectorAll('g.stop').length, route: !!m.querySelector('polyline.route'),
                   xml: new XMLSerializer().serializeToString(m) };
  f.cards = document.querySelectorAll('#territories .card').length;
  f.minimaps = document.querySelectorAll('#territories svg').length;
  const fl = document.getElementById('flash');
  f.flash = fl ? fl.textContent : null;
  f.badges = { quarantine: (document.getElementById('badge-quarantine') || {}).textContent || '',
               conflicts: (document.getElementById('badge-conflicts') || {}).textContent || '' };
  f.who = (document.getElementById('who') || {}).textContent || null;
  f.overdue_rows = document.querySelectorAll('#customers tbody tr.overdue').length;
  f.fresh_rows = document.querySelectorAll('#devices tbody tr.fresh').length;
  f.accept_buttons = document.querySelectorAll('#quarantine button[data-act=accept]').length;
  f.keep_buttons = document.querySelectorAll('#conflicts button[data-keep]').length;
  return JSON.stringify(f);
})()"""


def facts(b):
    return json.loads(b.eval(FACTS_JS))


def click_in_row(b, table, text, selector):
    """Click `selector` inside the first row of #table whose text contains `text`."""
    js = ("(() => { for (const tr of document.querySelectorAll('#%s tbody tr'))"
          " if (tr.textContent.includes(%s)) { const x = tr.querySelector(%s); if (x) { x.click(); return true; } }"
          " return false; })()") % (table, json.dumps(text), json.dumps(selector))
    if not b.eval(js):
        raise RuntimeError("no %s in a row of #%s with %r" % (selector, table, text))


def wait_flash(b, before):
    b.wait("(() => { const f = document.getElementById('flash'); return f && f.textContent && f.textContent !== %s; })()"
           % json.dumps(before or ""), "the page's answer")
    b.wait("document.body.dataset.ready === '1'", "the page")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--facts", required=True)
    ap.add_argument("--date")
    ap.add_argument("--map-territory")
    ap.add_argument("--resolve-field")
    ap.add_argument("--accept")
    ap.add_argument("--discard")
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM", "chromium"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    out = {}
    b = Browser(a.chromium, 1280, 900)
    try:
        base = a.url.rstrip("/")
        # no session: the dashboard sends the browser to the login page
        out["no_session"] = b.goto(base + "/admin/devices")
        b.screenshot(os.path.join(a.out, "login.png"))
        # a wrong password: the form again, with a message
        b.eval("document.getElementById('name').value = %s; document.getElementById('password').value = 'wrong-password';"
               " document.getElementById('submit').click(); true" % json.dumps(a.name))
        b.wait("document.readyState === 'complete' && document.getElementById('error')"
               " && document.getElementById('error').textContent.length > 0", "the login error")
        out["wrong_password"] = {"path": b.eval("location.pathname"),
                                 "error": b.eval("document.getElementById('error').textContent")}
        # the right one
        b.eval("document.getElementById('name').value = %s; document.getElementById('password').value = %s;"
               " document.getElementById('submit').click(); true" % (json.dumps(a.name), json.dumps(a.password)))
        b.wait("location.pathname === '/admin/' && document.body.dataset.ready === '1'", "the overview after login")
        out["cookie_visible_to_js"] = b.eval("document.cookie.includes('fs_admin')")
        q = "?date=" + a.date if a.date else ""
        pages = [("overview", "/admin/"), ("devices", "/admin/devices"), ("quarantine", "/admin/quarantine"),
                 ("conflicts", "/admin/conflicts"), ("visits", "/admin/visits"), ("customers", "/admin/customers"),
                 ("map", "/admin/map?territory=%s%s" % (a.map_territory or "", "&date=" + a.date if a.date else "")),
                 ("log", "/admin/log")]
        for name, path in pages:
            b.goto(base + path)
            out[name] = facts(b)
            b.screenshot(os.path.join(a.out, name + ".png"))
            if name == "quarantine" and (a.accept or a.discard):
                if a.accept:
                    click_in_row(b, "quarantine", a.accept, "button[data-act=accept]")
                    wait_flash(b, "")
                    out["accepted"] = facts(b)
                if a.discard:
                    before = b.eval("document.getElementById('flash').textContent")
                    click_in_row(b, "quarantine", a.discard, "button[data-act=discard]")
                    wait_flash(b, before)
                    out["discarded"] = facts(b)
                # every decision taken: the "accepted" filter shows one row
                b.eval("{ const s = document.getElementById('quarantine-state'); s.value = 'accepted';"
                       " s.dispatchEvent(new Event('change')); } true")
                out["quarantine_accepted_filter"] = facts(b)["tables"]["quarantine"]
            if name == "conflicts" and a.resolve_field:
                click_in_row(b, "conflicts", a.resolve_field, "button[data-keep=other]")
                wait_flash(b, "")
                out["resolved"] = facts(b)
                b.screenshot(os.path.join(a.out, "conflicts-resolved.png"))
            if name == "customers":
                # the controls: filter to overdue, sort by name both ways, free-text filter
                b.eval("{ const s = document.getElementById('customers-overdue'); s.value = '1';"
                       " s.dispatchEvent(new Event('change')); } true")
                out["customers_overdue_filter"] = facts(b)["tables"]["customers"]
                b.eval("{ const s = document.getElementById('customers-overdue'); s.value = '';"
                       " s.dispatchEvent(new Event('change')); } true")
                names = "[...document.querySelectorAll('#customers tbody tr')].map(r => r.cells[1].textContent)"
                b.eval("[...document.querySelectorAll('#customers th')][1].click(); true")
                asc = b.eval(names)
                b.eval("[...document.querySelectorAll('#customers th')][1].click(); true")
                desc = b.eval(names)
                out["customers_sort"] = {
                    "asc_sorted": asc == b.eval("%s.slice().sort((a, b) => a.localeCompare(b))" % json.dumps(asc)),
                    "desc_is_reverse": desc == list(reversed(asc)),
                    "aria": b.eval("[...document.querySelectorAll('#customers th')][1].getAttribute('aria-sort')"),
                    "rows": len(asc)}
                b.eval("{ const s = document.getElementById('customers-filter'); s.value = %s;"
                       " s.dispatchEvent(new Event('input')); } true" % json.dumps(asc[0] if asc else "x"))
                out["customers_text_filter"] = facts(b)["tables"]["customers"]
        # sign out: the session is gone, the dashboard asks for a login again
        b.eval("document.getElementById('logout').click(); true")
        b.wait("location.pathname === '/admin/login' && document.readyState === 'complete'", "the login page after sign-out")
        out["after_logout"] = b.goto(base + "/admin/")
    finally:
        b.close()
        with open(a.facts, "w") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
