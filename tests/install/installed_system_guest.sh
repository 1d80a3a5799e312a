#!/bin/sh
# Runs inside a guest booted on the installed system (scripts/vm-run
# --host-root), as root, after the .debs were installed on the machine and
# the guest's boot loaded the module through modules-load.d and udev. Checks
# what a user of the packages gets; unprivileged checks run as nobody.
#
# usage: installed_system_guest.sh DIR
#   DIR holds programs built on the host against the installed /usr:
#   consumer_c, consumer_cxx (CMake, find_package), pc_c, pc_cxx
#   (pkg-config), memfd_demo (the packaged example), probe (prints the
#   backend and errno of one create), memfd_seal_check.py (python3,
#   os.memfd_create and fcntl only).
#
# Prints one "ok"/"FAIL" line per check; exits 1 if any check failed.
dir=$1
failed=0
ok() { echo "ok   $*"; }
fail() {
	echo "FAIL $*"
	failed=1
}
check() { # check DESCRIPTION COMMAND...: COMMAND must succeed
	desc=$1
	shift
	if out=$("$@" 2>&1); then ok "$desc"; else fail "$desc: $out"; fi
}
# as_user [--groups GID] COMMAND...: COMMAND as nobody, without root's groups
as_user() {
	groups=--clear-groups
	if [ "$1" = --groups ]; then
		groups="--groups=$2"
		shift 2
	fi
	setpriv --reuid=65534 --regid=65534 "$groups" --reset-env -- \
		env HOME=/tmp "$@"
}

release=$(uname -r)
echo "installed system on $release"

# --- the module, as the packages installed and the boot loaded it
path=$(modinfo -n memfd_compat 2>&1)
case $path in
/lib/modules/$release/updates/dkms/memfd_compat.ko*)
	ok "modprobe finds the DKMS-built module: $path" ;;
*) fail "modinfo -n memfd_compat: $path" ;;
esac
if [ "$(cat /sys/module/memfd_compat/srcversion 2>&1)" = \
	"$(modinfo -F srcversion memfd_compat 2>&1)" ]; then
	ok "the loaded module is that file (srcversion)"
else
	fail "the loaded module is not $path"
fi
[ -f /usr/lib/modules-load.d/memfd-compat.conf ] ||
	[ -f /lib/modules-load.d/memfd-compat.conf ] &&
	ok "the packaged modules-load.d entry exists" ||
	fail "no packaged modules-load.d entry"
mode=$(stat -c '%a %U %G' /dev/memfd)
[ "$mode" = "666 root root" ] &&
	ok "/dev/memfd mode from the packaged udev rule: $mode" ||
	fail "/dev/memfd is '$mode', want '666 root root'"

# --- programs linked against the installed library, as nobody
for p in consumer_c consumer_cxx pc_c pc_cxx memfd_demo probe; do
	lib=$(ldd "$dir/$p" | sed -n 's/.*libmemfd-compat\.so\.1 => \([^ ]*\).*/\1/p')
	case $lib in
	/lib/x86_64-linux-gnu/* | /usr/lib/x86_64-linux-gnu/*)
		ok "$p uses the installed $lib" ;;
	*) fail "$p: libmemfd-compat.so.1 resolves to '$lib'" ;;
	esac
done
for p in consumer_c consumer_cxx pc_c pc_cxx; do
	check "$p as nobody, module backend" \
		as_user MEMFD_COMPAT_BACKEND=module "$dir/$p"
done
out=$(as_user "$dir/memfd_demo" 2>&1)
rc=$?
if [ $rc -eq 0 ] && echo "$out" | grep -q 'memfds from memfd_compat.ko'; then
	ok "the demo as nobody, on the module"
else
	fail "the demo as nobody (exit $rc): $out"
fi
out=$(as_user "$dir/probe" 2>&1)
[ "$out" = "module ok" ] && ok "nobody, auto backend: the module" ||
	fail "nobody, auto backend: '$out'"

# --- the LD_PRELOAD shim under an unmodified program from Debian: python3
# creates and seals memfds through glibc. Its transcript must be the same
# as natively, except that its memfds come from /dev/memfd.
shim=$(cat "$dir/shim-path")
native=$(as_user python3 "$dir/memfd_seal_check.py" 2>&1)
rc_native=$?
preloaded=$(as_user LD_PRELOAD="$shim" python3 "$dir/memfd_seal_check.py" 2>&1)
rc_preloaded=$?
echo "$preloaded" | sed 's/^/    python3 (preloaded): /'
if [ $rc_native -eq 0 ] && [ $rc_preloaded -eq 0 ] &&
	echo "$native" | grep -q '^device: no$' &&
	echo "$preloaded" | grep -q '^device: yes$'; then
	ok "python3 runs natively and under $shim, on module memfds there"
else
	fail "python3: native exit $rc_native, preloaded exit $rc_preloaded"
	echo "$native" | sed 's/^/    python3 (native): /'
fi
# Same answers, but for what 6.1 lacks natively (MFD_NOEXEC_SEAL,
# F_SEAL_EXEC): the module gives the newer semantics there.
a=$(echo "$native" | grep -v '^device:' | grep -v 'newer:')
b=$(echo "$preloaded" | grep -v '^device:' | grep -v 'newer:')
[ "$a" = "$b" ] && ok "python3's transcript is the same as natively" ||
	fail "python3's transcript differs: native '$a' preloaded '$b'"
echo "$preloaded" | grep -q '^newer: MFD_NOEXEC_SEAL ok seals 0x20$' &&
	ok "python3 under the shim gets MFD_NOEXEC_SEAL (F_SEAL_EXEC)" ||
	fail "python3 under the shim: no MFD_NOEXEC_SEAL"

# --- manual pages, as a user reads them
if as_user sh -c 'MANWIDTH=80 man -P cat memfd_compat_create 2>/dev/null' |
	grep -q 'memfd_compat_create'; then
	ok "man memfd_compat_create"
else
	fail "man memfd_compat_create shows nothing"
fi

# --- the admin's one-line restriction (README, Security): /dev/memfd for
# the group memfd only.
groupadd --system memfd
gid=$(getent group memfd | cut -d: -f3)
echo 'KERNEL=="memfd", SUBSYSTEM=="misc", GROUP="memfd", MODE="0660"' \
	>/etc/udev/rules.d/60-memfd-compat.rules
udevadm control --reload
udevadm trigger --action=add --sysname-match=memfd
udevadm settle --timeout=30
mode=$(stat -c '%a %U %G' /dev/memfd)
[ "$mode" = "660 root memfd" ] &&
	ok "the local rule restricts /dev/memfd: $mode" ||
	fail "after the local rule /dev/memfd is '$mode'"
out=$(as_user MEMFD_COMPAT_BACKEND=module "$dir/probe" 2>&1)
[ "$out" = "module EACCES" ] &&
	ok "outside the group, module backend: EACCES" ||
	fail "outside the group, module backend: '$out'"
out=$(as_user "$dir/probe" 2>&1)
[ "$out" = "native ok" ] &&
	ok "outside the group, auto backend: the native call" ||
	fail "outside the group, auto backend: '$out'"
out=$(as_user --groups "$gid" "$dir/probe" 2>&1)
[ "$out" = "module ok" ] &&
	ok "in the group, auto backend: the module" ||
	fail "in the group, auto backend: '$out'"

# --- the noexec policy set at boot through modprobe.d (README, Security)
echo 'options memfd_compat memfd_noexec=2' >/etc/modprobe.d/memfd-compat.conf
if rmmod memfd_compat && modprobe memfd_compat; then
	udevadm settle --timeout=30
	v=$(cat /sys/module/memfd_compat/parameters/memfd_noexec)
	[ "$v" = 2 ] && ok "modprobe.d sets memfd_noexec=2" ||
		fail "memfd_noexec is '$v' after modprobe.d set 2"
	out=$(LD_PRELOAD="$shim" python3 -c '
import errno, os
try:
    os.memfd_create("exec", 0x0010)  # MFD_EXEC
    print("created")
except OSError as e:
    print(errno.errorcode[e.errno])' 2>&1)
	[ "$out" = EACCES ] &&
		ok "policy 2: an executable memfd is refused (EACCES)" ||
		fail "policy 2: MFD_EXEC gave '$out'"
else
	fail "rmmod/modprobe memfd_compat failed"
fi

[ $failed -eq 0 ] && echo "installed system: PASSED" ||
	echo "installed system: FAILED"
exit $failed
