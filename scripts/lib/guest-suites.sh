#!/bin/sh
# Runs the guest test suites of scripts/run-tests, in order, inside one
# guest (busybox sh, started by scripts/vm-run as CMD).
#
# usage: guest-suites.sh LIST TIMEOUT [NAME=VALUE...]
#   LIST     one suite per line: NAME KIND COMMAND [ARGS...]; KIND "gtest"
#            adds --gtest_output=json:/tmp/NAME.json to the command
#   TIMEOUT  seconds after which a hung suite is killed, so that the ones
#            after it still report
#   NAME=VALUE  exported to every suite
#
# Each suite's exit status goes to /tmp/status as "NAME STATUS"; the output
# of a suite of KIND "exit" is kept in /tmp/NAME.out (and then printed).
# Every /tmp/NAME.json exists afterwards (empty if the suite wrote none), so
# that vm-run's fetch judges only the guest; run-tests judges the results.
list=$1
limit=$2
shift 2
for assignment in "$@"; do
	export "${assignment?}"
done
: >/tmp/status
while read -r name kind cmd; do
	[ -n "$name" ] || continue
	[ "$kind" = gtest ] && cmd="$cmd --gtest_output=json:/tmp/$name.json"
	echo "=== guest suite $name: $cmd"
	if [ "$kind" = gtest ]; then
		# shellcheck disable=SC2086 # the command line is words from LIST
		timeout -s KILL "$limit" $cmd </dev/null
		echo "$name $?" >>/tmp/status
	else
		# kept in /tmp/NAME.out too, for run-tests to repeat its end
		# should the suite fail (not through a pipe: a child that
		# outlives a killed suite must not hold the run up)
		# shellcheck disable=SC2086 # the command line is words from LIST
		timeout -s KILL "$limit" $cmd </dev/null >"/tmp/$name.out" 2>&1
		echo "$name $?" >>/tmp/status
		cat "/tmp/$name.out"
	fi
	[ -f "/tmp/$name.json" ] || : >"/tmp/$name.json"
done <"$list"
exit 0
