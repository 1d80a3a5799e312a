// SPDX-License-Identifier: GPL-2.0
/*
 * MFD_HUGETLB. The kernel makes a hugetlb memfd with hugetlb_file_setup()
 * on its internal hugetlbfs mounts, neither of which is exported. The
 * module mounts hugetlbfs privately, one mount per huge page size, made
 * when a size is first asked for and kept until unload; it creates an
 * unlinked inode there (O_TMPFILE) and opens it as a pseudo file named
 * "memfd:NAME" on the same mount, as the kernel does. File operations,
 * mappings, faults and reservations are hugetlbfs's own, and so is the
 * seal field, HUGETLBFS_I(inode)->seals.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hugetlb.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/mutex.h>
#include <linux/namei.h>

#include "memfd_internal.h"

/*
 * Private mounts by log2 of the page size; index 0 is the default size.
 * ERR_PTR(-ENODEV) marks a size the kernel has no pool for: hugetlbfs logs
 * each refused size, so it is asked once per size and load.
 */
static struct vfsmount *memfd_huge_mnts[MEMFD_COMPAT_MFD_HUGE_MASK + 1];
static DEFINE_MUTEX(memfd_huge_lock);
static struct file_system_type *memfd_hugetlbfs;
/* hugetlbfs's file operations, to recognise its files */
static const struct file_operations *memfd_hugetlbfs_fops;

bool memfd_hugetlb_supported(void)
{
	return memfd_hugetlbfs_fops;
}

bool memfd_is_hugetlb_file(const struct file *file)
{
	return memfd_hugetlbfs_fops && file->f_op == memfd_hugetlbfs_fops;
}

/* Mounts hugetlbfs for pages of 2^@log2 bytes (0: the default size). */
static struct vfsmount *memfd_huge_mount(unsigned int log2)
{
	/* anyone may create memfds, so anyone may create files here */
	char opts[48] = "mode=1777";
	struct vfsmount *mnt;

	if (log2)
		snprintf(opts, sizeof(opts), "mode=1777,pagesize=%llu",
			 1ULL << log2);
	mnt = vfs_kern_mount(memfd_hugetlbfs, SB_KERNMOUNT, "hugetlbfs", opts);
	/* the size has no pool, or is no size at all */
	if (IS_ERR(mnt) && PTR_ERR(mnt) == -EINVAL)
		return ERR_PTR(-ENODEV);
	return mnt;
}

static struct vfsmount *memfd_huge_mnt(unsigned int log2)
{
	struct vfsmount *mnt = READ_ONCE(memfd_huge_mnts[log2]);

	if (mnt)
		return mnt;
	mutex_lock(&memfd_huge_lock);
	mnt = memfd_huge_mnts[log2];
	if (!mnt) {
		mnt = memfd_huge_mount(log2);
		/* remember a size without pool; retry after ENOMEM and such */
		if (!IS_ERR(mnt) || PTR_ERR(mnt) == -ENODEV)
			WRITE_ONCE(memfd_huge_mnts[log2], mnt);
	}
	mutex_unlock(&memfd_huge_lock);
	return mnt;
}

/* An unlinked regular file of @mnt, opened read-write as "@name". */
static struct file *memfd_huge_open(struct vfsmount *mnt, const char *name)
{
	struct path root = { .mnt = mnt, .dentry = mnt->mnt_root };
	struct file *tmp, *file;
	struct inode *inode;

	tmp = memfd_tmpfile_open(&root, S_IFREG | 0700, O_RDWR);
	if (IS_ERR(tmp))
		return tmp;
	inode = file_inode(tmp);
	ihold(inode);
	fput(tmp);

	/* as the kernel's hugetlb memfds: rwx for all, before any policy */
	inode->i_mode = S_IFREG | 0777;
	file = alloc_file_pseudo(inode, mnt, name, O_RDWR, inode->i_fop);
	if (IS_ERR(file))
		iput(inode);
	return file;
}

/* The memfd for create flags @flags (MFD_HUGETLB set), named @name. */
struct file *memfd_hugetlb_file_setup(const char *name, unsigned int flags)
{
	unsigned int log2 = (flags >> MEMFD_COMPAT_MFD_HUGE_SHIFT) &
			    MEMFD_COMPAT_MFD_HUGE_MASK;
	struct vfsmount *mnt;

	if (!memfd_hugetlb_supported())
		return ERR_PTR(-EINVAL);
	mnt = memfd_huge_mnt(log2);
	if (IS_ERR(mnt))
		return ERR_CAST(mnt);
	return memfd_huge_open(mnt, name);
}

/*
 * Finds hugetlbfs and learns its file operations from a probe file on the
 * default size's mount. Without hugetlbfs, MFD_HUGETLB stays unsupported.
 */
int memfd_hugetlb_init(void)
{
	struct vfsmount *mnt;
	struct file *probe;
	int ret = 0;

	memfd_hugetlbfs = get_fs_type("hugetlbfs");
	if (!memfd_hugetlbfs)
		return 0;
	mnt = memfd_huge_mnt(0);
	if (IS_ERR(mnt))
		goto out; /* no default size: MFD_HUGETLB unsupported */
	probe = memfd_huge_open(mnt, "memfd-compat-probe");
	if (IS_ERR(probe)) {
		ret = PTR_ERR(probe);
		goto out;
	}
	if (!MEMFD_KERNEL_HAS_SEAL_EXEC)
		ret = memfd_exec_seal_learn(probe);
	if (!ret)
		memfd_hugetlbfs_fops = probe->f_op;
	fput(probe);
out:
	if (ret)
		memfd_hugetlb_exit();
	return ret;
}

/* Files on the mounts keep them alive until their last close. */
void memfd_hugetlb_exit(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(memfd_huge_mnts); i++) {
		if (!IS_ERR_OR_NULL(memfd_huge_mnts[i]))
			mntput(memfd_huge_mnts[i]);
		memfd_huge_mnts[i] = NULL;
	}
	/* put_filesystem(), which is not exported */
	if (memfd_hugetlbfs)
		module_put(memfd_hugetlbfs->owner);
	memfd_hugetlbfs = NULL;
	memfd_hugetlbfs_fops = NULL;
}
