#!/usr/bin/env python3
"""Build-time benchmark: sourced against Hugo and against the floor, on the same generated briefs.

Usage: python3 bench/compare.py [--n 1000,10000,50000] [--runs 3] [--search] [--keep DIR]

Builds what it needs first (cargo build --release, and the `floor` example: walkdir + YAML +
pulldown-cmark + write, rayon, no templates or indexes). For each size it generates the corpus
with ../shared/bench/gen_corpus.py in the `brief` flavor (sourced, floor) and the `hugo` flavor
(same bodies), then alternates the tools' runs: one unmeasured warm-up each (the first build
into an empty folder), then --runs measured rebuilds into the same output folder, as an editor
or CI with a cached output would run them. `sourced build` runs with --no-search (the search
index is measured on its own with --search); `sourced check` is measured too. Hugo is measured
only when the `hugo` command is installed (Debian: apt-get install hugo).

Prints, per size and tool: median wall time, median CPU (user + system) and CPU utilisation,
peak memory (max RSS from /usr/bin/time -v), pages per second, and the ratios the performance
targets are stated in. Not run in CI.

Corpora come from bench/corpus.py (each brief's source keys made its own, see there).
"""
import argparse, glob, os, re, shutil, statistics, subprocess, sys, tempfile

from corpus import generate

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def timed(cmd, cwd, ok_codes=(0,)):
    """(wall s, cpu s, peak RSS MB) of one run."""
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, cwd=cwd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode not in ok_codes:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", r.stderr).group(1)
    parts = [float(x) for x in wall.split(":")]
    secs = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) == 3 else 0)
    user = float(re.search(r"User time \(seconds\): (\S+)", r.stderr).group(1))
    system = float(re.search(r"System time \(seconds\): (\S+)", r.stderr).group(1))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)) / 1024
    return secs, user + system, rss


def html_files(d):
    return len(glob.glob(os.path.join(d, "**", "*.html"), recursive=True))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", default="1000,10000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--search", action="store_true", help="also time builds with the search index")
    ap.add_argument("--keep", help="generate corpora into this folder and keep them (reused if present)")
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "sourced", "--example", "floor"],
                   cwd=ROOT, check=True)
    sourced = os.path.join(ROOT, "target", "release", "sourced")
    floor = os.path.join(ROOT, "target", "release", "examples", "floor")
    hugo = shutil.which("hugo")
    rows = []
    for n in [int(x) for x in a.n.split(",")]:
        work = os.path.join(a.keep, str(n)) if a.keep else tempfile.mkdtemp(prefix="sourced-compare-")
        os.makedirs(work, exist_ok=True)
        try:
            brief, hugo_site = os.path.join(work, "brief"), os.path.join(work, "hugo")
            if not os.path.isdir(brief):
                generate(n, brief, "brief")
            if hugo and not os.path.isdir(hugo_site):
                generate(n, hugo_site, "hugo")
            out = lambda name: os.path.join(work, "out-" + name)
            tools = {
                # `sourced build` exits 0 with warnings (the corpus has unsourced figures).
                "sourced": [sourced, "build", "--no-search", "--root", brief, "--output", out("sourced")],
                "sourced check": [sourced, "check", "--root", brief],
                "floor": [floor, brief, out("floor")],
            }
            if a.search:
                tools["sourced +search"] = [sourced, "build", "--root", brief, "--output", out("search")]
            if hugo:
                tools["hugo"] = [hugo, "--quiet", "-s", hugo_site, "-d", out("hugo")]
            results = {name: [] for name in tools}
            for name, cmd in tools.items():  # warm-up: the first build into an empty folder
                timed(cmd, work, ok_codes=(0, 1) if "check" in name else (0,))
            for _ in range(a.runs):
                for name, cmd in tools.items():
                    results[name].append(timed(cmd, work, ok_codes=(0, 1) if "check" in name else (0,)))
            pages = {"sourced": html_files(out("sourced")), "floor": html_files(out("floor"))}
            if hugo:
                pages["hugo"] = html_files(out("hugo"))
            med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v),
                       max(x[2] for x in v)) for k, v in results.items()}
            for name, (wall, cpu, rss) in med.items():
                p = pages.get(name.split()[0] if name != "sourced check" else "", 0)
                rate = f"{p / wall:,.0f} pages/s ({p:,} pages)" if p and name != "sourced check" else ""
                rows.append(f"| {n:,} | {name} | {wall:.2f} s | {cpu:.2f} s ({100 * cpu / wall:.0f}%) | {rss:,.0f} MB | {rate} |")
            s = med["sourced"]
            ratios = [f"sourced/floor wall {s[0] / med['floor'][0]:.2f}",
                      f"check/build wall {med['sourced check'][0] / s[0]:.2f}"]
            if hugo:
                ratios.insert(0, f"sourced/hugo wall {s[0] / med['hugo'][0]:.2f}, memory {s[2] / med['hugo'][2]:.2f}")
            rows.append(f"| {n:,} | ratios | {'; '.join(ratios)} | | | |")
            print("\n".join(rows[-len(med) - 1:]), flush=True)
        finally:
            if not a.keep:
                shutil.rmtree(work, ignore_errors=True)
    print("\n| briefs | tool | wall (median) | CPU (user+sys, utilisation) | peak memory | throughput |")
    print("| --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
