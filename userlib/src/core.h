/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one implementation of backend selection, the /dev/memfd descriptor
 * and the routing of create and seal calls, shared by libmemfd-compat and
 * libmemfd-preload. Plain C against libc, so that the preload shim carries
 * it without libstdc++. Every function returns a result >= 0 or -errno
 * (the liburing convention); the public entry points translate.
 */
#ifndef MEMFD_COMPAT_SRC_CORE_H
#define MEMFD_COMPAT_SRC_CORE_H

#include <memfd_compat/uapi.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Same values as enum memfd_compat_backend of the public header. */
enum memfd_core_backend {
	MEMFD_CORE_AUTO = 0,
	MEMFD_CORE_NATIVE = 1,
	MEMFD_CORE_MODULE = 2,
};

/*
 * The raw system call @nr with three arguments, as -errno. Defined by each
 * library that links the core: libmemfd-preload interposes syscall(), so
 * the core must not call it by name.
 */
long memfd_core_syscall(long nr, long a1, long a2, long a3);

/* memfd_core_set_backend()'s choice, else MEMFD_COMPAT_BACKEND (read once). */
int memfd_core_requested_backend(void);
int memfd_core_set_backend(int backend);
/* MEMFD_CORE_NATIVE or MEMFD_CORE_MODULE ("auto" resolved), or -errno. */
int memfd_core_resolved_backend(void);

/*
 * The process's /dev/memfd descriptor, checked to still be the device
 * before every use (a daemon may have closed it under us), or -errno:
 * -ENODEV when the device does not exist (remembered for the process).
 */
int memfd_core_device(void);

int memfd_core_create(const char *name, unsigned int flags);
int memfd_core_add_seals(int fd, unsigned int seals);
/* always the ADD_SEALS ioctl, whatever the backend */
int memfd_core_add_seals2(int fd, unsigned int seals, unsigned int flags);
int memfd_core_get_seals(int fd);
int memfd_core_query(struct memfd_compat_info *out);

#ifdef __cplusplus
}
#endif

#endif /* MEMFD_COMPAT_SRC_CORE_H */
