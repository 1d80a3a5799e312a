#!/bin/bash
# The installed-system suite: with the .debs installed on this machine
# (tests/install/check-debs.sh install), build programs against /usr as a
# user would, then boot each kernel on this machine's root filesystem
# (scripts/vm-run --host-root) and run tests/install/installed_system_guest.sh
# there: the DKMS-built module loaded by modules-load.d, /dev/memfd's mode
# from the packaged udev rule, the programs run as nobody, python3 under the
# installed LD_PRELOAD shim, the man pages, and an admin's group restriction.
#
# usage: run_installed_system.sh OUT_DIR KERNEL...
#   Writes OUT_DIR/<release>.log per kernel and prints one line per kernel,
#   "installed <release>: passed|failed". Exits 1 if any kernel failed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/kernels.sh
source "$here/../../scripts/kernels.sh"
out=$1
shift
mkdir -p "$out"
bin=$out/bin
rm -rf "$bin" "$out/cmake"
mkdir -p "$bin"

# --- programs built against the installed /usr, nothing from build/
unset ASAN_OPTIONS UBSAN_OPTIONS LD_PRELOAD PKG_CONFIG_PATH CMAKE_PREFIX_PATH
cmake -S "$here/consumer" -B "$out/cmake" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$out/cmake" >/dev/null
cp "$out/cmake/consumer_c" "$out/cmake/consumer_cxx" "$bin/"
read -r -a pc <<<"$(pkg-config --cflags --libs memfd-compat)"
cc -Wall -Wextra -Werror "$here/consumer/consumer.c" "${pc[@]}" -o "$bin/pc_c"
c++ -std=c++20 -Wall -Wextra -Werror "$here/consumer/consumer.cc" "${pc[@]}" -o "$bin/pc_cxx"
cc -Wall -Wextra -Werror "$here/consumer/probe.c" "${pc[@]}" -o "$bin/probe"
c++ -std=c++20 -Wall -Wextra -Werror -I "$MEMFD_ROOT/tests/common" \
	"$MEMFD_ROOT/demo/memfd_demo.cc" "${pc[@]}" \
	-o "$bin/memfd_demo"
cp "$here/memfd_seal_check.py" "$bin/"
shim=$(dpkg -L libmemfd-compat-preload | grep '/libmemfd-preload\.so$' | head -n1)
[[ -f $shim ]] || die "libmemfd-compat-preload is not installed"
echo "$shim" >"$bin/shim-path"

# --- one guest per kernel on the installed system. One vCPU: nothing here
# needs two, and multi-threaded TCG can run half-patched kernel text while
# the kernel flips a static key at boot (seen once here on 6.12: "Oops:
# int3" in enqueue_timer, 1 s into boot).
failed=0
for k in "$@"; do
	release=$(kernel_release "$k")
	log=$out/$release.log
	if "$MEMFD_ROOT/scripts/vm-run" --kernel "$k" \
		--host-root --timeout 900 --smp 1 \
		--file "$bin:/tmp/installed" \
		--file "$here/installed_system_guest.sh:/tmp/" \
		-- sh /tmp/installed_system_guest.sh /tmp/installed >"$log" 2>&1; then
		echo "installed $release: passed"
	else
		echo "installed $release: failed"
		grep -E '^(FAIL|vm-run)' "$log" | sed 's/^/    /' >&2 || tail -n 20 "$log" >&2
		failed=1
	fi
done
exit $failed
