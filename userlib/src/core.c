/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Backend selection, the /dev/memfd descriptor and call routing; see
 * core.h. Seals of a module memfd are the kernel's own, so seal calls go
 * to fcntl(); only a seal that the running kernel's fcntl() refuses with
 * EINVAL and the module supplies (F_SEAL_EXEC before Linux 6.3) goes to
 * the module's ioctl. No file is ever sent an ioctl of ours: the ioctl
 * goes to /dev/memfd and names the memfd.
 */
#define _GNU_SOURCE
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#endif

#define BACKEND_UNSET (-1)

/* memfd_core_set_backend()'s value, or BACKEND_UNSET */
static atomic_int override_backend = BACKEND_UNSET;

static int parse_backend(const char *v)
{
	if (v == NULL || v[0] == '\0' || strcmp(v, "auto") == 0)
		return MEMFD_CORE_AUTO;
	if (strcmp(v, "native") == 0)
		return MEMFD_CORE_NATIVE;
	if (strcmp(v, "module") == 0)
		return MEMFD_CORE_MODULE;
	return -EINVAL;
}

/* MEMFD_COMPAT_BACKEND, read once (two first readers agree anyway). */
static int env_backend(void)
{
	static atomic_int cached = BACKEND_UNSET;
	int b = atomic_load_explicit(&cached, memory_order_relaxed);

	if (b == BACKEND_UNSET) {
		b = parse_backend(getenv("MEMFD_COMPAT_BACKEND"));
		atomic_store_explicit(&cached, b, memory_order_relaxed);
	}
	return b;
}

int memfd_core_requested_backend(void)
{
	int b = atomic_load_explicit(&override_backend, memory_order_relaxed);

	return b != BACKEND_UNSET ? b : env_backend();
}

int memfd_core_set_backend(int backend)
{
	switch (backend) {
	case MEMFD_CORE_AUTO:
	case MEMFD_CORE_NATIVE:
	case MEMFD_CORE_MODULE:
		atomic_store_explicit(&override_backend, backend, memory_order_relaxed);
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * The device descriptor: DEVICE_UNSET before the first use, DEVICE_ABSENT
 * once /dev/memfd was found missing, else a descriptor opened O_CLOEXEC.
 * A race between two openers is settled by compare-and-swap; the loser
 * closes its own descriptor.
 *
 * A program may close our descriptor (closefrom() in a daemon) and get
 * its number back for another file, to which no ioctl of ours may go. So
 * before every use we check that the number still is our device: every
 * device file we open gets this process's random cookie as its file
 * position (the device has no data; forked children share the file and
 * the cookie), and lseek(SEEK_CUR) reads it back, a few hundred
 * instructions where fstat() costs about a thousand. A module without
 * seekable positions (API version 1) is checked by fstat() and st_rdev.
 */
#define DEVICE_UNSET (-1)
#define DEVICE_ABSENT (-2)
static atomic_int device = DEVICE_UNSET;
static _Atomic(dev_t) device_rdev;
static atomic_bool device_has_cookie;

/* This process's cookie: random, non-negative, never 0. */
static off_t device_cookie(void)
{
	static _Atomic(off_t) cookie;
	off_t c = atomic_load_explicit(&cookie, memory_order_relaxed);
	off_t fresh = 0, expected = 0;

	if (c != 0)
		return c;
	if (getrandom(&fresh, sizeof(fresh), GRND_NONBLOCK) != sizeof(fresh))
		fresh = (off_t)(uintptr_t)&fresh ^ (off_t)getpid() << 32;
	fresh &= INT64_MAX;
	if (fresh == 0)
		fresh = 1;
	if (!atomic_compare_exchange_strong(&cookie, &expected, fresh))
		return expected; /* another thread's */
	return fresh;
}

/* True if @fd is still the /dev/memfd we opened as @fd. */
static int is_our_device(int fd)
{
	struct stat st;

	if (atomic_load_explicit(&device_has_cookie, memory_order_relaxed))
		return lseek(fd, 0, SEEK_CUR) == device_cookie();
	return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	       st.st_rdev == atomic_load_explicit(&device_rdev, memory_order_relaxed);
}

/* Opens the device and publishes it in place of @stale. */
static int open_device(int stale)
{
	int fd = open(MEMFD_COMPAT_DEVICE, O_RDWR | O_CLOEXEC);
	off_t cookie = device_cookie();
	struct stat st;

	if (fd < 0) {
		if (errno != ENOENT && errno != ENODEV && errno != ENXIO)
			return -errno; /* EMFILE, EACCES...: not remembered */
		fd = DEVICE_ABSENT;
	} else if (fstat(fd, &st) == 0) {
		atomic_store_explicit(&device_rdev, st.st_rdev, memory_order_relaxed);
		atomic_store_explicit(&device_has_cookie,
				      lseek(fd, cookie, SEEK_SET) == cookie,
				      memory_order_relaxed);
	} else {
		int err = errno;

		close(fd);
		return -err;
	}
	if (!atomic_compare_exchange_strong(&device, &stale, fd)) {
		if (fd >= 0)
			close(fd);
		fd = stale; /* another thread's result */
	}
	return fd == DEVICE_ABSENT ? -ENODEV : fd;
}

int memfd_core_device(void)
{
	int fd = atomic_load_explicit(&device, memory_order_acquire);

	if (fd == DEVICE_ABSENT)
		return -ENODEV;
	if (fd >= 0 && is_our_device(fd))
		return fd;
	/* unset, or no longer ours: the number is not ours to close */
	return open_device(fd);
}

/*
 * The backend in force ("auto" resolved) and, for the module, the device
 * descriptor in *@dev, so that a create checks the descriptor only once.
 */
static int resolve(int *dev)
{
	int b = memfd_core_requested_backend();

	*dev = -ENODEV;
	if (b < 0 || b == MEMFD_CORE_NATIVE)
		return b;
	*dev = memfd_core_device();
	/*
	 * "auto": the module if this process may use /dev/memfd, else the
	 * native call. A device the administrator restricted (a udev rule
	 * giving it to a group) counts as absent for those outside: they get
	 * what the kernel offers, as they would without the module. The
	 * refused open is not remembered, so it is tried at each create.
	 */
	if (b == MEMFD_CORE_AUTO)
		return *dev == -ENODEV || *dev == -EACCES || *dev == -EPERM ?
			       MEMFD_CORE_NATIVE : MEMFD_CORE_MODULE;
	return b;
}

int memfd_core_resolved_backend(void)
{
	int dev;

	return resolve(&dev);
}

static int dev_ioctl(unsigned long cmd, void *arg)
{
	int dev = memfd_core_device();

	if (dev < 0)
		return dev;
	return ioctl(dev, cmd, arg) < 0 ? -errno : 0;
}

int memfd_core_create(const char *name, unsigned int flags)
{
	struct memfd_compat_create_args args;
	int backend, dev, fd;

	if (name == NULL)
		return -EFAULT;
	backend = resolve(&dev);
	if (backend < 0)
		return backend;
	if (backend == MEMFD_CORE_NATIVE)
		return (int)memfd_core_syscall(SYS_memfd_create,
					       (long)(uintptr_t)name, flags, 0);
	if (dev < 0)
		return dev;
	memset(&args, 0, sizeof(args));
	args.name = (uint64_t)(uintptr_t)name;
	args.flags = flags;
	fd = ioctl(dev, MEMFD_COMPAT_IOC_CREATE, &args);
	return fd < 0 ? -errno : fd;
}

int memfd_core_add_seals(int fd, unsigned int seals)
{
	struct memfd_compat_seal_args args;
	long ret;
	int ioc;

	ret = memfd_core_syscall(SYS_fcntl, fd, F_ADD_SEALS, (long)seals);
	if (ret != -EINVAL || !(seals & MEMFD_COMPAT_SEAL_EXEC) ||
	    memfd_core_requested_backend() == MEMFD_CORE_NATIVE)
		return (int)ret;
	/*
	 * This kernel's fcntl() does not know F_SEAL_EXEC (or the call is
	 * invalid anyway, which the module reports the same way). Without
	 * the device, the kernel's answer stands.
	 */
	memset(&args, 0, sizeof(args));
	args.fd = fd;
	args.seals = seals;
	ioc = dev_ioctl(MEMFD_COMPAT_IOC_ADD_SEALS, &args);
	return ioc == -ENODEV || ioc == -EACCES ? (int)ret : ioc;
}

int memfd_core_add_seals2(int fd, unsigned int seals, unsigned int flags)
{
	struct memfd_compat_seal_args args;

	memset(&args, 0, sizeof(args));
	args.fd = fd;
	args.seals = seals;
	args.flags = flags;
	return dev_ioctl(MEMFD_COMPAT_IOC_ADD_SEALS, &args);
}

int memfd_core_get_seals(int fd)
{
	return (int)memfd_core_syscall(SYS_fcntl, fd, F_GET_SEALS, 0);
}

int memfd_core_query(struct memfd_compat_info *out)
{
	if (out == NULL)
		return -EFAULT;
	return dev_ioctl(MEMFD_COMPAT_IOC_QUERY, out);
}
