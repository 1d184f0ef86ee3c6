#!/usr/bin/env python3
"""Browser test of `vision serve`'s web page (run by hand; CI does not need chromium).

Starts `vision serve` on a free loopback port (or uses --url), drives headless
Chromium (Debian's `chromium`) over the DevTools protocol, and checks what a
person would do and see:
  1. the page loads and lists the model in the picker;
  2. a sample image is uploaded through the page's own file input
     (DOM.setFileInputFiles, the same path as picking a file), and boxes appear
     over the image, as many as the API returns at or above the slider's 0.50;
  3. moving the slider to 0.90 hides every box (and table row) below 0.90,
     without a new request; moving it back shows them again;
  4. a screenshot is saved (default docs/serve.png).
Exit status 0 when every check passes. Standard library only (a minimal
websocket client for the DevTools connection).

  python3 Tests/Browser/serve_page_test.py [--vision .build/release/vision] [--screenshot docs/serve.png]
"""
import argparse, base64, json, os, re, shutil, socket, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class DevTools:
    """A DevTools-protocol session over a hand-rolled websocket (RFC 6455, client side)."""

    def __init__(self, ws_url):
        m = re.match(r"ws://([^/:]+):(\d+)(/.*)", ws_url)
        self.sock = socket.create_connection((m.group(1), int(m.group(2))), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {m.group(3)} HTTP/1.1\r\nHost: {m.group(1)}:{m.group(2)}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError(f"websocket handshake failed: {head!r}")
        self.next_id = 0
        self.events = []

    def _send(self, text):
        payload = text.encode()
        header = bytearray([0x81])
        n = len(payload)
        if n < 126:
            header.append(0x80 | n)
        elif n < 65536:
            header += bytes([0x80 | 126]) + n.to_bytes(2, "big")
        else:
            header += bytes([0x80 | 127]) + n.to_bytes(8, "big")
        mask = os.urandom(4)
        self.sock.sendall(bytes(header) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise RuntimeError("DevTools connection closed")
            data += chunk
        return data

    def _receive(self):
        message = b""
        while True:
            b0, b1 = self._exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = int.from_bytes(self._exact(2), "big")
            elif n == 127:
                n = int.from_bytes(self._exact(8), "big")
            data = self._exact(n)
            if b0 & 0x0F == 0x8:
                raise RuntimeError("DevTools closed the websocket")
            message += data
            if b0 & 0x80:
                return json.loads(message)

    def call(self, method, **params):
        self.next_id += 1
        self._send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = self._receive()
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for: {expression}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(vision):
    env = dict(os.environ, VISION_MODELS=os.path.join(ROOT, "Models"))
    log = tempfile.NamedTemporaryFile(prefix="vision-serve-", suffix=".log", delete=False)
    proc = subprocess.Popen([vision, "serve", "--port", "0"], stdout=subprocess.DEVNULL, stderr=log, env=env)
    deadline = time.time() + 60
    while time.time() < deadline:
        text = open(log.name).read()
        m = re.search(r"listening on (http://127\.0\.0\.1:\d+/)", text)
        if m:
            return proc, m.group(1), log.name
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("vision serve did not start:\n" + open(log.name).read())


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message)
    if not condition:
        raise AssertionError(message)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vision", default=os.path.join(ROOT, ".build/release/vision"))
    parser.add_argument("--url", help="an already running server (default: start one)")
    parser.add_argument("--image", default=os.path.join(ROOT, "Samples/bccd/JPEGImages/BloodImage_00007.jpg"))
    parser.add_argument("--screenshot", default=os.path.join(ROOT, "docs/serve.png"))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args()

    server, url, log = (None, args.url, None) if args.url else start_server(args.vision)
    profile = tempfile.mkdtemp(prefix="vision-chromium-")
    port = free_port()
    browser = subprocess.Popen([args.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                f"--remote-debugging-port={port}", "--remote-allow-origins=*",
                                f"--user-data-dir={profile}", "--window-size=1280,900", "--hide-scrollbars",
                                "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while True:
            try:
                targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2))
                page = next(t for t in targets if t["type"] == "page")
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        dt = DevTools(page["webSocketDebuggerUrl"])
        dt.call("Page.enable")
        dt.call("Runtime.enable")
        dt.call("Emulation.setDeviceMetricsOverride", width=1280, height=770, deviceScaleFactor=1, mobile=False)
        dt.call("Page.navigate", url=url)
        dt.wait_for("document.readyState === 'complete' && document.getElementById('model').options.length > 0")
        check(dt.evaluate("document.getElementById('model').value") == "bccd", "the model picker lists the default model")

        # Upload through the page's own file input.
        root = dt.call("DOM.getDocument")["root"]["nodeId"]
        node = dt.call("DOM.querySelector", nodeId=root, selector="#file")["nodeId"]
        dt.call("DOM.setFileInputFiles", nodeId=node, files=[os.path.abspath(args.image)])
        dt.wait_for("document.querySelector('.result') && document.querySelector('.result').dataset.state !== 'pending'")
        state = dt.evaluate("document.querySelector('.result').dataset.state")
        check(state == "done", "the upload was answered" + ("" if state == "done" else ": " + str(dt.evaluate("document.querySelector('.result').innerText"))))

        # The boxes shown are the API's objects at or above the slider (0.50).
        name = os.path.basename(args.image)
        boundary = "serve-page-test"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{name}\"\r\n\r\n").encode() \
            + open(args.image, "rb").read() + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(url + "api/v1/predict?min_prob=0", data=body, method="POST",
                                          headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        objects = json.load(urllib.request.urlopen(request))["objects"]
        at_half = sum(o["prob"] >= 0.5 for o in objects)
        at_ninety = sum(o["prob"] >= 0.9 for o in objects)
        visible = "document.querySelectorAll('.result .box:not(.hidden)').length"
        total = dt.evaluate("document.querySelectorAll('.result .box').length")
        check(total == len(objects), f"every object the API returns has a box ({total} of {len(objects)})")
        check(at_half > 5 and dt.evaluate(visible) == at_half, f"{at_half} boxes visible at 0.50, each with a caption")
        captions = dt.evaluate("Array.from(document.querySelectorAll('.result .box:not(.hidden) span')).map(s => s.textContent)")
        check(all(re.match(r"^(WBC|RBC|Platelets) [01]\.\d\d$", c) for c in captions), f"captions read 'label prob': {captions[:3]}...")
        rows = "document.querySelectorAll('.result tr[data-prob]:not(.hidden)').length"
        check(dt.evaluate(rows) == at_half, "the table lists the same objects")
        box = dt.evaluate("(() => { const r = document.querySelector('.result .box:not(.hidden)').getBoundingClientRect(); return [r.width, r.height]; })()")
        check(box[0] > 5 and box[1] > 5, f"boxes have a visible size on the image ({box[0]:.0f}x{box[1]:.0f} px)")
        outside = dt.evaluate("""(() => { const i = document.querySelector('.result img').getBoundingClientRect();
            return Array.from(document.querySelectorAll('.result .box:not(.hidden)')).filter(b => { const r = b.getBoundingClientRect();
              return r.left < i.left - 1 || r.top < i.top - 1 || r.right > i.right + 1 || r.bottom > i.bottom + 1; })
              .map(b => { const r = b.getBoundingClientRect(); return [r.left - i.left, r.top - i.top, r.right - i.left, r.bottom - i.top, i.width, i.height]; }); })()""")
        check(not outside, f"every visible box lies on the image (outside: {outside})")
        first = objects[0]
        placed = dt.evaluate("""(() => { const i = document.querySelector('.result img'), r = i.getBoundingClientRect();
            const b = document.querySelector('.result .box').getBoundingClientRect(), s = i.naturalWidth / r.width;
            return [(b.left - r.left) * s, (b.top - r.top) * s, (b.right - r.left) * s, (b.bottom - r.top) * s]; })()""")
        check(all(abs(p - q) <= 3 for p, q in zip(placed, first["bbox"])),
              f"the first box sits at its bbox in image pixels ({[round(v) for v in placed]} vs {[round(v) for v in first['bbox']]})")
        colors = dt.evaluate("Array.from(new Set(Array.from(document.querySelectorAll('.result .box')).map(b => b.style.borderColor)))")
        check(len(colors) >= 2, f"classes have their own colours: {colors}")

        # The slider hides boxes below its value, without a new request.
        requests_before = dt.evaluate("performance.getEntriesByType('resource').filter(e => e.name.includes('/api/v1/predict')).length")
        dt.evaluate("(() => { const s = document.getElementById('threshold'); s.value = '0.9'; s.dispatchEvent(new Event('input')); })()")
        check(dt.evaluate(visible) == at_ninety and at_ninety < at_half,
              f"at 0.90 only the {at_ninety} boxes with prob >= 0.90 stay visible (of {at_half})")
        low = dt.evaluate("Array.from(document.querySelectorAll('.result .box:not(.hidden)')).filter(b => parseFloat(b.dataset.prob) < 0.9).length")
        check(low == 0, "no visible box is below 0.90")
        check(dt.evaluate(rows) == at_ninety, "the table follows the slider")
        requests_after = dt.evaluate("performance.getEntriesByType('resource').filter(e => e.name.includes('/api/v1/predict')).length")
        check(requests_after == requests_before, "moving the slider sent no request")
        dt.evaluate("(() => { const s = document.getElementById('threshold'); s.value = '0.5'; s.dispatchEvent(new Event('input')); })()")
        check(dt.evaluate(visible) == at_half, "back at 0.50 the boxes show again")

        # Downloads: the JSON is the API's answer; the annotated image is a PNG of the image's size.
        downloads = tempfile.mkdtemp(prefix="vision-downloads-")
        dt.call("Browser.setDownloadBehavior", behavior="allow", downloadPath=downloads)
        dt.evaluate("document.querySelector('.result .download-json').click()")
        dt.evaluate("document.querySelector('.result .download-image').click()")
        stem = os.path.splitext(name)[0]
        deadline = time.time() + 20
        while time.time() < deadline and not all(os.path.exists(os.path.join(downloads, f)) for f in (stem + ".json", stem + "-annotated.png")):
            time.sleep(0.1)
        time.sleep(0.3)
        with open(os.path.join(downloads, stem + ".json")) as f:
            downloaded = json.load(f)
        check(downloaded["objects"] == objects and downloaded["file"] == name, "Download JSON saves the API's answer")
        with open(os.path.join(downloads, stem + "-annotated.png"), "rb") as f:
            annotated = f.read()
        size = (int.from_bytes(annotated[16:20], "big"), int.from_bytes(annotated[20:24], "big"))
        check(annotated[:8] == b"\x89PNG\r\n\x1a\n" and size == (640, 480), f"Download annotated image saves a {size[0]}x{size[1]} PNG")
        shutil.rmtree(downloads, ignore_errors=True)

        png = base64.b64decode(dt.call("Page.captureScreenshot", format="png")["data"])
        os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
        with open(args.screenshot, "wb") as f:
            f.write(png)
        check(len(png) > 10000, f"screenshot saved to {args.screenshot} ({len(png)} bytes)")
        print("browser test passed")
        return 0
    finally:
        browser.terminate()
        browser.wait()
        shutil.rmtree(profile, ignore_errors=True)
        if server:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    sys.exit(main())
