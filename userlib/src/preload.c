/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libmemfd-preload.so: memfd-compat for unmodified programs.
 *
 *   LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libmemfd-preload.so app
 *
 * Interposes:
 *   memfd_create()              creates the memfd through /dev/memfd
 *   syscall(SYS_memfd_create)   likewise; other numbers pass through
 *   fcntl(), fcntl64()          F_ADD_SEALS / F_GET_SEALS on a module memfd
 *                               become the module's ioctls; every other
 *                               command, and every other file, passes
 *                               through to the real fcntl() unchanged
 *
 * Backend, as in libmemfd-compat (MEMFD_COMPAT_BACKEND, read once):
 * "module" always uses /dev/memfd (ENODEV without it), "native" passes
 * everything through, "auto" or unset uses /dev/memfd when it exists,
 * anything else makes memfd_create() fail with EINVAL.
 *
 * Self-contained C with no dependency beyond libc (so that it loads into
 * any program), and every symbol but the interposed ones hidden. It does
 * not use libmemfd-compat: the library's own fcntl() calls would come back
 * here.
 *
 * Telling a module memfd apart. Another driver's ioctl may share the
 * module's numbers (the first draft's magic was nsfs's), so they are never
 * sent to an arbitrary descriptor. The
 * real fcntl(F_GET_SEALS) comes first: it fails (EINVAL) on anything but a
 * shmem or hugetlbfs file. On a module memfd it reports F_SEAL_SEAL, the
 * kernel's own seal field which the module sets; only then is the ioctl
 * tried, and ENOTTY from it means "a native memfd sealed with F_SEAL_SEAL
 * alone", whose answer the first call already gave.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <memfd_compat/uapi.h>

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#endif
#ifndef F_SEAL_SEAL
#define F_SEAL_SEAL 0x0001
#endif

#define PUBLIC __attribute__((visibility("default")))

typedef int (*fcntl_fn)(int, int, ...);
typedef long (*syscall_fn)(long, ...);

enum backend { BACKEND_AUTO, BACKEND_NATIVE, BACKEND_MODULE, BACKEND_INVALID };

/* Unresolved, or the next definition of each symbol. */
static _Atomic(fcntl_fn) real_fcntl_p;
static _Atomic(fcntl_fn) real_fcntl64_p;
static _Atomic(syscall_fn) real_syscall_p;

static void *next_symbol(const char *name, const char *fallback)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (p == NULL && fallback != NULL)
		p = dlsym(RTLD_NEXT, fallback);
	if (p == NULL) {
		static const char msg[] = "libmemfd-preload: a libc symbol is missing\n";

		(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
		abort();
	}
	return p;
}

static fcntl_fn real_fcntl(void)
{
	fcntl_fn f = atomic_load_explicit(&real_fcntl_p, memory_order_acquire);

	if (f == NULL) {
		f = (fcntl_fn)next_symbol("fcntl", NULL);
		atomic_store_explicit(&real_fcntl_p, f, memory_order_release);
	}
	return f;
}

/* glibc before 2.28 has no fcntl64: then fcntl is the 64-bit one. */
static fcntl_fn real_fcntl64(void)
{
	fcntl_fn f = atomic_load_explicit(&real_fcntl64_p, memory_order_acquire);

	if (f == NULL) {
		f = (fcntl_fn)next_symbol("fcntl64", "fcntl");
		atomic_store_explicit(&real_fcntl64_p, f, memory_order_release);
	}
	return f;
}

static syscall_fn real_syscall(void)
{
	syscall_fn f = atomic_load_explicit(&real_syscall_p, memory_order_acquire);

	if (f == NULL) {
		f = (syscall_fn)next_symbol("syscall", NULL);
		atomic_store_explicit(&real_syscall_p, f, memory_order_release);
	}
	return f;
}

static enum backend parse_backend(const char *v)
{
	if (v == NULL || v[0] == '\0' || strcmp(v, "auto") == 0)
		return BACKEND_AUTO;
	if (strcmp(v, "native") == 0)
		return BACKEND_NATIVE;
	if (strcmp(v, "module") == 0)
		return BACKEND_MODULE;
	return BACKEND_INVALID;
}

/* MEMFD_COMPAT_BACKEND, read once (a race reads it twice, harmlessly). */
static enum backend requested_backend(void)
{
	static atomic_int cached = -1;
	int b = atomic_load_explicit(&cached, memory_order_relaxed);

	if (b < 0) {
		b = (int)parse_backend(getenv("MEMFD_COMPAT_BACKEND"));
		atomic_store_explicit(&cached, b, memory_order_relaxed);
	}
	return (enum backend)b;
}

/*
 * The process-wide /dev/memfd descriptor. DEV_UNSET before the first use,
 * DEV_ABSENT once found missing (for the life of the process), else the
 * descriptor, opened O_CLOEXEC. A race between two first callers is
 * settled by compare-and-swap; the loser closes its descriptor.
 */
#define DEV_UNSET (-1)
#define DEV_ABSENT (-2)
static atomic_int device = DEV_UNSET;
/* st_rdev of the device we opened, to notice a descriptor reused by the
 * program after it closed ours (e.g. a closefrom() when daemonizing). */
static _Atomic(dev_t) device_rdev;

static int open_device(int expected)
{
	int fd = open(MEMFD_COMPAT_DEVICE, O_RDWR | O_CLOEXEC);
	struct stat st;

	if (fd < 0) {
		if (errno != ENOENT && errno != ENODEV && errno != ENXIO)
			return -1; /* e.g. EMFILE, EACCES: try again next time */
		fd = DEV_ABSENT;
	} else if (fstat(fd, &st) == 0) {
		atomic_store_explicit(&device_rdev, st.st_rdev, memory_order_relaxed);
	}
	if (!atomic_compare_exchange_strong(&device, &expected, fd)) {
		if (fd >= 0)
			close(fd);
		fd = expected;
	}
	if (fd == DEV_ABSENT) {
		errno = ENODEV;
		return -1;
	}
	return fd;
}

/* The device descriptor, or -1 with errno (ENODEV: no module). */
static int device_fd(void)
{
	int fd = atomic_load_explicit(&device, memory_order_acquire);

	if (fd >= 0)
		return fd;
	if (fd == DEV_ABSENT) {
		errno = ENODEV;
		return -1;
	}
	return open_device(DEV_UNSET);
}

/* True if our descriptor still refers to /dev/memfd. */
static int device_still_ours(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	       st.st_rdev == atomic_load_explicit(&device_rdev, memory_order_relaxed);
}

static int module_create(const char *name, unsigned int flags)
{
	struct memfd_compat_create_args args;
	int dev = device_fd();
	int ret;

	if (dev < 0)
		return -1;
	memset(&args, 0, sizeof(args));
	args.name = (uint64_t)(uintptr_t)name;
	args.flags = flags;
	ret = ioctl(dev, MEMFD_COMPAT_IOC_CREATE, &args);
	if (ret < 0 && (errno == EBADF || errno == ENOTTY) && !device_still_ours(dev)) {
		/* The program closed our descriptor: open the device again. */
		dev = open_device(dev);
		if (dev < 0)
			return -1;
		ret = ioctl(dev, MEMFD_COMPAT_IOC_CREATE, &args);
	}
	return ret;
}

static int create(const char *name, unsigned int flags)
{
	switch (requested_backend()) {
	case BACKEND_NATIVE:
		break;
	case BACKEND_MODULE:
		return module_create(name, flags);
	case BACKEND_AUTO:
		if (device_fd() >= 0 || errno != ENODEV)
			return module_create(name, flags);
		break;
	case BACKEND_INVALID:
		errno = EINVAL;
		return -1;
	}
	return (int)real_syscall()(SYS_memfd_create, name, flags);
}

/*
 * F_GET_SEALS / F_ADD_SEALS through @next (the real fcntl or fcntl64);
 * see the comment at the top for how a module memfd is recognised.
 */
static int seal_fcntl(fcntl_fn next, int fd, int cmd, unsigned long arg)
{
	const int saved = errno;
	int native = next(fd, F_GET_SEALS);
	int ret;

	if (native < 0 && cmd == F_GET_SEALS)
		return -1; /* not a memfd (EINVAL), or EBADF */
	if (native != F_SEAL_SEAL)
		goto pass_through; /* not a memfd, or a native one */
	if (cmd == F_GET_SEALS)
		ret = ioctl(fd, MEMFD_COMPAT_IOC_GET_SEALS, 0);
	else
		ret = ioctl(fd, MEMFD_COMPAT_IOC_ADD_SEALS, (unsigned long)(unsigned int)arg);
	if (ret >= 0 || errno != ENOTTY) {
		if (ret >= 0)
			errno = saved;
		return ret;
	}
	/* A native memfd whose only seal is F_SEAL_SEAL. */
pass_through:
	if (cmd == F_GET_SEALS && native >= 0) {
		errno = saved;
		return native;
	}
	errno = saved;
	return next(fd, cmd, arg);
}

static int do_fcntl(fcntl_fn next, int fd, int cmd, unsigned long arg)
{
	if ((cmd == F_ADD_SEALS || cmd == F_GET_SEALS) &&
	    requested_backend() != BACKEND_NATIVE)
		return seal_fcntl(next, fd, cmd, arg);
	return next(fd, cmd, arg);
}

/*
 * The third argument of fcntl() is an int, a pointer or absent, depending
 * on the command. Reading it as unsigned long and passing it on is what
 * glibc's own fcntl does: an int travels in the low half of the same
 * register or stack slot, and the kernel truncates where it expects an int.
 */
PUBLIC int fcntl(int fd, int cmd, ...)
{
	unsigned long arg;
	va_list ap;

	va_start(ap, cmd);
	arg = va_arg(ap, unsigned long);
	va_end(ap);
	return do_fcntl(real_fcntl(), fd, cmd, arg);
}

PUBLIC int fcntl64(int fd, int cmd, ...)
{
	unsigned long arg;
	va_list ap;

	va_start(ap, cmd);
	arg = va_arg(ap, unsigned long);
	va_end(ap);
	return do_fcntl(real_fcntl64(), fd, cmd, arg);
}

PUBLIC int memfd_create(const char *name, unsigned int flags)
{
	return create(name, flags);
}

/*
 * syscall() takes up to six arguments after the number; like glibc's own,
 * we read six and pass them on, whatever the caller supplied.
 */
PUBLIC long syscall(long number, ...)
{
	long a[6];
	va_list ap;
	int i;

	va_start(ap, number);
	/* the analyzer loses track of va_start() across the loop */
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long); /* NOLINT(clang-analyzer-valist.Uninitialized) */
	va_end(ap);
	/* syscall() carries pointers as longs */
	if (number == SYS_memfd_create)
		return create((const char *)a[0], /* NOLINT(performance-no-int-to-ptr) */
			      (unsigned int)a[1]);
	return real_syscall()(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
