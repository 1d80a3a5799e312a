/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libmemfd-compat: memfd_create() and file sealing, either from the kernel
 * itself ("native") or from the memfd_compat.ko module through /dev/memfd.
 *
 * Every function keeps the libc convention: on failure it returns -1 and
 * sets errno, with the same errno values as the native call it mirrors
 * (memfd_create(2), fcntl(2) F_ADD_SEALS / F_GET_SEALS).
 *
 * Backend selection (read once, at the first call that needs it):
 *   1. memfd_compat_set_backend(), if called, wins;
 *   2. else the environment variable MEMFD_COMPAT_BACKEND:
 *        "module"  always use /dev/memfd; if the device is absent,
 *                  memfd_compat_create() fails with ENODEV (never falls
 *                  back to the native call);
 *        "native"  always use the memfd_create() system call;
 *        "auto"    (also: unset or empty) use the module if /dev/memfd
 *                  exists and this process may open it, else the native
 *                  call: a device restricted to a group (see the README's
 *                  security section) counts as absent for everyone
 *                  outside the group. An absent device is probed once per
 *                  process. The module is preferred even where the
 *                  kernel could serve a call itself, so that every memfd
 *                  of the process follows the same (newest) semantics;
 *        anything else: memfd_compat_create() fails with EINVAL.
 *
 * /dev/memfd is opened once per process, lazily and thread-safely, with
 * O_RDWR | O_CLOEXEC, and kept open for the life of the process. Before
 * each use the library checks that the descriptor is still the device (a
 * per-process random cookie in the device's file position, read back with
 * lseek(SEEK_CUR); fstat() and st_rdev for an API-1 module): a program
 * that closes descriptors it did not open (closefrom() in a daemon) only
 * makes it open the device again; the number it closed is never closed or
 * sent an ioctl by the library.
 */
#ifndef MEMFD_COMPAT_MEMFD_COMPAT_H
#define MEMFD_COMPAT_MEMFD_COMPAT_H

#include <memfd_compat/uapi.h>

#if defined(__GNUC__)
#define MEMFD_COMPAT_API __attribute__((visibility("default")))
#else
#define MEMFD_COMPAT_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Values for memfd_compat_set_backend() and memfd_compat_get_backend(). */
enum memfd_compat_backend {
	MEMFD_COMPAT_BACKEND_AUTO = 0,
	MEMFD_COMPAT_BACKEND_NATIVE = 1,
	MEMFD_COMPAT_BACKEND_MODULE = 2,
};

/*
 * Like memfd_create(2): returns a new file descriptor, or -1 with errno.
 * @name must not be NULL (EFAULT). Flags are passed through unchanged to
 * the backend, which rejects what it does not support (EINVAL); no flag is
 * ever dropped. Extra errno values: ENODEV when the module backend is
 * selected and /dev/memfd does not exist; EACCES when it is selected and
 * the device's mode or group keeps this process out; EINVAL when
 * MEMFD_COMPAT_BACKEND holds an unknown value.
 */
MEMFD_COMPAT_API int memfd_compat_create(const char *name, unsigned int flags);

/*
 * Like fcntl(fd, F_ADD_SEALS, seals): returns 0, or -1 with errno. A
 * module memfd keeps its seals where the kernel keeps a native memfd's, so
 * this is fcntl(F_ADD_SEALS) itself, for module and native memfds alike.
 * Only when the running kernel's fcntl() refuses F_SEAL_EXEC with EINVAL
 * (kernels before 6.3) is the call repeated through /dev/memfd, which
 * gives module memfds F_SEAL_EXEC there. Where /dev/memfd does not exist
 * or may not be opened (ENODEV, EACCES), or with the "native" backend, the
 * kernel's EINVAL stands; another failure to open the device (EMFILE,
 * ENFILE...) is returned as such. No ioctl is ever sent to @fd itself.
 */
MEMFD_COMPAT_API int memfd_compat_add_seals(int fd, unsigned int seals);

/*
 * memfd_compat_add_seals() with flags, always through the module's
 * ADD_SEALS ioctl on /dev/memfd (whatever the backend; @fd may be a module
 * or a native memfd): returns 0, or -1 with errno. @flags is 0 or
 * MEMFD_COMPAT_SEAL_ISOLATE_PINS: F_SEAL_WRITE then never waits for pinned
 * pages (io_uring fixed buffers, vmsplice, O_DIRECT in flight) nor fails
 * with EBUSY for them; each pinned page is replaced in the file by a copy,
 * and the pinner's later writes reach only its own old page. A pinned
 * transparent huge page is not copied: for it the call waits about 150 ms
 * as without the flag, then fails with EBUSY. Errors: those of
 * memfd_compat_add_seals(); EINVAL for an unknown flag; EOPNOTSUPP for
 * the flag on an MFD_HUGETLB memfd; ENODEV without /dev/memfd (EACCES if
 * it may not be opened); ENOMEM if the copies cannot be allocated. A
 * module too old for a flag fails with EINVAL; memfd_compat_query() lists
 * the flags it takes in seal_flags. Since version 1.1 of the library.
 */
MEMFD_COMPAT_API int memfd_compat_add_seals2(int fd, unsigned int seals,
                                             unsigned int flags);

/*
 * Like fcntl(fd, F_GET_SEALS), which it is: returns the seals, or -1 with
 * errno. Any program sees the same seals with plain fcntl().
 */
MEMFD_COMPAT_API int memfd_compat_get_seals(int fd);

/*
 * Asks the module which API version, flags and seals it supports.
 * Returns 0, or -1 with errno: EFAULT if @out is NULL, ENODEV if
 * /dev/memfd does not exist. Independent of the selected backend.
 */
MEMFD_COMPAT_API int memfd_compat_query(struct memfd_compat_info *out);

/*
 * Overrides MEMFD_COMPAT_BACKEND for this process (a
 * memfd_compat_backend value). Returns 0, or -1 with errno EINVAL.
 */
MEMFD_COMPAT_API int memfd_compat_set_backend(int backend);

/*
 * The backend memfd_compat_create() uses now, with "auto" resolved:
 * MEMFD_COMPAT_BACKEND_NATIVE or MEMFD_COMPAT_BACKEND_MODULE; or -1 with
 * errno EINVAL if MEMFD_COMPAT_BACKEND holds an unknown value.
 */
MEMFD_COMPAT_API int memfd_compat_get_backend(void);

#ifdef __cplusplus
}
#endif

#endif /* MEMFD_COMPAT_MEMFD_COMPAT_H */
