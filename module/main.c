// SPDX-License-Identifier: GPL-2.0
/*
 * memfd-compat: memfd_create() and file sealing for kernels that lack
 * parts of it. /dev/memfd creates shmem files whose seals live in the
 * kernel's own seal field, so that fcntl() and every other reader in the
 * kernel see them (see memfd_compat.h).
 *
 * This file: the misc device, its QUERY and CREATE ioctls, the noexec
 * policy, module init and exit. seals.c: ADD_SEALS; pins.c: the pinned-page
 * check; isolate.c: pinned pages replaced by copies (an ADD_SEALS flag);
 * exec_seal.c: F_SEAL_EXEC where the kernel lacks it.
 */

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/shmem_fs.h>
#include <linux/uaccess.h>

#include "memfd_internal.h"

#define MEMFD_NAME_PREFIX "memfd:"
#define MEMFD_NAME_PREFIX_LEN (sizeof(MEMFD_NAME_PREFIX) - 1)

/* MFD_HUGETLB too, where the kernel has hugetlbfs (hugetlb.c) */
#define MEMFD_BASE_FLAGS (MEMFD_COMPAT_MFD_CLOEXEC | \
			  MEMFD_COMPAT_MFD_ALLOW_SEALING | \
			  MEMFD_COMPAT_MFD_NOEXEC_SEAL | \
			  MEMFD_COMPAT_MFD_EXEC)
#define MEMFD_HUGE_SIZE_BITS (MEMFD_COMPAT_MFD_HUGE_MASK << \
			      MEMFD_COMPAT_MFD_HUGE_SHIFT)

static unsigned int memfd_supported_flags(void)
{
	return MEMFD_BASE_FLAGS |
	       (memfd_hugetlb_supported() ? MEMFD_COMPAT_MFD_HUGETLB : 0);
}

/*
 * The vm.memfd_noexec policy of Linux 6.3+, for memfds of this module:
 * 0: no exec flag means MFD_EXEC; 1: no exec flag means MFD_NOEXEC_SEAL;
 * 2: as 1, and creating an executable memfd fails with EACCES.
 * The scope in force is the strictest of the module parameter and, where
 * the kernel has one, the caller's pid namespace's vm.memfd_noexec: the
 * parameter is a floor for the whole system, as a parent namespace's
 * setting is for its children.
 */
enum memfd_noexec_policy {
	MEMFD_POLICY_EXEC = 0,
	MEMFD_POLICY_NOEXEC_SEAL = 1,
	MEMFD_POLICY_NOEXEC_ENFORCED = 2,
};

static int memfd_noexec;

static int memfd_noexec_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, MEMFD_POLICY_EXEC,
				     MEMFD_POLICY_NOEXEC_ENFORCED);
}

static const struct kernel_param_ops memfd_noexec_ops = {
	.set = memfd_noexec_set,
	.get = param_get_int,
};

module_param_cb(memfd_noexec, &memfd_noexec_ops, &memfd_noexec, 0644);
MODULE_PARM_DESC(memfd_noexec,
		 "like vm.memfd_noexec, for the whole system: 0 exec by default, 1 noexec-sealed by default, 2 executable memfds refused");

/* Resolves the exec flags as Linux 6.3+ does under its noexec policy. */
static int memfd_apply_noexec_policy(unsigned int *flags)
{
	int scope = max(READ_ONCE(memfd_noexec), memfd_kernel_noexec_scope());

	if (!(*flags & (MEMFD_COMPAT_MFD_EXEC | MEMFD_COMPAT_MFD_NOEXEC_SEAL))) {
		if (scope >= MEMFD_POLICY_NOEXEC_SEAL)
			*flags |= MEMFD_COMPAT_MFD_NOEXEC_SEAL;
		else
			*flags |= MEMFD_COMPAT_MFD_EXEC;
	}
	if (!(*flags & MEMFD_COMPAT_MFD_NOEXEC_SEAL) &&
	    scope >= MEMFD_POLICY_NOEXEC_ENFORCED)
		return -EACCES;
	return 0;
}

static int memfd_check_create_flags(unsigned int flags)
{
	unsigned int known = memfd_supported_flags();

	/* a huge page size only with MFD_HUGETLB */
	if (flags & known & MEMFD_COMPAT_MFD_HUGETLB)
		known |= MEMFD_HUGE_SIZE_BITS;
	if (flags & ~known)
		return -EINVAL;
	if ((flags & MEMFD_COMPAT_MFD_EXEC) &&
	    (flags & MEMFD_COMPAT_MFD_NOEXEC_SEAL))
		return -EINVAL;
	return 0;
}

/* "memfd:" and a name of up to MEMFD_COMPAT_NAME_MAX bytes, with its NUL */
#define MEMFD_FULL_NAME_SIZE (MEMFD_NAME_PREFIX_LEN + MEMFD_COMPAT_NAME_MAX + 1)

/*
 * Builds "memfd:NAME" in @name. On the stack rather than kmalloc'ed:
 * shmem_file_setup() copies it into the dentry. One pass over the user
 * string: what was copied is what is checked, whatever another thread
 * does to the string meanwhile.
 */
static int memfd_copy_name(char name[MEMFD_FULL_NAME_SIZE], u64 uname)
{
	const char __user *uptr = u64_to_user_ptr(uname);
	long len;

	memcpy(name, MEMFD_NAME_PREFIX, MEMFD_NAME_PREFIX_LEN);
	/* room for one byte more than the longest name: its NUL */
	len = strncpy_from_user(name + MEMFD_NAME_PREFIX_LEN, uptr,
				MEMFD_COMPAT_NAME_MAX + 1);
	if (len < 0)
		return -EFAULT;
	if (len > MEMFD_COMPAT_NAME_MAX)
		return -EINVAL;
	return 0;
}

static int memfd_create_args_valid(const struct memfd_compat_create_args *args)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(args->reserved); i++)
		if (args->reserved[i])
			return -EINVAL;
	return memfd_check_create_flags(args->flags);
}

static long memfd_dev_create(struct memfd_compat_create_args __user *uargs)
{
	struct memfd_compat_create_args args;
	char name[MEMFD_FULL_NAME_SIZE];
	unsigned int flags, seals;
	struct file *file;
	int fd, ret;

	if (copy_from_user(&args, uargs, sizeof(args)))
		return -EFAULT;
	ret = memfd_create_args_valid(&args);
	if (ret)
		return ret;
	flags = args.flags;
	ret = memfd_apply_noexec_policy(&flags);
	if (ret)
		return ret;

	ret = memfd_copy_name(name, args.name);
	if (ret)
		return ret;

	/* Like upstream, MFD_NOEXEC_SEAL also allows further sealing. */
	if (flags & MEMFD_COMPAT_MFD_NOEXEC_SEAL)
		seals = MEMFD_COMPAT_SEAL_EXEC;
	else if (flags & MEMFD_COMPAT_MFD_ALLOW_SEALING)
		seals = 0;
	else
		seals = MEMFD_COMPAT_SEAL_SEAL;

	fd = get_unused_fd_flags((flags & MEMFD_COMPAT_MFD_CLOEXEC) ?
				 O_CLOEXEC : 0);
	if (fd < 0)
		return fd;

	if (flags & MEMFD_COMPAT_MFD_HUGETLB)
		file = memfd_hugetlb_file_setup(name, flags);
	else
		file = shmem_file_setup(name, 0, VM_NORESERVE);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_fd;
	}
	file->f_mode |= FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE;
	file->f_flags |= O_LARGEFILE;
	if (flags & MEMFD_COMPAT_MFD_NOEXEC_SEAL)
		file_inode(file)->i_mode &= ~0111;
	/* nobody else can reach the inode yet: no lock needed */
	*memfd_inode_seals(file_inode(file)) = seals;
	if (!MEMFD_KERNEL_HAS_SEAL_EXEC) {
		ret = memfd_exec_seal_attach(file);
		if (ret)
			goto err_file;
	}

	fd_install(fd, file);
	return fd;

err_file:
	fput(file);
err_fd:
	put_unused_fd(fd);
	return ret;
}

static long memfd_dev_query(struct memfd_compat_info __user *uinfo)
{
	struct memfd_compat_info info = {
		.api_version = MEMFD_COMPAT_API_VERSION,
		.supported_flags = memfd_supported_flags(),
		.supported_seals = MEMFD_ALL_SEALS,
		.fcntl_seals = MEMFD_FCNTL_SEALS,
		.seal_flags = MEMFD_SEAL_FLAGS,
	};

	if (copy_to_user(uinfo, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

static long memfd_dev_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	switch (cmd) {
	case MEMFD_COMPAT_IOC_QUERY:
		return memfd_dev_query((void __user *)arg);
	case MEMFD_COMPAT_IOC_CREATE:
		return memfd_dev_create((void __user *)arg);
	case MEMFD_COMPAT_IOC_ADD_SEALS:
		return memfd_dev_add_seals((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations memfd_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = memfd_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	/*
	 * The device has no data, so its file position is free to carry a
	 * caller's cookie: libmemfd-compat checks with lseek(SEEK_CUR) that a
	 * cached descriptor is still its /dev/memfd, cheaper than fstat().
	 */
	.llseek = no_seek_end_llseek,
};

static struct miscdevice memfd_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "memfd",
	.fops = &memfd_dev_fops,
	.mode = 0666,
};

static int __init memfd_compat_init(void)
{
	int ret;

	if (!MEMFD_KERNEL_HAS_SEAL_EXEC) {
		ret = memfd_exec_seal_init();
		if (ret)
			return ret;
	}
	ret = memfd_hugetlb_init();
	if (ret)
		return ret;
	ret = memfd_pins_init();
	if (ret)
		goto err_hugetlb;
	ret = misc_register(&memfd_miscdev);
	if (ret)
		goto err_pins;
	return 0;

err_pins:
	memfd_pins_exit();
err_hugetlb:
	memfd_hugetlb_exit();
	return ret;
}

/*
 * Memfds made by this module may outlive it where they run none of its
 * code (MEMFD_KERNEL_HAS_SEAL_EXEC); elsewhere each pins the module.
 */
static void __exit memfd_compat_exit(void)
{
	misc_deregister(&memfd_miscdev);
	memfd_pins_exit();
	memfd_hugetlb_exit();
	if (!MEMFD_KERNEL_HAS_SEAL_EXEC)
		memfd_exec_seal_exit();
}

module_init(memfd_compat_init);
module_exit(memfd_compat_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("memfd_create() and file sealing on /dev/memfd");
MODULE_VERSION("0.1.0");
