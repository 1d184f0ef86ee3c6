#!/usr/bin/env python3
"""Load test of `vision serve` on loopback (run by hand; standard library only).

Starts `vision serve` (default model) with the given worker settings, then N
client threads POST the Samples/bccd images over keep-alive connections for a
fixed time. Reports requests/s, p50/p99 latency of answered requests, statuses
(anything but 200 and the intended 503 is an error), server RSS before/after,
and `vision predict` images/s on the same images with the same threads, for
comparison. Every loop is bounded in count and time; only 127.0.0.1 is used.

  python3 Tests/Browser/serve_load_test.py --clients 4 --seconds 30 --max-concurrent 1 --threads 2
"""
import argparse, glob, http.client, os, re, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--vision", default=os.path.join(ROOT, ".build/release/vision"))
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--max-concurrent", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--max-queue", type=int, default=16)
    p.add_argument("--max-requests", type=int, default=100000, help="a hard cap on requests sent")
    args = p.parse_args()

    images = [open(f, "rb").read() for f in sorted(glob.glob(os.path.join(ROOT, "Samples/bccd/JPEGImages/*.jpg")))]
    env = dict(os.environ, VISION_MODELS=os.path.join(ROOT, "Models"))
    log = tempfile.NamedTemporaryFile(prefix="vision-serve-load-", suffix=".log", delete=False)
    server = subprocess.Popen([args.vision, "serve", "--port", "0", "--max-concurrent", str(args.max_concurrent),
                               "--threads", str(args.threads), "--max-queue", str(args.max_queue)],
                              stdout=subprocess.DEVNULL, stderr=log, env=env)
    port = None
    for _ in range(600):
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", open(log.name).read())
        if m:
            port = int(m.group(1))
            break
        time.sleep(0.1)
    if port is None:
        server.kill()
        sys.exit("vision serve did not start:\n" + open(log.name).read())

    def post(conn, i):
        conn.request("POST", f"/api/v1/predict?file=img{i % len(images)}.jpg", body=images[i % len(images)],
                     headers={"Content-Type": "image/jpeg"})
        r = conn.getresponse()
        r.read()
        return r.status

    warm = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for i in range(2):  # first requests pay one-time costs
        post(warm, i)
    warm.close()
    rss_before = rss_mb(server.pid)

    lock = threading.Lock()
    latencies, statuses, sent = [], {}, [0]
    stop_at = time.time() + args.seconds

    def client(k):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        i = k
        while time.time() < stop_at:
            with lock:
                if sent[0] >= args.max_requests:
                    break
                sent[0] += 1
            t0 = time.perf_counter()
            try:
                status = post(conn, i)
            except Exception as e:
                status = f"exception {type(e).__name__}"
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            dt = time.perf_counter() - t0
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status == 200:
                    latencies.append(dt)
            if status == 503:
                time.sleep(0.05)  # a polite client backs off (the header says 1 s; shorter keeps pressure on)
            i += args.clients
        conn.close()

    start = time.time()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
    for t in threads:
        t.start()
    rss_series = []
    while any(t.is_alive() for t in threads):  # RSS every 5 s: flat, or growing?
        time.sleep(min(5, max(0.1, stop_at - time.time() + 0.5)))
        rss_series.append(round(rss_mb(server.pid)))
    for t in threads:
        t.join()
    elapsed = time.time() - start
    rss_after = rss_mb(server.pid)
    server.terminate()
    server.wait(timeout=60)

    latencies.sort()
    pct = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")
    ok = statuses.get(200, 0)
    errors = {k: v for k, v in statuses.items() if k not in (200, 503)}
    print(f"serve: {args.clients} clients, {elapsed:.0f} s, --max-concurrent {args.max_concurrent} --threads {args.threads} --max-queue {args.max_queue}")
    print(f"  answered 200: {ok} ({ok / elapsed:.2f} req/s), 503: {statuses.get(503, 0)}, errors: {errors or 'none'}")
    print(f"  latency of 200s: p50 {pct(0.5):.0f} ms, p99 {pct(0.99):.0f} ms, max {pct(1.0):.0f} ms")
    print(f"  server RSS: {rss_before:.0f} MB after warm-up, {rss_after:.0f} MB after the run; every 5 s: {rss_series} MB")

    out = subprocess.run([args.vision, "predict", "--threads", str(args.threads)]
                         + sorted(glob.glob(os.path.join(ROOT, "Samples/bccd/JPEGImages/*.jpg"))) * 3,
                         capture_output=True, text=True, env=env)
    m = re.search(r"\(([\d.]+) img/s\)", out.stderr)
    print(f"  vision predict --threads {args.threads} on the same images (x3): {m.group(1) if m else '?'} img/s")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
