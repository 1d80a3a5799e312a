/* SPDX-License-Identifier: GPL-2.0+ WITH Linux-syscall-note */
/*
 * memfd-compat: memfd_create() and file sealing from a loadable module.
 *
 * This is the whole interface between the kernel module and userspace.
 * Flag and seal values are identical to <linux/memfd.h> and <linux/fcntl.h>
 * so that code written for the native API can pass its constants through.
 *
 *   fd = open("/dev/memfd", O_RDWR | O_CLOEXEC);
 *   ioctl(fd, MEMFD_COMPAT_IOC_QUERY, &info);     capabilities of the module
 *   memfd = ioctl(fd, MEMFD_COMPAT_IOC_CREATE, &args);  returns the new fd
 *   ioctl(fd, MEMFD_COMPAT_IOC_ADD_SEALS, &seal_args);  like F_ADD_SEALS
 *
 * A module memfd keeps its seals where the kernel keeps a native memfd's,
 * so fcntl(F_GET_SEALS) and fcntl(F_ADD_SEALS) work on it from any
 * program. MEMFD_COMPAT_IOC_ADD_SEALS is for the seals the running
 * kernel's fcntl() does not know (F_SEAL_EXEC before Linux 6.3; see
 * memfd_compat_info.fcntl_seals).
 */
#ifndef _UAPI_MEMFD_COMPAT_H
#define _UAPI_MEMFD_COMPAT_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define MEMFD_COMPAT_DEVICE		"/dev/memfd"
#define MEMFD_COMPAT_API_VERSION	2

/* memfd_create() flags: same values as MFD_* in <linux/memfd.h>. */
#define MEMFD_COMPAT_MFD_CLOEXEC	0x0001U
#define MEMFD_COMPAT_MFD_ALLOW_SEALING	0x0002U
#define MEMFD_COMPAT_MFD_HUGETLB	0x0004U
#define MEMFD_COMPAT_MFD_NOEXEC_SEAL	0x0008U
#define MEMFD_COMPAT_MFD_EXEC		0x0010U
/*
 * MFD_HUGETLB may carry a page size, log2 in bits 26..31 (MFD_HUGE_SHIFT,
 * the MFD_HUGE_* values of <linux/memfd.h>); 0 there means the default
 * huge page size. QUERY lists MFD_HUGETLB where the kernel has hugetlbfs.
 */
#define MEMFD_COMPAT_MFD_HUGE_SHIFT	26
#define MEMFD_COMPAT_MFD_HUGE_MASK	0x3fU

/* Seals: same values as F_SEAL_* in <linux/fcntl.h>. */
#define MEMFD_COMPAT_SEAL_SEAL		0x0001U
#define MEMFD_COMPAT_SEAL_SHRINK	0x0002U
#define MEMFD_COMPAT_SEAL_GROW		0x0004U
#define MEMFD_COMPAT_SEAL_WRITE		0x0008U
#define MEMFD_COMPAT_SEAL_FUTURE_WRITE	0x0010U
#define MEMFD_COMPAT_SEAL_EXEC		0x0020U

/*
 * Flags of MEMFD_COMPAT_IOC_ADD_SEALS (struct memfd_compat_seal_args.flags;
 * QUERY lists them in memfd_compat_info.seal_flags).
 *
 * MEMFD_COMPAT_SEAL_ISOLATE_PINS: a write seal that no pin can block.
 * Where F_SEAL_WRITE would wait for pinned pages (O_DIRECT, AIO, io_uring
 * fixed buffers, vmsplice) and then fail with EBUSY, each pinned page is
 * replaced in the file by a copy at once; the pinner keeps the old page,
 * which is no longer the file's. A pinned transparent huge page is not
 * copied: for it the seal waits as without the flag (then EBUSY). On a
 * hugetlb memfd the flag fails with EOPNOTSUPP. Without F_SEAL_WRITE
 * among the seals added, the flag changes nothing.
 */
#define MEMFD_COMPAT_SEAL_ISOLATE_PINS	0x0001U

/* Longest name memfd_create() accepts, without the terminating NUL. */
#define MEMFD_COMPAT_NAME_MAX		249

/**
 * struct memfd_compat_create_args - argument of MEMFD_COMPAT_IOC_CREATE
 * @name:	user pointer to a NUL-terminated name (at most
 *		MEMFD_COMPAT_NAME_MAX bytes before the NUL); shown in
 *		/proc/self/fd as "/memfd:NAME (deleted)"
 * @flags:	MFD_* flags, as for memfd_create()
 * @reserved:	must be zero, else EINVAL
 */
struct memfd_compat_create_args {
	__u64 name;
	__u32 flags;
	__u32 reserved[5];
};

/**
 * struct memfd_compat_info - answer of MEMFD_COMPAT_IOC_QUERY
 * @api_version:	MEMFD_COMPAT_API_VERSION of the loaded module
 * @supported_flags:	MFD_* flags MEMFD_COMPAT_IOC_CREATE accepts
 * @supported_seals:	F_SEAL_* bits MEMFD_COMPAT_IOC_ADD_SEALS accepts
 * @fcntl_seals:	F_SEAL_* bits the running kernel's own
 *			fcntl(F_ADD_SEALS) accepts on a module memfd
 * @seal_flags:		MEMFD_COMPAT_SEAL_* flags MEMFD_COMPAT_IOC_ADD_SEALS
 *			accepts in memfd_compat_seal_args.flags (0 from
 *			modules before the field existed: it was reserved)
 * @reserved:		zeroed by the module
 */
struct memfd_compat_info {
	__u32 api_version;
	__u32 supported_flags;
	__u32 supported_seals;
	__u32 fcntl_seals;
	__u32 seal_flags;
	__u32 reserved[3];
};

/**
 * struct memfd_compat_seal_args - argument of MEMFD_COMPAT_IOC_ADD_SEALS
 * @fd:		the memfd to seal, a descriptor of the caller opened for
 *		writing (else EPERM, as fcntl); a module or a native memfd,
 *		except that F_SEAL_EXEC on a kernel whose fcntl lacks it
 *		needs a module memfd (else EINVAL, as that kernel's fcntl)
 * @seals:	F_SEAL_* bits to add
 * @flags:	0, or MEMFD_COMPAT_SEAL_ISOLATE_PINS; other bits EINVAL
 * @reserved:	must be zero, else EINVAL
 */
struct memfd_compat_seal_args {
	__s32 fd;
	__u32 seals;
	__u32 flags;
	__u32 reserved[5];
};

/*
 * Unassigned in Documentation/userspace-api/ioctl/ioctl-number.rst (0xB7,
 * used before API version 1 was released, is nsfs's: NS_GET_PARENT...).
 */
#define MEMFD_COMPAT_IOC_MAGIC		0xBE

/* On /dev/memfd. */
#define MEMFD_COMPAT_IOC_QUERY \
	_IOR(MEMFD_COMPAT_IOC_MAGIC, 0x00, struct memfd_compat_info)
#define MEMFD_COMPAT_IOC_CREATE \
	_IOW(MEMFD_COMPAT_IOC_MAGIC, 0x01, struct memfd_compat_create_args)
/*
 * Adds seals, with the errors of fcntl(F_ADD_SEALS), and returns 0.
 * (Numbers 0x02 and 0x03 were ioctls on the memfd itself in API 1.)
 */
#define MEMFD_COMPAT_IOC_ADD_SEALS \
	_IOW(MEMFD_COMPAT_IOC_MAGIC, 0x04, struct memfd_compat_seal_args)

#endif /* _UAPI_MEMFD_COMPAT_H */
