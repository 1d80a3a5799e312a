#!/bin/bash
# tests/install/check-debs.sh - install the Debian packages that
# scripts/build-debs made on this machine, check what they put where,
# purge them and check that nothing of them is left (as root).
#
# usage: tests/install/check-debs.sh install DIR|--readme | remove | restore | all DIR
#
#   install DIR  clear the unpackaged DKMS state of scripts/dkms-build
#                (dkms remove, /usr/src/memfd-compat-VERSION), apt-get
#                install DIR's four .debs and check the installed files.
#                With --readme instead of DIR, the packages are built and
#                installed by the README's own commands, run as written.
#                memfd-compat-dkms builds and installs the module for every
#                kernel dkms.conf accepts: files under /lib/modules only,
#                nothing is loaded (its modules-load.d entry would load it
#                at the next boot of such a kernel: purge before that).
#   remove       purge the four packages, check that nothing is left.
#   restore      purge them if still there, then rerun scripts/dkms-build
#                for $MEMFD_KERNELS (default: all), the state the test
#                suites expect.
#   all DIR      install, remove, restore.
#
# One "ok ..." line per check; the first failed check ends the run with
# "FAIL: ..." and a non-zero status. A failed install or remove restores
# (EXIT trap) before exiting; `all` restores in any case.
set -euo pipefail
# shellcheck source=scripts/kernels.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/kernels.sh"

packages=(memfd-compat-dkms libmemfd-compat1 libmemfd-compat-dev libmemfd-compat-preload)
name=memfd-compat
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$MEMFD_ROOT/dkms.conf")
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir=/usr/lib/$multiarch
rule=/lib/udev/rules.d/60-memfd-compat.rules
entry=/usr/lib/modules-load.d/memfd-compat.conf
log=$MEMFD_ROOT/build/check-debs.log
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-q -y -o DPkg::Lock::Timeout=600)

ok() { echo "ok $*"; }
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

installed() {
	[[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

# dkms_package_file FILE: FILE exists and belongs to memfd-compat-dkms.
dkms_package_file() {
	[[ -f $1 ]] || return 1
	dpkg -S "$1" 2>/dev/null | grep -q '^memfd-compat-dkms:'
}

# restore_on_failure: the EXIT trap of install and remove.
restore_on_failure() {
	local rc=$?
	((rc == 0)) && return 0
	echo "check-debs: failed; restoring the dkms-build state" >&2
	(do_restore) || echo "check-debs: restore failed too (log: $log)" >&2
	exit "$rc"
}

# scripts/dkms-build's copy is no package's: it would be overwritten by the
# package's files and leave its extra files behind at purge.
clear_unpackaged_state() {
	dkms remove "$name/$version" --all >/dev/null 2>&1 || true
	rm -rf "/usr/src/$name-$version"
	[[ ! -e /var/lib/dkms/$name/$version ]] || fail "dkms remove left /var/lib/dkms/$name/$version"
	ok "unpackaged dkms state cleared"
}

# apt_install_debs DIR: apt-get install DIR's four .debs.
apt_install_debs() {
	local dir=$1 debs=() p deb
	for p in "${packages[@]}"; do
		deb=$(echo "$dir/${p}_${version}"_*.deb)
		[[ -f $deb ]] || fail "no ${p}_${version}_*.deb in $dir (run scripts/build-debs)"
		debs+=("$(realpath "$deb")")
	done
	if ! apt-get "${apt_opts[@]}" install --no-install-recommends "${debs[@]}" >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		fail "apt-get install failed (log: $log)"
	fi
}

# readme_install: the README's package commands (between the
# readme-debs markers), exactly as written, in the tree's root. apt-get
# is told to answer its question itself (APT_CONFIG), as a user would.
readme_install() {
	local commands conf
	commands=$(sed -n '/<!-- readme-debs-begin -->/,/<!-- readme-debs-end -->/p' \
		"$MEMFD_ROOT/README.md" | sed -n 's/^    //p')
	[[ -n $commands ]] || fail "no package commands between the README's readme-debs markers"
	conf=$MEMFD_ROOT/build/check-debs.apt.conf
	printf 'APT::Get::Assume-Yes "true";\nDPkg::Lock::Timeout "600";\n' >"$conf"
	if ! (cd "$MEMFD_ROOT" && APT_CONFIG=$conf bash -euo pipefail -c "$commands") >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		fail "the README's package commands failed (log: $log)"
	fi
	ok "the README's package commands: $(echo "$commands" | paste -sd ';')"
}

do_install() { # do_install DIR | do_install --readme
	local p re d rel tmp flags lib
	clear_unpackaged_state
	mkdir -p "$(dirname "$log")"
	if [[ $1 == --readme ]]; then
		readme_install
	else
		apt_install_debs "$1"
	fi
	for p in "${packages[@]}"; do
		installed "$p" || fail "$p is not installed"
	done
	ok "installed: ${packages[*]}"

	# Every kernel with headers that dkms.conf's BUILD_EXCLUSIVE_KERNEL
	# accepts has the module; the others do not.
	re=$(sed -n 's/^BUILD_EXCLUSIVE_KERNEL="\(.*\)"/\1/p' "/usr/src/$name-$version/dkms.conf")
	[[ -n $re ]] || fail "no BUILD_EXCLUSIVE_KERNEL in /usr/src/$name-$version/dkms.conf"
	for d in /lib/modules/*/; do
		rel=$(basename "$d")
		if [[ ! $rel =~ $re ]]; then
			compgen -G "/lib/modules/$rel/updates/dkms/memfd_compat.ko*" >/dev/null &&
				fail "module installed for $rel, which dkms.conf excludes"
			continue
		fi
		if [[ ! -d /lib/modules/$rel/build/include ]]; then
			echo "skip $rel: no headers installed"
			continue
		fi
		compgen -G "/lib/modules/$rel/updates/dkms/memfd_compat.ko*" >/dev/null ||
			fail "no /lib/modules/$rel/updates/dkms/memfd_compat.ko*"
		ok "module for $rel"
	done

	dkms_package_file "$rule" || fail "$rule missing or not memfd-compat-dkms's"
	ok "udev rule $rule"
	dkms_package_file "$entry" || fail "$entry missing or not memfd-compat-dkms's"
	ok "modules-load.d entry $entry"

	flags=$(pkg-config --cflags --libs memfd-compat) || fail "pkg-config memfd-compat"
	[[ $flags == *-lmemfd-compat* ]] || fail "pkg-config --libs memfd-compat: $flags"
	ok "pkg-config --cflags --libs memfd-compat: $flags"

	tmp=$MEMFD_ROOT/build/check-debs.tmp
	rm -rf "$tmp"
	mkdir -p "$tmp"
	cat >"$tmp/t.c" <<-'EOF'
		#include <memfd_compat/memfd_compat.h>
		#include <unistd.h>
		int main(void)
		{
			int fd = memfd_compat_create("check-debs", MEMFD_COMPAT_MFD_CLOEXEC);
			return fd < 0 || close(fd) != 0;
		}
	EOF
	# shellcheck disable=SC2086 # pkg-config output is a list of words
	cc -Wall -Werror "$tmp/t.c" $flags -o "$tmp/t" || fail "compiling against /usr failed"
	# (ld.so may name it through /lib, the merged-/usr symlink)
	lib=$(ldd "$tmp/t" | sed -n 's/^\tlibmemfd-compat\.so\.1 => \(.*\) (.*/\1/p')
	[[ -n $lib && $(realpath "$lib") == $(realpath "$libdir/libmemfd-compat.so.1") ]] ||
		fail "test program not linked to $libdir/libmemfd-compat.so.1 (ldd: ${lib:-none})"
	MEMFD_COMPAT_BACKEND=native "$tmp/t" || fail "test program (native backend) exited $?"
	ok "C program using memfd_compat_create builds, links and runs (native backend)"

	{ cmake -S "$MEMFD_ROOT/tests/install/consumer" -B "$tmp/consumer" &&
		cmake --build "$tmp/consumer"; } >>"$log" 2>&1 ||
		fail "find_package(memfd-compat) consumer (tests/install/consumer) does not build (log: $log)"
	rm -rf "$tmp"
	ok "find_package(memfd-compat) consumer builds (tests/install/consumer)"

	LD_PRELOAD=$libdir/memfd-compat/libmemfd-preload.so true ||
		fail "LD_PRELOAD=$libdir/memfd-compat/libmemfd-preload.so true"
	ok "preload shim $libdir/memfd-compat/libmemfd-preload.so loads"

	man -w memfd_compat_create 2>/dev/null | grep -q '^/usr/share/man/man3/' ||
		fail "man -w memfd_compat_create finds no page in /usr/share/man"
	ok "man -w memfd_compat_create: $(man -w memfd_compat_create)"
}

do_remove() {
	local p status left
	if ! apt-get "${apt_opts[@]}" purge "${packages[@]}" >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		fail "apt-get purge failed (log: $log)"
	fi
	for p in "${packages[@]}"; do
		status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
		[[ -z $status || $status == not-installed ]] || fail "$p is still $status"
	done
	ok "apt-get purge ${packages[*]}"

	left=$(compgen -G "/usr/src/$name-*" || true)
	[[ -z $left ]] || fail "left behind: $left"
	ok "no /usr/src/$name-*"
	[[ ! -e /var/lib/dkms/$name ]] || fail "left behind: /var/lib/dkms/$name"
	ok "no /var/lib/dkms/$name"
	left=$(compgen -G "/lib/modules/*/updates/dkms/memfd_compat.ko*" || true)
	[[ -z $left ]] || fail "left behind: $left"
	ok "no module under /lib/modules/*/updates/dkms"
	for p in "$rule" "$entry" /usr/include/memfd_compat "$libdir/memfd-compat" \
		"$libdir/cmake/memfd-compat" "$libdir/pkgconfig/memfd-compat.pc" \
		/usr/share/man/man3/memfd_compat_create.3.gz /usr/share/man/man7/memfd-compat.7.gz; do
		[[ ! -e $p ]] || fail "left behind: $p"
	done
	left=$(compgen -G "$libdir/libmemfd-compat*" || true)
	[[ -z $left ]] || fail "left behind: $left"
	ok "no rule, entry, headers, libraries, pkg-config file, CMake package, man pages"
}

do_restore() {
	local p present=()
	for p in "${packages[@]}"; do
		installed "$p" && present+=("$p")
	done
	if ((${#present[@]})); then
		apt-get "${apt_opts[@]}" purge "${present[@]}" >"$log" 2>&1 ||
			fail "apt-get purge ${present[*]} failed (log: $log)"
	fi
	read -r -a kernels <<<"${MEMFD_KERNELS:-${MEMFD_SUPPORTED_KERNELS[*]}}"
	"$MEMFD_ROOT/scripts/dkms-build" "${kernels[@]}" 2>>"$log" ||
		fail "scripts/dkms-build ${kernels[*]} failed (log: $log)"
	ok "restored: scripts/dkms-build ${kernels[*]}"
}

[[ $EUID -eq 0 ]] || die "must run as root"
case ${1:-} in
install)
	[[ ${2:-} == --readme || -d ${2:-} ]] || die "usage: ${0##*/} install DIR|--readme"
	trap restore_on_failure EXIT
	do_install "$2"
	;;
remove)
	trap restore_on_failure EXIT
	do_remove
	;;
restore)
	do_restore
	;;
all)
	[[ -d ${2:-} ]] || die "usage: ${0##*/} all DIR"
	trap 'do_restore' EXIT
	do_install "$2"
	do_remove
	;;
*)
	die "usage: ${0##*/} install DIR | remove | restore | all DIR"
	;;
esac
