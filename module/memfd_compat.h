/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interface between the files of the memfd-compat module.
 *
 * Lock order (outermost first), kept by every path in the module:
 *
 *   state->fallocate_sem  (ADD_SEALS: write; fallocate: read)
 *     inode->i_rwsem      (ADD_SEALS, write_iter, and ->setattr, which the
 *                          VFS calls with it held; shmem_fallocate takes it
 *                          inside, which is why fallocate_sem is outside)
 *       mm->mmap_lock     (page faults while copying user data)
 *
 * state->seals only changes with both fallocate_sem and i_rwsem held, so
 * any path holding either one sees a stable seal set. ->mmap holds neither
 * (taking i_rwsem under mmap_lock would invert the order); it synchronises
 * with ADD_SEALS through write_seal_pending and the mapping's
 * i_mmap_writable count instead, see memfd_deny_writable_mappings().
 */
#ifndef _MEMFD_COMPAT_INTERNAL_H
#define _MEMFD_COMPAT_INTERNAL_H

#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/rwsem.h>
#include "../uapi/memfd_compat.h"

#define MEMFD_ALL_SEALS (MEMFD_COMPAT_SEAL_SEAL | MEMFD_COMPAT_SEAL_SHRINK | \
			 MEMFD_COMPAT_SEAL_GROW | MEMFD_COMPAT_SEAL_WRITE | \
			 MEMFD_COMPAT_SEAL_FUTURE_WRITE | \
			 MEMFD_COMPAT_SEAL_EXEC)

#define MEMFD_WRITE_SEALS (MEMFD_COMPAT_SEAL_WRITE | \
			   MEMFD_COMPAT_SEAL_FUTURE_WRITE)

/*
 * Seal state of one memfd, shared by every struct file of its inode
 * (dup, SCM_RIGHTS and /proc re-opens alike). Found through the file's
 * dentry: shmem does not use d_fsdata of its unlinked pseudo dentries.
 * Each struct file holds a reference; the last one tears the state down.
 * d_fsdata is read under d_lock, except by holders of a reference and by
 * ->setattr, which holds i_rwsem (see memfd_state_teardown()).
 */
struct memfd_state {
	struct kref ref;
	struct rw_semaphore fallocate_sem;
	struct dentry *dentry;
	unsigned int seals;
	bool write_seal_pending;
};

static inline struct memfd_state *memfd_state_of(const struct file *file)
{
	return file->f_path.dentry->d_fsdata;
}

/* file_ops.c */
int memfd_file_ops_init(void);
void memfd_file_ops_exit(void);
struct memfd_state *memfd_state_alloc(unsigned int seals);
void memfd_state_free(struct memfd_state *state);
void memfd_attach(struct file *file, struct memfd_state *state);

/* seals.c */
long memfd_seal_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/* pins.c */
int memfd_pins_init(void);
void memfd_pins_exit(void);
int memfd_wait_for_pins(struct address_space *mapping);

#endif /* _MEMFD_COMPAT_INTERNAL_H */
