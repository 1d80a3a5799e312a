/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libmemfd-preload.so: memfd-compat for unmodified programs.
 *
 *   LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libmemfd-preload.so app
 *
 * Interposes:
 *   memfd_create()              creates the memfd through /dev/memfd
 *   syscall(SYS_memfd_create)   likewise; other numbers pass through
 *   fcntl(), fcntl64()          F_ADD_SEALS of a seal the kernel's own
 *                               fcntl() lacks (F_SEAL_EXEC before Linux
 *                               6.3) goes to the module; everything else
 *                               passes through to the real fcntl()
 *
 * A module memfd's seals are the kernel's own, so F_GET_SEALS, and every
 * F_ADD_SEALS the kernel can serve, need nothing from us; a receiver
 * without the preload sees the same seals. Backend selection, the device
 * descriptor and the routing are libmemfd-compat's (core.c, compiled in
 * here), so the two cannot drift apart.
 *
 * Self-contained C with no dependency beyond libc (so that it loads into
 * any program), and every symbol but the interposed ones hidden.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core.h"

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#endif

#define PUBLIC __attribute__((visibility("default")))

typedef int (*fcntl_fn)(int, int, ...);
typedef long (*syscall_fn)(long, ...);

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

/* The core's raw system calls bypass our own syscall() below. */
long memfd_core_syscall(long nr, long a1, long a2, long a3)
{
	long ret = real_syscall()(nr, a1, a2, a3);

	return ret < 0 ? -errno : ret;
}

/* Back to the libc convention, leaving errno alone on success. */
static long to_libc(long ret)
{
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

static int do_fcntl(fcntl_fn next, int fd, int cmd, unsigned long arg)
{
	if (cmd == F_ADD_SEALS)
		return (int)to_libc(memfd_core_add_seals(fd, (unsigned int)arg));
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
	return (int)to_libc(memfd_core_create(name, flags));
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
		return to_libc(memfd_core_create((const char *)a[0], /* NOLINT(performance-no-int-to-ptr) */
						 (unsigned int)a[1]));
	return real_syscall()(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
