"""Generated corpora for the benchmarks in this folder.

generate(n, out, flavor) runs ../shared/bench/gen_corpus.py. The generator gives one source key
different metadata in different briefs, which sourced refuses (keys are site-wide), so in the
`brief` flavor each brief's keys are made its own (`oecd2019` -> `oecd2019-00042`).
"""
import glob, os, re, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEN = os.path.join(ROOT, "..", "shared", "bench", "gen_corpus.py")


def generate(n, out, flavor="brief"):
    subprocess.run([sys.executable, GEN, "--n", str(n), "--out", out, "--flavor", flavor], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if flavor != "brief":
        return
    for p in glob.glob(os.path.join(out, "content", "briefs", "*.md")):
        tag = os.path.basename(p)[:5]
        s = open(p, encoding="utf-8").read()
        end = s.index("\n---", 4)
        fm, body = s[:end], s[end:]
        for k in re.findall(r"^  ([a-z]+\d{4}b?):$", fm, re.M):
            fm = re.sub(r"^  " + k + ":$", "  " + k + "-" + tag + ":", fm, flags=re.M)
            body = re.sub("@" + k + r"\b", "@" + k + "-" + tag, body)
        open(p, "w", encoding="utf-8").write(fm + body)
