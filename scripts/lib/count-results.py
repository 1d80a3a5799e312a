#!/usr/bin/env python3
"""Count test results for scripts/run-tests; prints "PASSED FAILED SKIPPED".

usage: count-results.py gtest FILE.json
       count-results.py ctest JUNIT.xml GTEST_JSON_DIR

gtest: a GoogleTest --gtest_output=json file. A test is skipped when its
  result is SKIPPED (GTEST_SKIP) or it did not run (DISABLED_), failed when it
  has failures, passed otherwise.

ctest: ctest's --output-junit file, with the GoogleTest JSON files that the
  ctest run left in GTEST_JSON_DIR (run-tests sets GTEST_OUTPUT=json:DIR/).
  A ctest test that is a GoogleTest binary counts as its test cases; any
  other ctest test counts as one test.
"""
import glob
import json
import sys
import xml.etree.ElementTree as ET


def count_gtest(path):
    passed = failed = skipped = 0
    with open(path) as f:
        doc = json.load(f)
    for suite in doc.get("testsuites", []):
        for test in suite.get("testsuite", []):
            if test.get("failures"):
                failed += 1
                first = test["failures"][0].get("failure", "").strip()
                first = " | ".join(first.splitlines()[:3])
                print(f"FAILED {suite.get('name')}.{test.get('name')}: {first}",
                      file=sys.stderr)
            elif test.get("result") == "SKIPPED" or test.get("status") == "NOTRUN":
                skipped += 1
            else:
                passed += 1
    return passed, failed, skipped


def count_ctest(junit, gtest_dir):
    passed = failed = skipped = 0
    for case in ET.parse(junit).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    # Replace each GoogleTest binary's single ctest verdict by its cases.
    for path in glob.glob(f"{gtest_dir}/*.json"):
        p, f, s = count_gtest(path)
        if f:
            failed -= 1
        else:
            passed -= 1
        passed, failed, skipped = passed + p, failed + f, skipped + s
    return max(passed, 0), max(failed, 0), skipped


def main():
    kind = sys.argv[1]
    if kind == "gtest":
        counts = count_gtest(sys.argv[2])
    elif kind == "ctest":
        counts = count_ctest(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"unknown kind {kind}")
    print(*counts)


if __name__ == "__main__":
    main()
