#!/bin/bash
# Installs the build into a temporary prefix and builds a consumer project
# against it, with the CMake package and with pkg-config; runs each result
# (native backend: no module on the host).
#
# usage: run_install_test.sh BUILD_DIR CONSUMER_SOURCE_DIR
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memfd-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
export MEMFD_COMPAT_BACKEND=native
# The consumer is not built with the sanitizers of the host tests.
unset ASAN_OPTIONS UBSAN_OPTIONS LD_PRELOAD

step() { echo "--- $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

step "cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name 'libmemfd-compat.so' -print -quit)")
[[ -d $libdir ]] || fail "libmemfd-compat.so not installed"
for f in include/memfd_compat/memfd_compat.h include/memfd_compat/memfd_compat.hpp \
	include/memfd_compat/uapi.h; do
	[[ -f $prefix/$f ]] || fail "$f not installed"
done
for f in libmemfd-compat.a libmemfd-preload.so pkgconfig/memfd-compat.pc \
	cmake/memfd-compat/memfd-compat-config.cmake; do
	[[ -e $libdir/$f ]] || fail "$libdir/$f not installed"
done
for f in man3/memfd_compat_create.3 man3/memfd_compat_add_seals.3 \
	man3/memfd_compat_get_seals.3 man3/memfd_compat_query.3 man7/memfd-compat.7; do
	[[ -f $prefix/share/man/$f ]] || fail "share/man/$f not installed"
done
# The .so links resolve in the installed tree.
if command -v man >/dev/null; then
	for page in memfd_compat_get_seals memfd_compat_set_backend memfd-compat; do
		MANWIDTH=80 man -M "$prefix/share/man" "$page" 2>/dev/null | grep -q . ||
			fail "man $page does not render"
	done
fi
# Nothing of the tests or the sanitized build.
if find "$prefix" -name '*sanitized*' -o -name '*_tests' | grep -q .; then
	fail "test artefacts installed"
fi

step "CMake consumer: find_package(memfd-compat)"
cmake -S "$src" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
	-DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/cmake-build" >/dev/null
for t in consumer_cxx consumer_c consumer_static; do
	"$tmp/cmake-build/$t" || fail "$t (CMake) exited $?"
done
[[ $(cat "$tmp/cmake-build/preload-path.txt") == "$libdir/libmemfd-preload.so" ]] ||
	fail "memfd-compat::preload points elsewhere"
if ldd "$tmp/cmake-build/consumer_static" | grep -q libmemfd-compat; then
	fail "consumer_static depends on the shared library"
fi

step "pkg-config consumer"
export PKG_CONFIG_PATH=$libdir/pkgconfig
pkg-config --exists --print-errors memfd-compat
pkg-config --validate memfd-compat 2>/dev/null || true
echo "pkg-config --cflags --libs memfd-compat: $(pkg-config --cflags --libs memfd-compat)"
read -r -a flags <<<"$(pkg-config --cflags --libs memfd-compat)"
c++ -std=c++20 -Wall -Wextra -Werror "$src/consumer.cc" "${flags[@]}" -o "$tmp/pc_cxx"
cc -Wall -Wextra -Werror "$src/consumer.c" "${flags[@]}" -o "$tmp/pc_c"
LD_LIBRARY_PATH=$libdir "$tmp/pc_cxx" || fail "pc_cxx exited $?"
LD_LIBRARY_PATH=$libdir "$tmp/pc_c" || fail "pc_c exited $?"
ldd_out=$(LD_LIBRARY_PATH=$libdir ldd "$tmp/pc_c")
grep -q "$libdir/libmemfd-compat.so.1" <<<"$ldd_out" || fail "pc_c not linked to the installed library"

step "LD_PRELOAD shim loads into an unrelated program"
out=$(LD_PRELOAD=$libdir/libmemfd-preload.so sh -c 'echo preloaded') || fail "preload"
[[ $out == preloaded ]] || fail "preload output: $out"

echo "install test passed"
