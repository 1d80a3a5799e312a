#!/usr/bin/env python3
"""Split the guest's output serial port (ttyS1) back into its parts.

Used by scripts/vm-run; reads the port's byte stream on stdin (vm-run feeds it
with `tail -f` while the guest runs, so output shows up live).

The guest's /init writes, in this order, on ttyS1:

    <the command's stdout+stderr, byte for byte>
    \n@@MEMFD-STATUS@@ <exit status>\n
    @@MEMFD-FETCH-BEGIN@@ <n>\n <base64 lines> @@MEMFD-FETCH-END@@ <n>\n
    @@MEMFD-FETCH-MISSING@@ <n>\n
    @@MEMFD-RMMOD-FAILED@@ <message>\n
    @@MEMFD-DONE@@\n

or, when the guest could not even start the command:

    @@MEMFD-SETUP-FAILED@@ <message>\n

The newline before the status marker is always written, so the marker starts
a line even when the command's output does not end with one; we hold back
each line's newline until the next line arrives and drop the one that
precedes the marker, which gives the command's output back exactly.

usage: vm-demux.py RESULT_FILE [N=HOST_PATH ...]
Writes the command output to stdout, fetched file N to HOST_PATH, and a
summary (status=, setup_failed=, missing=, rmmod_failed=, done=) to
RESULT_FILE for vm-run to read.
"""
import base64
import sys

MARK = b"@@MEMFD-"


def main():
    result_path = sys.argv[1]
    fetch = dict(arg.split("=", 1) for arg in sys.argv[2:])
    out = sys.stdout.buffer
    summary = {}
    pending_newline = False
    in_output = True
    fetching = None  # (n, [chunks]) while inside a FETCH block

    for line in sys.stdin.buffer:
        body = line.rstrip(b"\n")
        if in_output:
            if body.startswith(MARK + b"STATUS@@ "):
                summary["status"] = body.split()[1].decode()
                in_output = False
            elif body.startswith(MARK + b"SETUP-FAILED@@"):
                summary["setup_failed"] = body.split(b" ", 1)[-1].decode(errors="replace")
                in_output = False
            else:
                if pending_newline:
                    out.write(b"\n")
                out.write(body)
                pending_newline = line.endswith(b"\n")
                out.flush()
            continue
        if fetching is not None:
            if body.startswith(MARK + b"FETCH-END@@"):
                n, chunks = fetching
                with open(fetch[n], "wb") as f:
                    f.write(base64.b64decode(b"".join(chunks)))
                fetching = None
            else:
                fetching[1].append(body.strip())
        elif body.startswith(MARK + b"FETCH-BEGIN@@ "):
            fetching = (body.split()[1].decode(), [])
        elif body.startswith(MARK + b"FETCH-MISSING@@ "):
            summary.setdefault("missing", []).append(fetch.get(body.split()[1].decode(), "?"))
        elif body.startswith(MARK + b"RMMOD-FAILED@@"):
            summary["rmmod_failed"] = body.split(b" ", 1)[-1].decode(errors="replace")
        elif body.startswith(MARK + b"DONE@@"):
            summary["done"] = "1"
            break
    if in_output and pending_newline:
        # The guest died mid-output: give back what we saw.
        out.write(b"\n")
    out.flush()

    with open(result_path, "w") as f:
        for key, value in summary.items():
            if isinstance(value, list):
                value = " ".join(value)
            f.write(f"{key}={value}\n")


if __name__ == "__main__":
    main()
