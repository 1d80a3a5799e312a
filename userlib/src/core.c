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
 * once /dev/memfd was found missing, else a descriptor opened O_CLOEXEC
 * whose st_rdev is device_rdev. A race between two openers is settled by
 * compare-and-swap; the loser closes its own descriptor.
 */
#define DEVICE_UNSET (-1)
#define DEVICE_ABSENT (-2)
static atomic_int device = DEVICE_UNSET;
static _Atomic(dev_t) device_rdev;

/* True if @fd is still the /dev/memfd we opened as @fd. */
static int is_our_device(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	       st.st_rdev == atomic_load_explicit(&device_rdev, memory_order_relaxed);
}

/* Opens the device and publishes it in place of @stale. */
static int open_device(int stale)
{
	int fd = open(MEMFD_COMPAT_DEVICE, O_RDWR | O_CLOEXEC);
	struct stat st;

	if (fd < 0) {
		if (errno != ENOENT && errno != ENODEV && errno != ENXIO)
			return -errno; /* EMFILE, EACCES...: not remembered */
		fd = DEVICE_ABSENT;
	} else if (fstat(fd, &st) == 0) {
		atomic_store_explicit(&device_rdev, st.st_rdev, memory_order_relaxed);
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
	/*
	 * Unset, or the program closed our descriptor (closefrom() in a
	 * daemon) and the number may now be anything: never close it.
	 */
	return open_device(fd);
}

int memfd_core_resolved_backend(void)
{
	int b = memfd_core_requested_backend();

	if (b != MEMFD_CORE_AUTO)
		return b;
	/* "auto": the module if /dev/memfd exists, else the native call */
	return memfd_core_device() == -ENODEV ? MEMFD_CORE_NATIVE
					      : MEMFD_CORE_MODULE;
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
	backend = memfd_core_resolved_backend();
	if (backend < 0)
		return backend;
	if (backend == MEMFD_CORE_NATIVE)
		return (int)memfd_core_syscall(SYS_memfd_create,
					       (long)(uintptr_t)name, flags, 0);
	dev = memfd_core_device();
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
