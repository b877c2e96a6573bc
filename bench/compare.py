#!/usr/bin/env python3
"""Build-time benchmark: sourced against Hugo on the same generated briefs.

Usage: python3 bench/compare.py [--n 1000,10000] [--runs 3] [--bin target/release/sourced]

Build first: cargo build --release. Generates each corpus with ../shared/bench/gen_corpus.py in
the `brief` flavor (for sourced) and the `hugo` flavor (same bodies), alternates the two tools'
runs, and prints median wall time, peak memory (from /usr/bin/time -v) and pages per second.
Hugo is measured only when the `hugo` command is installed (Debian: apt-get install hugo).

The generator gives one source key different metadata in different briefs, which sourced
refuses (keys are site-wide), so each brief's keys are made its own before measuring. Not run
in CI.
"""
import argparse, glob, os, re, shutil, statistics, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GEN = os.path.join(ROOT, "..", "shared", "bench", "gen_corpus.py")


def generate(n, out, flavor):
    subprocess.run([sys.executable, GEN, "--n", str(n), "--out", out, "--flavor", flavor], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if flavor != "brief":
        return
    for p in glob.glob(os.path.join(out, "content", "briefs", "*.md")):
        tag = os.path.basename(p)[:5]
        s = open(p, encoding="utf-8").read()
        end = s.index("\n---", 4)
        fm, body = s[:end], s[end:]
        for k in re.findall(r"^  ([a-z]+\d{4}):$", fm, re.M):
            fm = re.sub(r"^  " + k + ":$", "  " + k + "-" + tag + ":", fm, flags=re.M)
            body = re.sub("@" + k + r"\b", "@" + k + "-" + tag, body)
        open(p, "w", encoding="utf-8").write(fm + body)


def timed(cmd, cwd):
    """(wall seconds, peak RSS in MB) of one run."""
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, cwd=cwd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", r.stderr).group(1)
    parts = [float(x) for x in wall.split(":")]
    secs = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) == 3 else 0)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)) / 1024
    return secs, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", default="1000,10000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "sourced"))
    a = ap.parse_args()
    hugo = shutil.which("hugo")
    for n in [int(x) for x in a.n.split(",")]:
        work = tempfile.mkdtemp(prefix="sourced-compare-")
        try:
            generate(n, os.path.join(work, "brief"), "brief")
            if hugo:
                generate(n, os.path.join(work, "hugo"), "hugo")
            s_runs, h_runs = [], []
            for _ in range(a.runs):
                s_runs.append(timed([a.bin, "build", "--root", os.path.join(work, "brief"), "--output",
                                     os.path.join(work, "out-sourced")], work))
                if hugo:
                    h_runs.append(timed([hugo, "--quiet", "-s", os.path.join(work, "hugo"), "-d",
                                         os.path.join(work, "out-hugo")], work))
            pages = len(glob.glob(os.path.join(work, "out-sourced", "**", "*.html"), recursive=True))
            sw = statistics.median(x[0] for x in s_runs)
            sm = max(x[1] for x in s_runs)
            print(f"{n} briefs: sourced {sw:.2f} s, {sm:.0f} MB peak, {pages / sw:.0f} pages/s ({pages} pages)")
            if hugo:
                hw = statistics.median(x[0] for x in h_runs)
                hm = max(x[1] for x in h_runs)
                print(f"{n} briefs: hugo    {hw:.2f} s, {hm:.0f} MB peak; sourced/hugo wall {sw / hw:.2f}, memory {sm / hm:.2f}")
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
