// SPDX-License-Identifier: GPL-2.0
/*
 * MEMFD_COMPAT_IOC_ADD_SEALS on /dev/memfd: fcntl(F_ADD_SEALS) for the
 * file that args.fd names, with the same errors, writing the same field
 * (memfd_inode_seals()) under the same lock (i_rwsem). It exists for
 * the seals the running kernel's fcntl does not accept (F_SEAL_EXEC before
 * 6.3); the library sends every other seal through fcntl itself. Its one
 * flag, MEMFD_COMPAT_SEAL_ISOLATE_PINS, makes a write seal replace pinned
 * pages by copies (isolate.c) instead of waiting for them (pins.c).
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/shmem_fs.h>
#include <linux/uaccess.h>

#include "memfd_internal.h"

/* The seals this file may get: F_SEAL_EXEC only where it is enforced. */
static unsigned int memfd_sealable(struct file *file)
{
	if (MEMFD_KERNEL_HAS_SEAL_EXEC ||
	    memfd_exec_seal_attached(file_inode(file)))
		return MEMFD_ALL_SEALS;
	return MEMFD_FCNTL_SEALS;
}

static int memfd_add_seals_locked(struct file *file, unsigned int seals,
				  unsigned int flags)
{
	struct inode *inode = file_inode(file);
	unsigned int *file_seals = memfd_inode_seals(inode);
	int ret;

	lockdep_assert_held(&inode->i_rwsem);
	if (*file_seals & MEMFD_COMPAT_SEAL_SEAL)
		return -EPERM;

	/* as upstream: sealing exec on an executable file also seals writes */
	if ((seals & MEMFD_COMPAT_SEAL_EXEC) && (inode->i_mode & 0111))
		seals |= MEMFD_COMPAT_SEAL_SHRINK | MEMFD_COMPAT_SEAL_GROW |
			 MEMFD_WRITE_SEALS;

	if ((seals & MEMFD_COMPAT_SEAL_WRITE) &&
	    !(*file_seals & MEMFD_COMPAT_SEAL_WRITE)) {
		/*
		 * From here on do_mmap() refuses writable shared mappings
		 * (EPERM); if one exists, the seal is refused (EBUSY).
		 */
		ret = mapping_deny_writable(file->f_mapping);
		if (ret)
			return ret;
		if (flags & MEMFD_COMPAT_SEAL_ISOLATE_PINS)
			ret = memfd_isolate_pins(file->f_mapping);
		else
			ret = memfd_wait_for_pins(file->f_mapping);
		if (ret) {
			mapping_allow_writable(file->f_mapping);
			return ret;
		}
	}

	*file_seals |= seals;
	return 0;
}

/*
 * The checks of fcntl(F_ADD_SEALS), in its order, then the flags': a
 * hugetlb memfd has only huge folios, which are not isolated, so it
 * refuses the flag rather than silently waiting.
 */
static int memfd_add_seals(struct file *file, unsigned int seals,
			   unsigned int flags)
{
	struct inode *inode = file_inode(file);
	int ret;

	if (!(file->f_mode & FMODE_WRITE))
		return -EPERM;
	if (seals & ~MEMFD_ALL_SEALS)
		return -EINVAL;
	if (!shmem_file(file) && !memfd_is_hugetlb_file(file))
		return -EINVAL;
	if (seals & ~memfd_sealable(file))
		return -EINVAL;
	if ((flags & MEMFD_COMPAT_SEAL_ISOLATE_PINS) &&
	    memfd_is_hugetlb_file(file))
		return -EOPNOTSUPP;

	inode_lock(inode);
	ret = memfd_add_seals_locked(file, seals, flags);
	inode_unlock(inode);
	return ret;
}

static int memfd_seal_args_valid(const struct memfd_compat_seal_args *args)
{
	int i;

	if (args->flags & ~MEMFD_SEAL_FLAGS)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(args->reserved); i++)
		if (args->reserved[i])
			return -EINVAL;
	return 0;
}

long memfd_dev_add_seals(struct memfd_compat_seal_args __user *uargs)
{
	struct memfd_compat_seal_args args;
	struct file *file;
	int ret;

	if (copy_from_user(&args, uargs, sizeof(args)))
		return -EFAULT;
	ret = memfd_seal_args_valid(&args);
	if (ret)
		return ret;

	file = fget(args.fd);
	if (!file)
		return -EBADF;
	ret = memfd_add_seals(file, args.seals, args.flags);
	fput(file);
	return ret;
}
