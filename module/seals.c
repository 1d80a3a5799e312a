// SPDX-License-Identifier: GPL-2.0
/*
 * ADD_SEALS and GET_SEALS, issued on a module memfd: the module's
 * counterparts of fcntl(F_ADD_SEALS) and fcntl(F_GET_SEALS), with the
 * same errors.
 */
#include <linux/fs.h>
#include <linux/mm.h>

#include "memfd_compat.h"

/*
 * Stops new shared writable mappings before F_SEAL_WRITE is granted, and
 * fails with EBUSY if one exists. mmap counts a mapping that may write in
 * i_mmap_writable before memfd_mmap() reads the seals: with a full barrier
 * on both sides, either we see its count or it sees write_seal_pending.
 * Unlike mapping_deny_writable(), this leaves read-only shared mappings of
 * the sealed file possible.
 */
static int memfd_deny_writable_mappings(struct memfd_state *state,
					struct address_space *mapping)
{
	WRITE_ONCE(state->write_seal_pending, true);
	smp_mb(); /* pairs with smp_mb() in memfd_mmap() */
	if (mapping_writably_mapped(mapping)) {
		WRITE_ONCE(state->write_seal_pending, false);
		return -EBUSY;
	}
	return 0;
}

static int memfd_add_seals_locked(struct file *file, struct memfd_state *state,
				  unsigned int seals)
{
	struct inode *inode = file_inode(file);
	int ret;

	if (state->seals & MEMFD_COMPAT_SEAL_SEAL)
		return -EPERM;

	/* as upstream: sealing exec on an executable file also seals writes */
	if ((seals & MEMFD_COMPAT_SEAL_EXEC) && (inode->i_mode & 0111))
		seals |= MEMFD_COMPAT_SEAL_SHRINK | MEMFD_COMPAT_SEAL_GROW |
			 MEMFD_WRITE_SEALS;

	if ((seals & MEMFD_COMPAT_SEAL_WRITE) &&
	    !(state->seals & MEMFD_COMPAT_SEAL_WRITE)) {
		ret = memfd_deny_writable_mappings(state, file->f_mapping);
		if (ret)
			return ret;
		ret = memfd_wait_for_pins(file->f_mapping);
		if (ret) {
			WRITE_ONCE(state->write_seal_pending, false);
			return ret;
		}
	}

	WRITE_ONCE(state->seals, state->seals | seals);
	WRITE_ONCE(state->write_seal_pending, false);
	return 0;
}

static int memfd_add_seals(struct file *file, unsigned long seals)
{
	struct memfd_state *state = memfd_state_of(file);
	struct inode *inode = file_inode(file);
	int ret;

	if (!(file->f_mode & FMODE_WRITE))
		return -EPERM;
	if (seals & ~(unsigned long)MEMFD_ALL_SEALS)
		return -EINVAL;

	if (down_write_killable(&state->fallocate_sem))
		return -EINTR;
	inode_lock(inode);
	ret = memfd_add_seals_locked(file, state, seals);
	inode_unlock(inode);
	up_write(&state->fallocate_sem);
	return ret;
}

long memfd_seal_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	switch (cmd) {
	case MEMFD_COMPAT_IOC_ADD_SEALS:
		return memfd_add_seals(file, arg);
	case MEMFD_COMPAT_IOC_GET_SEALS:
		if (arg)
			return -EINVAL;
		return READ_ONCE(memfd_state_of(file)->seals);
	default:
		return -ENOTTY;
	}
}
