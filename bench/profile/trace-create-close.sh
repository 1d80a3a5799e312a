#!/bin/sh
# Runs in the guest (scripts/bench-profile): traces COUNT create+close of
# each backend with ftrace's function_graph tracer, DEPTH calls deep, and
# leaves the traces in /tmp/trace-module.txt and /tmp/trace-native.txt.
set -eu
count=${1:-300}
depth=${2:-4}
T=/sys/kernel/tracing
mount -t tracefs nodev $T

# warm up caches and slabs before tracing
create_close_loop 3000 module
create_close_loop 3000 native
for backend in module native; do
	echo 0 >$T/tracing_on
	echo function_graph >$T/current_tracer
	echo "$depth" >$T/max_graph_depth
	# the two create entry points, and close's final put of the file
	echo '__x64_sys_ioctl __x64_sys_memfd_create __fput' \
		>$T/set_graph_function
	echo funcgraph-proc >$T/trace_options
	echo 16384 >$T/buffer_size_kb
	echo >$T/trace
	echo 1 >$T/tracing_on
	create_close_loop "$count" "$backend"
	echo 0 >$T/tracing_on
	cat $T/trace >/tmp/trace-$backend.txt
	echo nop >$T/current_tracer
done
