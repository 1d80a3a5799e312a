// SPDX-License-Identifier: GPL-2.0
/*
 * F_SEAL_EXEC where the kernel's shmem does not enforce it (before 6.3,
 * see MEMFD_KERNEL_HAS_SEAL_EXEC). The seal bit itself lives in
 * SHMEM_I(inode)->seals like every other; what the kernel lacks is the
 * check that refuses chmod of the exec bits once it is set. So on such a
 * kernel every module memfd's inode gets a copy of shmem's
 * inode_operations whose ->setattr adds that check. Nothing else of the
 * file runs module code: file operations, address space and mappings are
 * shmem's own.
 *
 * Lifetime. An inode_operations table has no owner, and the inode can be
 * reached by a path walk (/proc/PID/fd/N) after its last file is closed.
 * So each module memfd's dentry holds a reference on this module from
 * creation until the dentry is freed: ->d_iput gives the inode back
 * shmem's own table as the last path to it goes, and ->d_release drops
 * the reference. rmmod therefore fails (EBUSY) while any module memfd
 * exists on these kernels. The instructions of ->d_release that follow
 * its module_put() are covered by memfd_exec_seal_exit().
 */
#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/shmem_fs.h>

#include "memfd_compat.h"

/* shmem's own table, the kernel's: valid after this module is gone */
static const struct inode_operations *shmem_iops;
static struct inode_operations memfd_exec_iops __ro_after_init;

/* ftruncate, open(O_TRUNC), chmod... The VFS holds i_rwsem. */
static int memfd_exec_setattr(MEMFD_SETATTR_IDMAP *idmap,
			      struct dentry *dentry, struct iattr *attr)
{
	struct inode *inode = d_inode(dentry);

	lockdep_assert_held(&inode->i_rwsem);
	if ((attr->ia_valid & ATTR_MODE) &&
	    (SHMEM_I(inode)->seals & MEMFD_COMPAT_SEAL_EXEC) &&
	    ((inode->i_mode ^ attr->ia_mode) & 0111))
		return -EPERM;
	return shmem_iops->setattr(idmap, dentry, attr);
}

/* The last reference to the dentry is gone: no path leads here any more. */
static void memfd_exec_d_iput(struct dentry *dentry, struct inode *inode)
{
	inode->i_op = shmem_iops;
	iput(inode);
}

static void memfd_exec_d_release(struct dentry *dentry)
{
	module_put(THIS_MODULE);
}

/* those of the pseudo dentry (its d_dname), with the two above added */
static struct dentry_operations memfd_exec_dops __ro_after_init;

bool memfd_exec_seal_attached(const struct inode *inode)
{
	return inode->i_op == &memfd_exec_iops;
}

/* A fresh memfd file, not yet installed in any descriptor table. */
void memfd_exec_seal_attach(struct file *file)
{
	struct dentry *dentry = file->f_path.dentry;

	__module_get(THIS_MODULE);
	/* same table as before plus d_iput and d_release, which need no flag */
	dentry->d_op = &memfd_exec_dops;
	d_inode(dentry)->i_op = &memfd_exec_iops;
}

/* Builds our tables from those of a throwaway shmem file. */
int memfd_exec_seal_init(void)
{
	const struct dentry_operations *dops;
	struct file *probe;
	int ret = 0;

	probe = shmem_file_setup("memfd-compat-probe", 0, VM_NORESERVE);
	if (IS_ERR(probe))
		return PTR_ERR(probe);
	shmem_iops = file_inode(probe)->i_op;
	/* the kernel's static anon_ops of pseudo dentries (d_dname) */
	dops = probe->f_path.dentry->d_op;
	if (dops)
		memfd_exec_dops = *dops;
	if (!shmem_iops->setattr || memfd_exec_dops.d_iput ||
	    memfd_exec_dops.d_release)
		ret = -ENODEV;
	fput(probe);
	if (ret)
		return ret;

	memfd_exec_dops.d_iput = memfd_exec_d_iput;
	memfd_exec_dops.d_release = memfd_exec_d_release;
	memfd_exec_iops = *shmem_iops;
	memfd_exec_iops.setattr = memfd_exec_setattr;
	return 0;
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
