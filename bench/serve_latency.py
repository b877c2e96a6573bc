#!/usr/bin/env python3
"""Serve latency benchmark: time from saving one brief to the rebuilt page being served and the
reload event reaching an open page, on a generated corpus (default 1,000 briefs).

Usage: python3 bench/serve_latency.py [--n 1000] [--edits 5] [--bin target/release/sourced]

Build first: cargo build --release. The corpus comes from bench/corpus.py.
"""
import argparse, glob, os, shutil, socket, statistics, subprocess, tempfile, time

from corpus import generate

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--edits", type=int, default=5)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "sourced"))
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="sourced-bench-")
    site = os.path.join(work, "site")
    generate(a.n, site)

    builds = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([a.bin, "build", "--root", site, "--output", os.path.join(work, "out")],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        builds.append(time.perf_counter() - t0)
    full = statistics.median(builds)

    srv = subprocess.Popen([a.bin, "serve", "--root", site, "--port", "0"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    try:
        url = srv.stdout.readline().strip().rsplit(" at ", 1)[1]
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        sse = socket.create_connection(("127.0.0.1", port))
        sse.sendall(f"GET /__sourced/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        sse.settimeout(30)
        time.sleep(0.5)
        brief = sorted(glob.glob(os.path.join(site, "content", "briefs", "*.md")))[a.n // 2]
        slug = os.path.basename(brief)[:-3]
        to_reload, to_page = [], []
        for i in range(a.edits):
            marker = f"Benchmark paragraph {i} with plain words."
            t0 = time.perf_counter()
            with open(brief, "a", encoding="utf-8") as f:
                f.write(f"\n\n{marker}\n")
            buf = b""
            while b"event: reload" not in buf:
                buf += sse.recv(65536)
            to_reload.append(time.perf_counter() - t0)
            while True:
                s = socket.create_connection(("127.0.0.1", port))
                s.sendall(f"GET /briefs/{slug}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
                body = b""
                while chunk := s.recv(65536):
                    body += chunk
                if marker.encode() in body:
                    break
            to_page.append(time.perf_counter() - t0)
            time.sleep(0.3)
    finally:
        srv.terminate()
        srv.wait()
        shutil.rmtree(work, ignore_errors=True)
    med = statistics.median
    print(f"corpus: {a.n} briefs; full build (median of 3): {full * 1000:.0f} ms")
    print(f"save -> reload event at an open page (median of {a.edits}): {med(to_reload) * 1000:.0f} ms"
          f" = {med(to_reload) / full * 100:.1f}% of a full build")
    print(f"save -> new page fetched (median of {a.edits}): {med(to_page) * 1000:.0f} ms"
          " (includes the watcher's 25 ms debounce)")


if __name__ == "__main__":
    main()
