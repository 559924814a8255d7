#!/usr/bin/env python3
"""Opens an HTML file in headless Chromium, driven over the DevTools protocol
(the pipe transport: no network port, no extra Python packages), and checks
it as a person would use it: no console error or uncaught exception, the
plots drawn, the search box filtering users, a click opening a user's
drill-down. Saves a full-page screenshot. Exit 0 when every check passes.

  browser.py REPORT.html SCREENSHOT.png [--chromium PATH] [--user ID]
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


class DevTools:
    """A Chromium process and its DevTools protocol over fds 3 and 4."""

    def __init__(self, chromium, profile_dir):
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire():  # in the child: its fd 3 reads our commands, fd 4 answers
            read_end, write_end = os.dup(to_child_r), os.dup(from_child_w)  # out of the way of 3 and 4
            os.dup2(read_end, 3)  # dup2 leaves 3 and 4 inheritable across exec
            os.dup2(write_end, 4)

        self.proc = subprocess.Popen(
            [chromium, '--headless=new', '--remote-debugging-pipe', '--no-sandbox', '--disable-gpu',
             '--no-first-run', '--no-default-browser-check', '--disable-extensions', '--hide-scrollbars',
             f'--user-data-dir={profile_dir}', '--window-size=1280,1000', 'about:blank'],
            preexec_fn=wire, close_fds=False, stdout=subprocess.DEVNULL, stderr=open(os.environ.get("AVREC_CHROMIUM_LOG", os.devnull), "w"))
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b''
        self._next_id = 0
        self.events = []

    def _read_message(self, deadline):
        while b'\0' not in self._buffer:
            if time.time() > deadline:
                raise TimeoutError('no answer from Chromium')
            chunk = os.read(self._from_child, 1 << 16)
            if not chunk:
                raise RuntimeError('Chromium closed the DevTools pipe')
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b'\0', 1)
        return json.loads(raw)

    def call(self, method, params=None, session=None, timeout=30):
        self._next_id += 1
        message = {'id': self._next_id, 'method': method, 'params': params or {}}
        if session:
            message['sessionId'] = session
        os.write(self._to_child, json.dumps(message).encode() + b'\0')
        deadline = time.time() + timeout
        while True:
            m = self._read_message(deadline)
            if m.get('id') == self._next_id:
                if 'error' in m:
                    raise RuntimeError(f'{method}: {m["error"]}')
                return m.get('result', {})
            self.events.append(m)

    def wait_event(self, method, timeout=30):
        deadline = time.time() + timeout
        for i, e in enumerate(self.events):
            if e.get('method') == method:
                return self.events.pop(i)
        while True:
            m = self._read_message(deadline)
            if m.get('method') == method:
                return m
            self.events.append(m)

    def close(self):
        try:
            self.call('Browser.close', timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('report')
    ap.add_argument('screenshot')
    ap.add_argument('--chromium', default=shutil.which('chromium') or shutil.which('chromium-browser'))
    ap.add_argument('--user', help='a user id the drill-down must show')
    args = ap.parse_args()
    if not args.chromium:
        print('skipped: chromium is not installed (apt-get install chromium)')
        return 77
    failures = []
    profile = tempfile.mkdtemp(prefix='avrec-chromium-')
    browser = DevTools(args.chromium, profile)
    try:
        target = browser.call('Target.createTarget', {'url': 'about:blank'})['targetId']
        session = browser.call('Target.attachToTarget', {'targetId': target, 'flatten': True})['sessionId']
        for domain in ('Page.enable', 'Runtime.enable', 'Log.enable'):
            browser.call(domain, session=session)
        url = 'file://' + os.path.abspath(args.report)
        t0 = time.time()
        browser.call('Page.navigate', {'url': url}, session=session)
        browser.wait_event('Page.loadEventFired', timeout=60)
        load_seconds = time.time() - t0

        def js(expression):
            r = browser.call('Runtime.evaluate', {'expression': expression, 'returnByValue': True,
                                                  'awaitPromise': True}, session=session)
            if 'exceptionDetails' in r:
                raise RuntimeError(f'{expression}: {r["exceptionDetails"]}')
            return r['result'].get('value')

        def check(name, ok, detail=''):
            print(('ok   ' if ok else 'FAIL ') + name + (f': {detail}' if detail else ''))
            if not ok:
                failures.append(name)

        # The plots: SVG elements with drawn marks.
        for plot, mark in (('plot-sentiment', 'rect.bar'), ('plot-by-rating', 'g.box'), ('plot-longtail', 'rect'),
                           ('plot-scores', 'rect.bar')):
            n = js(f'(() => {{ const s = document.getElementById("{plot}"); '
                   f'return s ? s.querySelectorAll("{mark}").length : -1; }})()')
            check(f'plot {plot} drawn', n is not None and n > 0, f'{n} marks')
        tiles = js('document.querySelectorAll("#overview-tiles .tile").length')
        check('overview tiles', tiles >= 6, f'{tiles} tiles')
        # Chinese text is in the page as text (rendering is in the screenshot).
        check('Chinese text present', js('/[\\u4e00-\\u9fff]/.test(document.body.innerText)'))

        # Search: typing narrows the list of users; a click opens one.
        users = js('JSON.parse(document.getElementById("report-data").textContent).users.map(u => u.id)')
        check('users in the drill-down', bool(users), f'{len(users or [])} users')
        wanted = args.user or (users[len(users) // 2] if users else '')
        query = wanted[:max(1, len(wanted) - 1)]  # a prefix: several users match
        expected = [u for u in users if query.lower() in u.lower()][:60]
        shown = js(f'''(() => {{
            const box = document.getElementById("user-search");
            box.value = {json.dumps(query)};
            box.dispatchEvent(new Event("input", {{bubbles: true}}));
            return [...document.querySelectorAll("#user-list button")].map(b => b.dataset.user);
        }})()''')
        check('search filters the users', shown == expected and wanted in shown and len(shown) < len(users),
              f'{query!r}: {len(shown or [])} of {len(users)} shown')
        detail = js(f'''(() => {{
            const b = [...document.querySelectorAll("#user-list button")].find(x => x.dataset.user === {json.dumps(wanted)});
            if (!b) return null;
            b.click();
            const d = document.getElementById("user-detail");
            return {{title: d.querySelector("h3") ? d.querySelector("h3").textContent : "",
                     rows: d.querySelectorAll("table tbody tr").length,
                     selected: b.classList.contains("sel")}};
        }})()''')
        check('a click opens the drill-down', bool(detail) and detail['title'] == wanted and detail['rows'] > 0
              and detail['selected'], str(detail))
        none = js('''(() => {
            const box = document.getElementById("user-search");
            box.value = "no-such-user-\\u2603";
            box.dispatchEvent(new Event("input", {bubbles: true}));
            return document.getElementById("user-list").textContent; })()''')
        check('an unknown user says so', 'No user matches' in (none or ''), none)
        js(f'''(() => {{ const box = document.getElementById("user-search"); box.value = {json.dumps(wanted)};
            box.dispatchEvent(new Event("input", {{bubbles: true}})); return true; }})()''')

        # Screenshot of the whole page.
        metrics = browser.call('Page.getLayoutMetrics', session=session)
        size = metrics.get('cssContentSize') or metrics['contentSize']
        shot = browser.call('Page.captureScreenshot', {
            'format': 'png', 'captureBeyondViewport': True,
            'clip': {'x': 0, 'y': 0, 'width': size['width'], 'height': size['height'], 'scale': 1}}, session=session)
        os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
        with open(args.screenshot, 'wb') as f:
            f.write(base64.b64decode(shot['data']))
        print(f'screenshot: {args.screenshot} ({int(size["width"])} x {int(size["height"])} px)')

        # Console errors and uncaught exceptions, from the whole session.
        browser.call('Runtime.evaluate', {'expression': '1'}, session=session)  # flush pending events
        errors = []
        for e in browser.events:
            m, p = e.get('method'), e.get('params', {})
            if m == 'Runtime.exceptionThrown':
                errors.append(p['exceptionDetails'].get('text', '') + ' ' +
                              str(p['exceptionDetails'].get('exception', {}).get('description', '')))
            elif m == 'Runtime.consoleAPICalled' and p.get('type') in ('error', 'assert'):
                errors.append('console.' + p['type'] + ': ' + ' '.join(str(a.get('value', a.get('description')))
                                                                        for a in p.get('args', [])))
            elif m == 'Log.entryAdded' and p.get('entry', {}).get('level') == 'error':
                errors.append('log: ' + p['entry'].get('text', ''))
        check('no console errors', not errors, '; '.join(errors)[:2000])
        bytes_ = os.path.getsize(args.report)
        print(f'report: {bytes_ / 1024:.0f} kB, loaded and drawn in {load_seconds:.2f} s')
    finally:
        browser.close()
        shutil.rmtree(profile, ignore_errors=True)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
