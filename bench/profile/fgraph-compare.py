#!/usr/bin/env python3
"""Compares two function_graph traces of create_close_loop, module and
native: mean traced time per call path, per create+close, side by side.

Tracing inflates every traced call, so read the numbers as where the
difference is, not as how large it is untraced.
"""
import argparse
import collections
import re

# " 0)    create_close-157 |   1.234 us    |      kfree();"
LINE = re.compile(r"\s*\d+\)\s+(\S+)\s+\|\s*[!+#*@$]?\s*([\d.]+)?\s*(?:us)?"
                  r"\s*\|\s*(.*)$")


def per_path(path, task):
    """Total traced microseconds per call path ("a/b/c") of @task."""
    total = collections.defaultdict(float)
    stack = []
    with open(path) as f:
        for line in f:
            m = LINE.match(line)
            if not m or not m.group(1).startswith(task):
                continue
            duration = float(m.group(2) or 0)
            call = m.group(3).strip()
            if call.endswith("{"):
                stack.append(call[:-1].strip().removesuffix("()").strip())
            elif call.startswith("}"):
                if stack:
                    total["/".join(stack)] += duration
                    stack.pop()
            elif call.endswith(";"):
                name = call[:-1].strip().removesuffix("()").strip()
                total["/".join(stack + [name])] += duration
    return total


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--count", type=int, required=True,
                   help="create+close per trace")
    p.add_argument("--min-us", type=float, default=0.5,
                   help="hide paths under this on both sides")
    p.add_argument("module")
    p.add_argument("native")
    a = p.parse_args()

    task = "create_"  # create_close_loop, truncated by ftrace
    module = per_path(a.module, task)
    native = per_path(a.native, task)
    print(f"{'call path (traced us per create+close)':<72} "
          f"{'module':>8} {'native':>8}")
    for name in sorted(set(module) | set(native),
                       key=lambda n: -max(module[n], native[n])):
        m, n = module[name] / a.count, native[name] / a.count
        if max(m, n) >= a.min_us:
            print(f"{name:<72} {m:8.1f} {n:8.1f}")


if __name__ == "__main__":
    main()
