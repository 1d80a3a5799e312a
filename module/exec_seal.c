// SPDX-License-Identifier: GPL-2.0
/*
 * F_SEAL_EXEC where the kernel does not enforce it (before 6.3, see
 * MEMFD_KERNEL_HAS_SEAL_EXEC). The seal bit itself lives in the inode's
 * seal field like every other; what the kernel lacks is the check that
 * refuses chmod of the exec bits once it is set. So on such a kernel every
 * module memfd's inode gets a copy of its filesystem's inode_operations
 * (shmem's, or hugetlbfs's for MFD_HUGETLB) whose ->setattr adds that
 * check. Nothing else of the file runs module code: file operations,
 * address space and mappings are the filesystem's own.
 *
 * Lifetime. An inode_operations table has no owner, and the inode can be
 * reached by a path walk (/proc/PID/fd/N) after its last file is closed.
 * So each module memfd's dentry holds a reference on this module from
 * creation until the dentry is freed: ->d_iput gives the inode its
 * filesystem's own table back as the last path to it goes, and ->d_release
 * drops the reference. rmmod therefore fails while any module memfd exists
 * on these kernels. The instructions of ->d_release that follow its
 * module_put() are covered by memfd_exec_seal_exit().
 */
#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/module.h>

#include "memfd_internal.h"

/* A filesystem's own inode_operations, and our copy of them. */
struct memfd_exec_iops {
	const struct inode_operations *orig;
	struct inode_operations ops;
};

static struct memfd_exec_iops memfd_exec_shmem __ro_after_init;
static struct memfd_exec_iops memfd_exec_hugetlb __ro_after_init;

/* The pseudo dentries' own operations (the kernel's, for d_dname) */
static const struct dentry_operations *memfd_pseudo_dops __ro_after_init;
/* ... and ours: the same plus d_iput and d_release, which need no flag */
static struct dentry_operations memfd_exec_dops __ro_after_init;

static const struct memfd_exec_iops *memfd_exec_iops_of(const struct inode *inode)
{
	if (inode->i_op == &memfd_exec_shmem.ops)
		return &memfd_exec_shmem;
	if (inode->i_op == &memfd_exec_hugetlb.ops)
		return &memfd_exec_hugetlb;
	return NULL;
}

bool memfd_exec_seal_attached(const struct inode *inode)
{
	return memfd_exec_iops_of(inode);
}

/* ftruncate, open(O_TRUNC), chmod... The VFS holds i_rwsem. */
static int memfd_exec_setattr(MEMFD_SETATTR_IDMAP *idmap,
			      struct dentry *dentry, struct iattr *attr)
{
	struct inode *inode = d_inode(dentry);

	lockdep_assert_held(&inode->i_rwsem);
	if ((attr->ia_valid & ATTR_MODE) &&
	    (*memfd_inode_seals(inode) & MEMFD_COMPAT_SEAL_EXEC) &&
	    ((inode->i_mode ^ attr->ia_mode) & 0111))
		return -EPERM;
	return memfd_exec_iops_of(inode)->orig->setattr(idmap, dentry, attr);
}

/* The last reference to the dentry is gone: no path leads here any more. */
static void memfd_exec_d_iput(struct dentry *dentry, struct inode *inode)
{
	const struct memfd_exec_iops *iops = memfd_exec_iops_of(inode);

	if (iops)
		inode->i_op = iops->orig;
	iput(inode);
}

static void memfd_exec_d_release(struct dentry *dentry)
{
	module_put(THIS_MODULE);
}

/* A fresh memfd file, not yet installed in any descriptor table. */
int memfd_exec_seal_attach(struct file *file)
{
	struct dentry *dentry = file->f_path.dentry;
	struct inode *inode = d_inode(dentry);
	const struct memfd_exec_iops *iops;

	if (inode->i_op == memfd_exec_shmem.orig)
		iops = &memfd_exec_shmem;
	else if (inode->i_op == memfd_exec_hugetlb.orig)
		iops = &memfd_exec_hugetlb;
	else
		return -ENODEV;
	if (dentry->d_op != memfd_pseudo_dops)
		return -ENODEV;

	__module_get(THIS_MODULE);
	dentry->d_op = &memfd_exec_dops;
	inode->i_op = &iops->ops;
	return 0;
}

/*
 * Learns the tables of @probe, a pseudo file like those memfds get, of
 * shmem or of hugetlbfs. Called at module init only.
 */
int memfd_exec_seal_learn(struct file *probe)
{
	struct inode *inode = file_inode(probe);
	const struct dentry_operations *dops = probe->f_path.dentry->d_op;
	struct memfd_exec_iops *iops;

	iops = inode->i_sb->s_magic == HUGETLBFS_MAGIC ? &memfd_exec_hugetlb
						       : &memfd_exec_shmem;
	if (!inode->i_op->setattr)
		return -ENODEV;
	if (memfd_exec_dops.d_release && dops != memfd_pseudo_dops)
		return -ENODEV; /* both filesystems use the kernel's anon_ops */
	if (dops && (dops->d_iput || dops->d_release))
		return -ENODEV;

	iops->orig = inode->i_op;
	iops->ops = *inode->i_op;
	iops->ops.setattr = memfd_exec_setattr;
	memfd_pseudo_dops = dops;
	if (dops)
		memfd_exec_dops = *dops;
	memfd_exec_dops.d_iput = memfd_exec_d_iput;
	memfd_exec_dops.d_release = memfd_exec_d_release;
	return 0;
}

/* Learns shmem's tables from a throwaway shmem file. */
int memfd_exec_seal_init(void)
{
	struct file *probe;
	int ret;

	probe = shmem_file_setup("memfd-compat-probe", 0, VM_NORESERVE);
	if (IS_ERR(probe))
		return PTR_ERR(probe);
	ret = memfd_exec_seal_learn(probe);
	fput(probe);
	return ret;
}

void memfd_exec_seal_exit(void)
{
	/*
	 * Every ->d_release has run module_put(), but one may still be on
	 * its way out of this module's text. Such a task has not passed a
	 * voluntary context switch since; wait until every task has.
	 */
	synchronize_rcu_tasks();
}
