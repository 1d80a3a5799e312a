#!/bin/sh
# The guest's /init, put into the initramfs by scripts/vm-run and run by
# busybox sh as PID 1. It must never exit (the kernel would panic), so every
# path ends in finish(), which powers off; hence no `set -e`.
#
# vm-run writes what to do into /etc/vm-run.plan (shell assignments):
#   KMODS        kernel modules from the image to insmod, in order
#   LOAD_MODULE  1: insmod /lib/modules/memfd_compat.ko (the freshly built one)
#   RMMOD_AFTER  1: unload memfd_compat after CMD; failing to is a failure
#   HOST_ROOT    1: boot the host's root filesystem (shared read-only over
#                virtiofs, tag "hostroot") under a tmpfs overlay, with udevd
#                running and the *installed* module loaded the way the
#                installed system loads it (modules-load.d, udev rules)
#   NFETCH, FETCH_<n>  guest files to send back after CMD
# and the command itself into /etc/cmd (one exec line).
#
# Output protocol (scripts/lib/vm-demux.py reads it on the host): CMD's
# bytes on ttyS1, then "@@MEMFD-..." markers; the kernel log goes to the
# console (ttyS0) between @@MEMFD-DMESG-BEGIN/END@@.
#
# With HOST_ROOT the script runs twice: first from the initramfs (stage 1:
# mount the host root, switch_root into it), then, as "init stage2", from
# /run/vm-run inside the new root, under the installed /bin/sh, with
# busybox copied alongside for what the installed system has no stand-in
# for without systemd (poweroff -f).

VM=/run/vm-run # stage 2's home in the new root (a tmpfs)
OUT=/dev/ttyS1

finish() {
	echo "@@MEMFD-DMESG-BEGIN@@"
	dmesg
	echo "@@MEMFD-DMESG-END@@"
	echo "@@MEMFD-DONE@@" >$OUT
	sync
	$BB poweroff -f
	# not reached; PID 1 must not return even if poweroff failed
	while :; do $BB sleep 1000; done
}

setup_failed() {
	echo "vm-run guest: $*"
	echo "@@MEMFD-SETUP-FAILED@@ $*" >$OUT
	finish
}

mount_basics() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev
	mkdir -p /dev/pts /dev/shm
	mount -t devpts devpts /dev/pts
	mount -t tmpfs tmpfs /dev/shm
	mount -t tmpfs tmpfs /tmp
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
}

# Stage 1 of HOST_ROOT: the host's / (read-only at the source, see vm-run)
# below a tmpfs, so the guest can write (/etc, /var) without touching it.
switch_to_host_root() {
	mkdir -p /host /rw /newroot
	mount -t virtiofs hostroot /host -o ro ||
		setup_failed 'mount -t virtiofs hostroot failed'
	mount -t tmpfs -o mode=0755 tmpfs /rw
	mkdir -p /rw/upper /rw/work
	mount -t overlay overlay /newroot \
		-o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work ||
		setup_failed 'overlay mount failed'
	mount -t tmpfs -o mode=0755 tmpfs /newroot/run
	mkdir -p /newroot$VM
	cp /init /etc/vm-run.plan /etc/cmd /bin/busybox /newroot$VM/
	cp -a /.tmpseed /newroot$VM/tmpseed
	umount /proc /sys /dev 2>/dev/null
	# Stage 2 runs under the installed system's /bin/sh, so that its
	# commands and CMD's are the installed system's, not busybox applets
	# (Debian's static busybox runs its own applets before any in PATH).
	# shellcheck disable=SC2093 # the line after runs only if exec failed
	exec switch_root /newroot /bin/sh $VM/init stage2
	setup_failed 'switch_root failed'
}

# Stage 2 of HOST_ROOT: what an installed Debian system does at boot for
# this package, without systemd as PID 1: udevd handles device events
# (the packaged rule sets /dev/memfd's mode), systemd-modules-load reads
# modules-load.d (the packaged entry loads memfd_compat with modprobe, from
# /lib/modules/$(uname -r)/updates/dkms).
start_installed_system() {
	mkdir -p /run/udev /run/lock
	/lib/systemd/systemd-udevd --daemon >/dev/null 2>&1 ||
		setup_failed 'systemd-udevd did not start'
	udevadm trigger --action=add --type=subsystems >/dev/null 2>&1
	udevadm trigger --action=add --type=devices >/dev/null 2>&1
	udevadm settle --timeout=60
	log=$(/lib/systemd/systemd-modules-load 2>&1) ||
		setup_failed "systemd-modules-load failed: $log"
	udevadm settle --timeout=60
	[ -c /dev/memfd ] || setup_failed "/dev/memfd missing after" \
		"systemd-modules-load ($log); modinfo: $(modinfo -n memfd_compat 2>&1)"
}

if [ "$1" = stage2 ]; then
	ETC=$VM
else
	ETC=/etc
fi
. $ETC/vm-run.plan
if [ "$1" = stage2 ]; then
	BB=$VM/busybox
	export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	export HOME=/root TMPDIR=/tmp
	mount_basics
	cp -a $VM/tmpseed/. /tmp/
	hostname vm-run 2>/dev/null
else
	BB=/bin/busybox
	export PATH=/bin:/sbin HOME=/root TMPDIR=/tmp
	mount_basics
	cp -a /.tmpseed/. /tmp/
fi
ip link set lo up 2>/dev/null
# An oops should end the run at once with its report, not limp on.
echo 1 >/proc/sys/kernel/panic_on_oops
# ttyS1 carries CMD's bytes untranslated (no \n -> \r\n) back to the host.
$BB stty -F $OUT raw -echo

if [ "$1" != stage2 ]; then
	for m in $KMODS; do
		insmod "$m" || setup_failed "insmod $m failed"
	done
	if [ "$LOAD_MODULE" = 1 ]; then
		insmod /lib/modules/memfd_compat.ko ||
			setup_failed 'insmod memfd_compat.ko failed'
		[ -c /dev/memfd ] ||
			setup_failed '/dev/memfd missing after insmod memfd_compat.ko'
	fi
	[ "$HOST_ROOT" = 1 ] && switch_to_host_root
else
	start_installed_system
fi

cd /tmp || setup_failed 'no /tmp'
read -r uptime rest </proc/uptime
echo "@@MEMFD-UPTIME@@ $uptime"
sh $ETC/cmd </dev/null >$OUT 2>&1
rc=$?
printf '\n@@MEMFD-STATUS@@ %d\n' $rc >$OUT

if [ "$RMMOD_AFTER" = 1 ] && [ -d /sys/module/memfd_compat ]; then
	# Deferred work (io_uring ring teardown, RCU frees) may still hold the
	# module for a moment after CMD exits; allow it ~5 s. (CMD may have
	# unloaded it itself, as the lifetime tests do.)
	n=0
	until rmmod memfd_compat 2>/dev/null; do
		n=$((n + 1))
		if [ $n -ge 50 ]; then
			echo "@@MEMFD-RMMOD-FAILED@@ rmmod memfd_compat still fails after 5 s: $(rmmod memfd_compat 2>&1)" >$OUT
			break
		fi
		$BB sleep 0.1
	done
fi

n=0
while [ $n -lt "${NFETCH:-0}" ]; do
	f=
	eval "f=\$FETCH_$n"
	if [ -f "$f" ]; then
		{
			echo "@@MEMFD-FETCH-BEGIN@@ $n"
			$BB base64 "$f"
			echo "@@MEMFD-FETCH-END@@ $n"
		} >$OUT
	else
		echo "@@MEMFD-FETCH-MISSING@@ $n" >$OUT
	fi
	n=$((n + 1))
done
finish
