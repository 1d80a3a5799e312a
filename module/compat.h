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
#include <linux/pagemap.h>
#include <linux/pagevec.h>
#include <linux/hugetlb.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/cred.h>
#include <linux/namei.h>

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
 * References a page cache folio has beyond the page cache's own and one
 * per page table mapping, i.e. pins (0 if none). 6.1 computes
 * folio_mapcount() out of line and does not export it; for a file folio
 * it is the sum of the per-page map counts (the entire-folio count is
 * folded into each), except for hugetlb, whose folio is mapped as a whole
 * and held by the page cache with one reference. From 6.2 the page cache
 * holds one reference per page for every folio, and folio_mapcount()
 * counts hugetlb's too.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
static inline long memfd_folio_extra_refs(struct folio *folio)
{
	long i, nr = folio_nr_pages(folio);
	long count = 0;

	if (folio_test_hugetlb(folio))
		return folio_ref_count(folio) -
		       folio_entire_mapcount(folio) - 1;
	for (i = 0; i < nr; i++)
		count += atomic_read(&folio_page(folio, i)->_mapcount) + 1;
	return folio_ref_count(folio) - count - nr;
}
#else
static inline long memfd_folio_extra_refs(struct folio *folio)
{
	return folio_ref_count(folio) - folio_mapcount(folio) -
	       folio_nr_pages(folio);
}
#endif

static inline bool memfd_folio_has_extra_refs(struct folio *folio)
{
	return memfd_folio_extra_refs(folio) != 0;
}

/*
 * Puts @new, a locked order-0 folio not yet in any mapping, in the page
 * cache in place of @old (locked, order 0): the xarray entry, NR_FILE_PAGES
 * and NR_SHMEM, and a memcg charge for @new (both stay charged until @old
 * is freed). The page cache's reference moves from @old to @new. 6.1's
 * call takes pages, 6.12's folios (neither handles a large folio: one
 * xarray slot, one reference, no THP counters). Between them only the
 * 6.6 cut of memfd_tmpfile_open() matters: 6.3 to 6.5 do not build.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
static inline void memfd_replace_cache_folio(struct folio *old,
					     struct folio *new)
{
	replace_page_cache_folio(old, new);
}
#else
static inline void memfd_replace_cache_folio(struct folio *old,
					     struct folio *new)
{
	replace_page_cache_page(&old->page, &new->page);
}
#endif

/*
 * O_TMPFILE from the kernel: 6.3 replaced the user namespace argument by
 * an idmap, and a later release renamed the call kernel_tmpfile_open().
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
static inline struct file *memfd_tmpfile_open(const struct path *parent,
					      umode_t mode, int open_flag)
{
	return kernel_tmpfile_open(&nop_mnt_idmap, parent, mode, open_flag,
				   current_cred());
}
#elif LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline struct file *memfd_tmpfile_open(const struct path *parent,
					      umode_t mode, int open_flag)
{
	return vfs_tmpfile_open(&init_user_ns, parent, mode, open_flag,
				current_cred());
}
#else
#error "memfd-compat supports Debian's 6.1 and 6.12 kernels"
#endif

/*
 * lru_add_drain() is not exported. Releasing an empty batch drains this
 * CPU's LRU batches as a side effect (and frees nothing): the release
 * drains unless the batch's percpu_pvec_drained says it already did, and
 * the init clears that flag. Should a kernel of the series drop the flag,
 * the drain may have moved too, and the build stops here (the compile
 * matrix builds every ABI) instead of the pin check turning flaky.
 */
#define memfd_assert_batch_drains(type) \
	static_assert(sizeof_field(type, percpu_pvec_drained) == sizeof(bool))
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
memfd_assert_batch_drains(struct folio_batch);

static inline void memfd_lru_add_drain_local(void)
{
	struct folio_batch empty;

	folio_batch_init(&empty);
	__folio_batch_release(&empty);
}
#else
memfd_assert_batch_drains(struct pagevec);

static inline void memfd_lru_add_drain_local(void)
{
	struct pagevec empty;

	pagevec_init(&empty);
	__pagevec_release(&empty);
}
#endif

/*
 * The seal field of a hugetlbfs inode. Without hugetlbfs (a configuration,
 * not a version, difference) get_fs_type() finds none, MFD_HUGETLB stays
 * unsupported and this is never called.
 */
#ifdef CONFIG_HUGETLBFS
static inline unsigned int *memfd_hugetlbfs_seals(struct inode *inode)
{
	return &HUGETLBFS_I(inode)->seals;
}
#else
static inline unsigned int *memfd_hugetlbfs_seals(struct inode *inode)
{
	return NULL;
}
#endif

#endif /* _MEMFD_COMPAT_COMPAT_H */
