/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels memfd-compat supports (Debian's 6.1
 * and 6.12) lives here, so that the logic files carry no version checks.
 * Force-included into every object by Kbuild.
 */
#ifndef _MEMFD_COMPAT_COMPAT_H
#define _MEMFD_COMPAT_COMPAT_H

#include <linux/version.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pagevec.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>

/*
 * 6.3 added F_SEAL_EXEC, MFD_EXEC, MFD_NOEXEC_SEAL and vm.memfd_noexec to
 * the kernel's memfd: its fcntl accepts the seal and shmem_setattr()
 * enforces it. Before that, the module supplies them (exec_seal.c).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define MEMFD_KERNEL_HAS_SEAL_EXEC 1

/* vm.memfd_noexec of the caller's pid namespace, ancestors included */
static inline int memfd_kernel_noexec_scope(void)
{
	return pidns_memfd_noexec_scope(task_active_pid_ns(current));
}
#else
#define MEMFD_KERNEL_HAS_SEAL_EXEC 0

/* no per-namespace policy in the kernel: the module parameter alone */
static inline int memfd_kernel_noexec_scope(void)
{
	return 0;
}
#endif

/* 6.3 replaced the user namespace argument of ->setattr by an idmap. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define MEMFD_SETATTR_IDMAP struct mnt_idmap
#else
#define MEMFD_SETATTR_IDMAP struct user_namespace
#endif

/*
 * Number of page table mappings of a page cache folio. 6.1 computes it out
 * of line and does not export it; for file folios it is the sum of the
 * per-page map counts (the entire-folio count is folded into each).
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
static inline int memfd_folio_mapcount(struct folio *folio)
{
	long i, nr = folio_nr_pages(folio);
	int count = 0;

	for (i = 0; i < nr; i++)
		count += atomic_read(&folio_page(folio, i)->_mapcount) + 1;
	return count;
}
#else
static inline int memfd_folio_mapcount(struct folio *folio)
{
	return folio_mapcount(folio);
}
#endif

/*
 * lru_add_drain() is not exported. Releasing an empty batch drains this
 * CPU's LRU batches as a side effect (and frees nothing).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
static inline void memfd_lru_add_drain_local(void)
{
	struct folio_batch empty;

	folio_batch_init(&empty);
	__folio_batch_release(&empty);
}
#else
static inline void memfd_lru_add_drain_local(void)
{
	struct pagevec empty;

	pagevec_init(&empty);
	__pagevec_release(&empty);
}
#endif

#endif /* _MEMFD_COMPAT_COMPAT_H */
