#!/bin/bash
# Runs the README's install commands exactly as written (the lines between
# the readme-install markers), in a copy of the source tree, with DESTDIR
# pointing into a temporary directory, and checks what they installed.
# A user's Release build with the distribution's compiler must succeed:
# warnings are never errors there.
#
# usage: run_readme_install.sh SOURCE_DIR
set -euo pipefail
src=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memfd-readme.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

commands=$(sed -n '/<!-- readme-install-begin -->/,/<!-- readme-install-end -->/p' \
	"$src/README.md" | sed -n 's/^    //p')
[[ -n $commands ]] || fail "no install commands between the README markers"
printf 'README install commands:\n%s\n' "$commands"

# The tree as a user has it: tracked files only, no build directory.
mkdir "$tmp/tree"
git -C "$src" ls-files -z | (cd "$src" && xargs -0 cp --parents -t "$tmp/tree")
unset ASAN_OPTIONS UBSAN_OPTIONS LD_PRELOAD CMAKE_BUILD_TYPE
export DESTDIR=$tmp/root
(cd "$tmp/tree" && bash -euo pipefail -c "$commands") || fail "the README's commands failed"

prefix=$DESTDIR/usr/local
for f in include/memfd_compat/memfd_compat.h include/memfd_compat/uapi.h \
	share/man/man3/memfd_compat_create.3; do
	[[ -f $prefix/$f ]] || fail "$f not installed"
done
lib=$(find "$prefix" -name 'libmemfd-compat.so.1' -print -quit)
[[ -n $lib ]] || fail "libmemfd-compat.so.1 not installed"
[[ -n $(find "$prefix" -name 'libmemfd-preload.so' -print -quit) ]] ||
	fail "libmemfd-preload.so not installed"
if find "$DESTDIR" -name '*_tests' -o -name '*sanitized*' | grep -q .; then
	fail "test artefacts installed"
fi
echo "README install commands passed"
