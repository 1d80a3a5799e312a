#!/usr/bin/env python3
"""Module/native ratios from memfd_bench JSON files, one file per kernel.

Benchmarks come in pairs named NAME/native... and NAME/module...; for each
repetition the module's real time is divided by the native one, and the
median and range of those ratios are reported (lower is better: a ratio of
time, so 1.02 on a throughput benchmark means 2% less throughput).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile


UNIT_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}


def key_of(run_name, side):
    """'seal_write_scan/module/MiB:16/iterations:10/real_time' -> 'seal_write_scan/MiB:16'"""
    name = run_name.replace("/" + side, "", 1)
    name = re.sub(r"/iterations:\d+", "", name)
    return name.replace("/real_time", "")


def load(path):
    """Per benchmark and side: {repetition index: real time in ms}."""
    with open(path) as f:
        data = json.load(f)
    runs = {}
    benches = [b for b in data["benchmarks"] if not b.get("error_occurred")]
    # one entry per repetition; files with aggregates only give their means
    kind = "iteration" if any(b.get("run_type") == "iteration"
                              for b in benches) else "aggregate"
    for b in benches:
        if b.get("run_type") != kind:
            continue
        if kind == "aggregate" and b.get("aggregate_name") != "mean":
            continue
        side = b["run_name"].split("/")[1]
        ms = b["real_time"] * UNIT_MS[b.get("time_unit", "ns")]
        per_rep = runs.setdefault((key_of(b["run_name"], side), side), {})
        per_rep[b.get("repetition_index", len(per_rep))] = ms
    return runs


def ratios(runs):
    """Module/native (or, for aa_ controls, native_b/native) per benchmark:
    median, min and max of the per-repetition ratios. A repetition of each
    side runs in the same round of the random interleaving."""
    result = {}
    for (key, side), native in runs.items():
        if side != "native":
            continue
        other = runs.get((key, "module")) or runs.get((key, "native_b"))
        if not other:
            continue
        pairs = [other[i] / native[i] for i in native
                 if i in other and native[i] > 0]
        if pairs:
            result[key] = (statistics.median(pairs), min(pairs), max(pairs))
    return result


def scan_table(loaded):
    """seal_write_scan: median time per size, and per MiB (linearity)."""
    lines = ["", "## seal_write_scan: median time (ms) and time per MiB",
             "", "| kernel | MiB | module ms | native ms | module ms/MiB |"
             " native ms/MiB |", "|---|---|---|---|---|---|"]
    for release, runs in loaded:
        sizes = sorted({int(k.split("MiB:")[1]) for k, _ in runs
                        if k.startswith("seal_write_scan/")})
        for mib in sizes:
            key = f"seal_write_scan/MiB:{mib}"
            med = {side: statistics.median(runs[(key, side)].values())
                   for side in ("module", "native") if (key, side) in runs}
            if len(med) < 2:
                continue
            lines.append(f"| {release} | {mib} | {med['module']:.3f} | "
                         f"{med['native']:.3f} | {med['module'] / mib:.4f} | "
                         f"{med['native'] / mib:.4f} |")
    return lines


# The targets of the issue that put seals in the kernel's field (through
# the library, icount): data paths 1.00 +-0.01, create+close 1.04,
# create+ftruncate+seal+close 1.05. A benchmark "NAME/ARGS" takes NAME's.
TARGETS = {"create_close": 1.04, "create_seal_close": 1.05,
           "seal_write_scan": 1.01, "write": 1.01, "read": 1.01,
           "page_faults_8MiB": 1.01}


def target(name):
    return TARGETS.get(name.split("/")[0])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--markdown", required=True)
    p.add_argument("--plot")
    p.add_argument("--machine")
    p.add_argument("json", nargs="+")
    a = p.parse_args()

    loaded = []
    for path in a.json:
        release = os.path.basename(path)[:-len(".json")]
        loaded.append((release, load(path)))
    kernels = [(release, ratios(runs)) for release, runs in loaded]
    reps = max((len(v) for _, runs in loaded for v in runs.values()),
               default=0)
    names = sorted({n for _, r in kernels for n in r})

    lines = ["# memfd_bench: module time / native time (lower is better)", ""]
    if a.machine:
        with open(a.machine) as f:
            lines += [l.rstrip() + "  " for l in f] + [""]
    lines += ["Columns are kernel-mode, modes as described above. In an "
              "emulated guest absolute times are meaningless; ratios from "
              "the same run count. Each cell: median ratio over %d repetitions "
              "[min-max], the repetitions of all benchmarks interleaved in "
              "random order; target from the issue; **miss** marks a median "
              "above it. The aa_ rows are controls, native against native: "
              "their spread is the noise of this guest." % reps, ""]
    lines.append("| benchmark | target | " +
                 " | ".join(k for k, _ in kernels) + " |")
    lines.append("|---|---|" + "---|" * len(kernels))
    for n in names:
        t = target(n)
        cells = []
        for _, r in kernels:
            if n not in r:
                cells.append("-")
                continue
            med, lo, hi = r[n]
            miss = " **miss**" if t and med > t else ""
            cells.append(f"{med:.3f} [{lo:.2f}-{hi:.2f}]{miss}")
        lines.append(f"| {n} | {'≤ %.2f' % t if t else '-'} | " +
                     " | ".join(cells) + " |")
    lines += scan_table(loaded)
    with open(a.markdown, "w") as f:
        f.write("\n".join(lines) + "\n")

    if a.plot:
        with tempfile.NamedTemporaryFile("w", suffix=".dat",
                                         delete=False) as d:
            for i, n in enumerate(names):
                row = [str(i), n.replace("_", "-")]
                for _, r in kernels:
                    row.append("%.4f" % (r[n][0] if n in r else 0))
                d.write(" ".join(row) + "\n")
        cols = " , ".join(
            f"'{d.name}' using {3 + i}:xtic(2) title '{k}'"
            for i, (k, _) in enumerate(kernels))
        script = f"""
set terminal pngcairo size 1400,700
set output '{a.plot}'
set title 'memfd-compat: module / native time per operation (lower is better; emulated guest)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by -40
set yrange [0:*]
set key outside top center horizontal
set grid ytics
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb 'black'
plot {cols}
"""
        subprocess.run(["gnuplot"], input=script, text=True, check=True)
        os.unlink(d.name)


if __name__ == "__main__":
    main()
