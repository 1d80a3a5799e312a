# shellcheck shell=bash
# scripts/kernels.sh - the kernels we support, and how to get at them.
#
# Sourced by the other scripts; defines functions only (plus MEMFD_ROOT).
#
# We support the stock Debian kernels reachable through two metapackages.
# The exact ABI release (e.g. 6.1.0-56-amd64) moves with every Debian point
# release, so it is never written down anywhere: it is asked of apt each time,
# from the metapackage's dependency. The image package is only downloaded and
# unpacked under build/ (never installed), so the machine we build on keeps
# its own kernel, /boot and initramfs untouched.

MEMFD_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Short names users type, in the order tests run them: each series in
# Debian's three flavours (amd64, cloud-amd64, rt-amd64, the PREEMPT_RT one).
MEMFD_SUPPORTED_KERNELS=(6.1 6.1-cloud 6.1-rt 6.12 6.12-cloud 6.12-rt)

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

# kernel_image_metapackage SHORT -> the metapackage that tracks that series
# and flavour.
kernel_image_metapackage() {
	case "$1" in
	6.1) echo linux-image-amd64 ;;
	6.1-cloud) echo linux-image-cloud-amd64 ;;
	6.1-rt) echo linux-image-rt-amd64 ;;
	6.12) echo linux-image-6.12-amd64 ;;
	6.12-cloud) echo linux-image-6.12-cloud-amd64 ;;
	6.12-rt) echo linux-image-6.12-rt-amd64 ;;
	*) return 1 ;;
	esac
}

# kernel_release SHORT|RELEASE -> exact release string, e.g. 6.12.117+deb12-amd64.
# A full release (anything ending in -amd64) is passed through unchanged, so a
# developer can pin one for a bisect without editing scripts.
kernel_release() {
	local want=$1 meta release
	# the debug kernel of scripts/build-debug-kernel
	if [[ $want == debug ]]; then
		echo debug
		return 0
	fi
	if [[ $want == *-amd64 ]]; then
		echo "$want"
		return 0
	fi
	meta=$(kernel_image_metapackage "$want") ||
		die "unknown kernel '$want' (supported: ${MEMFD_SUPPORTED_KERNELS[*]})"
	# "Depends: linux-image-6.1.0-56-amd64" -> 6.1.0-56-amd64. Only a real
	# linux-image-<digit> package counts (not e.g. a <virtual> alternative).
	release=$(apt-cache depends "$meta" 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*\)$/\1/p' | head -n1)
	[[ -n $release ]] ||
		die "cannot resolve $meta through apt-cache (run scripts/setup, or apt-get update)"
	echo "$release"
}

# kernel_dir RELEASE -> where the unpacked image package lives.
kernel_dir() {
	echo "$MEMFD_ROOT/build/kernels/$1"
}

# kernel_fetch RELEASE: download linux-image-RELEASE and unpack it under
# build/kernels/RELEASE/ (boot/vmlinuz-RELEASE and lib/modules/RELEASE/; the
# latter holds fuse.ko and friends that 6.1 builds as modules). Cached: a
# stamp written after a complete unpack makes later calls free, and an
# interrupted unpack is simply redone.
kernel_fetch() {
	local release=$1 dir tmp deb
	dir=$(kernel_dir "$release")
	[[ $release == debug ]] && {
		kernel_fetch_debug "$dir"
		return 0
	}
	[[ -f $dir/.unpacked ]] && return 0

	echo "${0##*/}: fetching linux-image-$release (download only, not installed)" >&2
	rm -rf "$dir"
	mkdir -p "$dir"
	tmp=$(mktemp -d "$dir.dl.XXXXXX")
	# apt-get download writes into the current directory. As root it warns
	# that the _apt sandbox user cannot write there; letting _apt own the
	# directory avoids that noise where the user exists.
	chown _apt "$tmp" 2>/dev/null || true
	(cd "$tmp" && apt-get download -q "linux-image-$release" >/dev/null) || {
		rm -rf "$tmp"
		die "apt-get download linux-image-$release failed"
	}
	deb=$(echo "$tmp"/linux-image-*.deb)
	[[ -f $deb ]] || die "no .deb downloaded for linux-image-$release"
	dpkg-deb -x "$deb" "$dir" || die "dpkg-deb -x $deb failed"
	rm -rf "$tmp"
	[[ -f $dir/boot/vmlinuz-$release ]] || die "$deb has no boot/vmlinuz-$release"
	# The package ships no modules.dep (depmod runs at install time, which we
	# skip); generate it so --kmod can pull in a module's dependencies.
	depmod -b "$dir" "$release" || die "depmod for $release failed"
	touch "$dir/.unpacked"
}

# kernel_fetch_debug DIR: lay the debug kernel built by
# scripts/build-debug-kernel out like an unpacked image package (its
# modules are built in, so lib/modules holds only the lists).
kernel_fetch_debug() {
	local dir=$1 obj=$MEMFD_ROOT/build/debug-kernel/obj
	[[ -f $obj/arch/x86/boot/bzImage ]] ||
		die "no debug kernel: run scripts/build-debug-kernel first"
	mkdir -p "$dir/boot" "$dir/lib/modules/debug"
	cp "$obj/arch/x86/boot/bzImage" "$dir/boot/vmlinuz-debug"
	cp "$obj/modules.builtin" "$dir/lib/modules/debug/modules.builtin"
	: >"$dir/lib/modules/debug/modules.dep"
}

# kernel_vmlinuz RELEASE / kernel_modules_dir RELEASE -> paths inside the cache.
kernel_vmlinuz() {
	echo "$(kernel_dir "$1")/boot/vmlinuz-$1"
}

kernel_modules_dir() {
	echo "$(kernel_dir "$1")/lib/modules/$1"
}

# kernel_headers_dir RELEASE -> the installed linux-headers tree to build against.
kernel_headers_dir() {
	echo "/usr/src/linux-headers-$1"
}

# unpack_ko SRC DST: copy a kernel module, decompressing .ko.xz / .ko.zst.
unpack_ko() {
	case $1 in
	*.ko.xz) xz -dc "$1" >"$2" ;;
	*.ko.zst) zstd -qdc "$1" >"$2" ;;
	*.ko) cp "$1" "$2" ;;
	*) die "unpack_ko: $1 is not a kernel module" ;;
	esac
}

# cmake_configure: the project's own CMake build in build/cmake, with
# warnings as errors (users' builds leave them off).
cmake_configure() {
	cmake -S "$MEMFD_ROOT" -B "$MEMFD_ROOT/build/cmake" \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMFD_WERROR=ON >/dev/null
}

# memfd_build_module KDIR OUT [MAKE ARGS...]: builds memfd_compat.ko against
# the kernel tree KDIR in OUT, a fresh copy of Kbuild, module/ and uapi/
# (Kbuild writes its objects beside the sources, and two kernels must not
# share them). Any "warning:" or "error:" in the log (compiler, sparse,
# W=1) fails it: Debian's headers do not all set CONFIG_WERROR. The log is
# OUT/build.log; on failure its findings go to stderr.
memfd_build_module() {
	local kdir=$1 out=$2 log
	shift 2
	[[ -f $kdir/Makefile ]] || die "no kernel tree at $kdir"
	rm -rf "$out"
	mkdir -p "$out"
	cp -r "$MEMFD_ROOT/Kbuild" "$MEMFD_ROOT/module" "$MEMFD_ROOT/uapi" "$out/"
	log=$out/build.log
	if ! make -C "$kdir" M="$out" -j"$(nproc)" "$@" modules >"$log" 2>&1; then
		grep -E 'warning:|error:' "$log" >&2 || tail -n 20 "$log" >&2
		return 1
	fi
	if grep -Eq 'warning:|error:' "$log"; then
		grep -E 'warning:|error:' "$log" >&2
		return 1
	fi
	[[ -f $out/memfd_compat.ko ]]
}
