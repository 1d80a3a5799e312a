/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interface between the files of the memfd-compat module.
 *
 * Where the seals live. A module memfd is a shmem (or, for MFD_HUGETLB,
 * hugetlbfs) file whose seals are the kernel's own field, SHMEM_I(inode)->
 * seals or HUGETLBFS_I(inode)->seals: the one fcntl(F_GET_SEALS /
 * F_ADD_SEALS), the filesystem's write, setattr, fallocate and mmap,
 * do_mmap() and udmabuf read. The module keeps no copy. It writes the field at create
 * time and in its ADD_SEALS ioctl; the kernel enforces every seal it knows.
 *
 * Lock order (outermost first), the kernel's own for this field:
 *
 *   inode->i_rwsem       the field changes only under it, here (seals.c)
 *                        as in the kernel's F_ADD_SEALS; shmem's write,
 *                        fallocate and ->setattr (which the VFS calls with
 *                        it held) read it under it
 *     folio lock         isolate.c, one folio at a time: excludes faults
 *                        and fault-around mapping it, reclaim, migration
 *                        and khugepaged taking it, while it is replaced
 *       mapping->i_mmap_rwsem  (read) unmap_mapping_pages() in isolate.c
 *         page table locks     inside the unmap
 *       i_pages xa_lock  the replacement's xarray store, inside
 *                        replace_page_cache_{page,folio}()
 *     i_pages xa_lock    pins.c's scan, briefly, nothing nested inside
 *                        (taken again without any folio lock held)
 *
 * This is the kernel's own order (mm/rmap.c: i_rwsem, folio lock,
 * i_mmap_rwsem, page table lock; mm/filemap.c: folio lock, i_pages lock),
 * as truncate takes it. The spare folio is allocated before any folio
 * lock is taken. Why no pin of before the seal escapes isolate.c's scan,
 * and why none can be taken during it, is written at its top.
 *
 * ->mmap holds no i_rwsem; a write seal excludes writable shared mappings
 * through the mapping's i_mmap_writable count (mapping_deny_writable()),
 * as the kernel's F_ADD_SEALS does.
 */
#ifndef _MEMFD_COMPAT_INTERNAL_H
#define _MEMFD_COMPAT_INTERNAL_H

#include <linux/fs.h>
#include <linux/hugetlb.h>
#include <linux/magic.h>
#include <linux/shmem_fs.h>
#include <memfd_compat/uapi.h>

#define MEMFD_ALL_SEALS (MEMFD_COMPAT_SEAL_SEAL | MEMFD_COMPAT_SEAL_SHRINK | \
			 MEMFD_COMPAT_SEAL_GROW | MEMFD_COMPAT_SEAL_WRITE | \
			 MEMFD_COMPAT_SEAL_FUTURE_WRITE | \
			 MEMFD_COMPAT_SEAL_EXEC)

#define MEMFD_WRITE_SEALS (MEMFD_COMPAT_SEAL_WRITE | \
			   MEMFD_COMPAT_SEAL_FUTURE_WRITE)

/* Flags of the ADD_SEALS ioctl */
#define MEMFD_SEAL_FLAGS MEMFD_COMPAT_SEAL_ISOLATE_PINS

/* The seals the running kernel's own fcntl(F_ADD_SEALS) accepts. */
#define MEMFD_FCNTL_SEALS (MEMFD_KERNEL_HAS_SEAL_EXEC ? MEMFD_ALL_SEALS : \
			   MEMFD_ALL_SEALS & ~MEMFD_COMPAT_SEAL_EXEC)

/*
 * The kernel's seal field of a memfd's inode: a shmem or hugetlbfs
 * regular file (callers check which, e.g. with shmem_file()).
 */
static inline unsigned int *memfd_inode_seals(struct inode *inode)
{
	if (inode->i_sb->s_magic == HUGETLBFS_MAGIC)
		return memfd_hugetlbfs_seals(inode);
	return &SHMEM_I(inode)->seals;
}

/* seals.c */
long memfd_dev_add_seals(struct memfd_compat_seal_args __user *uargs);

/* pins.c */
int memfd_pins_init(void);
void memfd_pins_exit(void);
int memfd_wait_for_pins(struct address_space *mapping);
void memfd_lru_add_drain_all(void);
pgoff_t memfd_find_pinned(struct address_space *mapping, pgoff_t start);

/* isolate.c */
int memfd_isolate_pins(struct address_space *mapping);

/* hugetlb.c */
int memfd_hugetlb_init(void);
void memfd_hugetlb_exit(void);
bool memfd_hugetlb_supported(void);
bool memfd_is_hugetlb_file(const struct file *file);
struct file *memfd_hugetlb_file_setup(const char *name, unsigned int flags);

/*
 * exec_seal.c: F_SEAL_EXEC on kernels whose shmem and hugetlbfs do not
 * enforce it (!MEMFD_KERNEL_HAS_SEAL_EXEC); unused elsewhere.
 */
int memfd_exec_seal_init(void);
int memfd_exec_seal_learn(struct file *probe);
void memfd_exec_seal_exit(void);
int memfd_exec_seal_attach(struct file *file);
bool memfd_exec_seal_attached(const struct inode *inode);

#endif /* _MEMFD_COMPAT_INTERNAL_H */
