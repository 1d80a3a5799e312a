// SPDX-License-Identifier: GPL-2.0
/*
 * Operation tables of module memfds: copies of shmem's own, owned by this
 * module, whose entries check the memfd's seals and then do what shmem
 * does. Page cache, mappings and fd passing stay native.
 *
 * Paths that change data or size and where each is checked:
 *   write, pwrite, writev, io_uring, splice/sendfile/copy_file_range
 *					-> ->write_iter
 *   fallocate, PUNCH_HOLE, MADV_REMOVE	-> ->fallocate
 *   ftruncate, open(O_TRUNC), chmod	-> ->setattr
 *   shared writable mmap, mprotect	-> ->mmap (and VM_MAYWRITE)
 *   pins taken before a write seal	-> pins.c, at ADD_SEALS time
 */
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/huge_mm.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "memfd_compat.h"

/* shmem's tables, snapshotted at load time from a probe file */
static struct file_operations shmem_fops __ro_after_init;
static struct inode_operations shmem_iops __ro_after_init;

static struct file_operations memfd_fops __ro_after_init;
static struct inode_operations memfd_iops __ro_after_init;

/* Charged to the creator's memory cgroup, as shmem's inodes are */
static struct kmem_cache *memfd_state_cache __ro_after_init;

struct memfd_state *memfd_state_alloc(unsigned int seals)
{
	struct memfd_state *state;

	state = kmem_cache_zalloc(memfd_state_cache, GFP_KERNEL);
	if (!state)
		return NULL;
	kref_init(&state->ref);
	init_rwsem(&state->fallocate_sem);
	state->seals = seals;
	return state;
}

void memfd_state_free(struct memfd_state *state)
{
	kmem_cache_free(memfd_state_cache, state);
}

/*
 * The last struct file of the memfd is gone; called with the dentry's
 * d_lock held, which memfd_open() takes to find the state, so no opener
 * can pick it up any more: a path walk that reaches the inode later (an
 * open or chmod through /proc/PID/fd of a descriptor closed meanwhile)
 * finds no state and fails with EIO.
 *
 * The inode keeps this module's tables. Swapping them here (as
 * make_bad_inode() would) races with do_dentry_open(), whose fops_get()
 * reads inode->i_fop once for the module reference and again for the
 * table it installs: an open that saw both tables took a reference on
 * this module and never dropped it.
 *
 * ->setattr reads the state under i_rwsem. The dentry count, stable under
 * d_lock, tells whether anyone besides the closing file holds a path to
 * the inode; only then can a setattr be in flight, and taking i_rwsem
 * waits for it before the state is freed.
 */
static void memfd_state_teardown(struct kref *ref)
	__releases(&state->dentry->d_lock)
{
	struct memfd_state *state = container_of(ref, struct memfd_state, ref);
	struct dentry *dentry = state->dentry;
	bool path_holders = d_count(dentry) > 1;

	WRITE_ONCE(dentry->d_fsdata, NULL);
	spin_unlock(&dentry->d_lock);

	if (path_holders) {
		inode_lock(d_inode(dentry));
		inode_unlock(d_inode(dentry));
	}
	memfd_state_free(state);
}

static void memfd_state_put(struct memfd_state *state)
{
	kref_put_lock(&state->ref, memfd_state_teardown,
		      &state->dentry->d_lock);
}

/* Hands a fresh shmem file and its inode over to this module. */
void memfd_attach(struct file *file, struct memfd_state *state)
{
	struct inode *inode = file_inode(file);

	/* every holder of a reference holds a file, which pins the dentry */
	state->dentry = file->f_path.dentry;
	state->dentry->d_fsdata = state;
	inode->i_op = &memfd_iops;
	inode->i_fop = &memfd_fops;
	/* shmem's fops are built in; ours pin this module per open file */
	__module_get(THIS_MODULE);
	file->f_op = &memfd_fops;
}

/* A re-open through /proc/PID/fd joins the memfd's seal state. */
static int memfd_open(struct inode *inode, struct file *file)
{
	struct memfd_state *state;
	int ret = 0;

	/* d_lock orders us against the last put, see memfd_state_teardown() */
	spin_lock(&file->f_path.dentry->d_lock);
	state = file->f_path.dentry->d_fsdata;
	if (state)
		kref_get(&state->ref);
	spin_unlock(&file->f_path.dentry->d_lock);
	if (!state)
		return -EIO;

	if (shmem_fops.open)
		ret = shmem_fops.open(inode, file);
	if (ret)
		memfd_state_put(state);
	return ret;
}

static int memfd_release(struct inode *inode, struct file *file)
{
	int ret = 0;

	if (shmem_fops.release)
		ret = shmem_fops.release(inode, file);
	memfd_state_put(memfd_state_of(file));
	return ret;
}

/*
 * How much of a write at @pos of @count bytes F_SEAL_GROW lets through.
 * shmem refuses, per page-sized step, a step that would end past EOF,
 * so a write crossing EOF is cut at the last page boundary inside the
 * file, and fails with EPERM if no such boundary follows @pos.
 */
static ssize_t memfd_grow_sealed_count(struct inode *inode, loff_t pos,
				       size_t count)
{
	loff_t size = i_size_read(inode);
	loff_t boundary;

	if (pos + count <= size)
		return count;
	boundary = round_down(size, PAGE_SIZE);
	if (boundary <= pos)
		return -EPERM;
	return boundary - pos;
}

/* Write path checks under i_rwsem, so a seal cannot slip in between. */
static ssize_t memfd_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	unsigned int seals;
	ssize_t ret;

	inode_lock(inode);
	ret = generic_write_checks(iocb, from);
	if (ret <= 0)
		goto unlock;

	seals = memfd_state_of(file)->seals;
	if (seals & MEMFD_WRITE_SEALS) {
		ret = -EPERM;
		goto unlock;
	}
	if (seals & MEMFD_COMPAT_SEAL_GROW) {
		ret = memfd_grow_sealed_count(inode, iocb->ki_pos,
					      iov_iter_count(from));
		if (ret < 0)
			goto unlock;
		iov_iter_truncate(from, ret);
	}

	ret = file_remove_privs(file);
	if (ret)
		goto unlock;
	ret = file_update_time(file);
	if (ret)
		goto unlock;
	ret = generic_perform_write(iocb, from);
unlock:
	inode_unlock(inode);
	if (ret > 0)
		ret = generic_write_sync(iocb, ret);
	return ret;
}

/*
 * shmem_fallocate() takes i_rwsem itself, so seal changes are held off by
 * fallocate_sem around it instead.
 */
static long memfd_fallocate(struct file *file, int mode, loff_t offset,
			    loff_t len)
{
	struct memfd_state *state = memfd_state_of(file);
	struct inode *inode = file_inode(file);
	unsigned int seals;
	long ret;

	if (down_read_killable(&state->fallocate_sem))
		return -EINTR;
	seals = state->seals;
	ret = -EPERM;
	if ((mode & FALLOC_FL_PUNCH_HOLE) && (seals & MEMFD_WRITE_SEALS))
		goto out;
	if (seals & MEMFD_COMPAT_SEAL_GROW) {
		if (offset + len > i_size_read(inode))
			goto out;
		/* a truncate racing with us must not let us extend the file */
		mode |= FALLOC_FL_KEEP_SIZE;
	}
	ret = shmem_fops.fallocate(file, mode, offset, len);
out:
	up_read(&state->fallocate_sem);
	return ret;
}

/*
 * Shared mappings of a write-sealed memfd are refused when writable and
 * lose VM_MAYWRITE otherwise, so mprotect() cannot make them writable.
 * A shared mapping that may write was counted in i_mmap_writable before
 * we are called; see memfd_deny_writable_mappings() for the other half.
 */
static int memfd_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct memfd_state *state = memfd_state_of(file);

	if (vma->vm_flags & VM_SHARED) {
		smp_mb(); /* order the i_mmap_writable count before the read */
		if ((READ_ONCE(state->seals) & MEMFD_WRITE_SEALS) ||
		    READ_ONCE(state->write_seal_pending)) {
			if (vma->vm_flags & VM_WRITE)
				return -EPERM;
			vm_flags_clear(vma, VM_MAYWRITE);
		}
	}
	return shmem_fops.mmap(file, vma);
}

/* ftruncate, open(O_TRUNC) and chmod; the VFS holds i_rwsem. */
static int memfd_setattr(MEMFD_SETATTR_IDMAP *idmap, struct dentry *dentry,
			 struct iattr *attr)
{
	struct inode *inode = d_inode(dentry);
	/* NULL once torn down; teardown waits for i_rwsem before freeing */
	struct memfd_state *state = READ_ONCE(dentry->d_fsdata);
	unsigned int seals;

	lockdep_assert_held(&inode->i_rwsem);
	if (!state)
		return -EIO;
	seals = state->seals;

	if (attr->ia_valid & ATTR_SIZE) {
		loff_t size = i_size_read(inode);

		if (attr->ia_size < size && (seals & MEMFD_COMPAT_SEAL_SHRINK))
			return -EPERM;
		if (attr->ia_size > size && (seals & MEMFD_COMPAT_SEAL_GROW))
			return -EPERM;
	}
	if ((attr->ia_valid & ATTR_MODE) && (seals & MEMFD_COMPAT_SEAL_EXEC) &&
	    ((inode->i_mode ^ attr->ia_mode) & 0111))
		return -EPERM;

	return shmem_iops.setattr(idmap, dentry, attr);
}

/* Builds our tables from those of a throwaway shmem file. */
int memfd_file_ops_init(void)
{
	struct file *probe;

	memfd_state_cache = KMEM_CACHE(memfd_state, SLAB_ACCOUNT);
	if (!memfd_state_cache)
		return -ENOMEM;

	probe = shmem_file_setup("memfd-compat-probe", 0, VM_NORESERVE);
	if (IS_ERR(probe)) {
		kmem_cache_destroy(memfd_state_cache);
		return PTR_ERR(probe);
	}
	shmem_fops = *probe->f_op;
	shmem_iops = *file_inode(probe)->i_op;
	fput(probe);

	if (!shmem_fops.write_iter || !shmem_fops.fallocate ||
	    !shmem_fops.mmap || !shmem_iops.setattr) {
		kmem_cache_destroy(memfd_state_cache);
		return -ENODEV;
	}

	memfd_fops = shmem_fops;
	memfd_fops.owner = THIS_MODULE;
	memfd_fops.open = memfd_open;
	memfd_fops.release = memfd_release;
	memfd_fops.write_iter = memfd_write_iter;
	memfd_fops.fallocate = memfd_fallocate;
	memfd_fops.mmap = memfd_mmap;
	memfd_fops.unlocked_ioctl = memfd_seal_ioctl;
	memfd_fops.compat_ioctl = memfd_seal_ioctl;
	/*
	 * shmem's own asserts (VM_BUG_ON under CONFIG_DEBUG_VM) that the file
	 * uses shmem's table; the generic one gives large mappings the same
	 * huge-page alignment.
	 */
	memfd_fops.get_unmapped_area = thp_get_unmapped_area;

	memfd_iops = shmem_iops;
	memfd_iops.setattr = memfd_setattr;
	return 0;
}

/* Every memfd pins the module, so no state is left by now. */
void memfd_file_ops_exit(void)
{
	kmem_cache_destroy(memfd_state_cache);
}
