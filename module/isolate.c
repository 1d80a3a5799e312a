// SPDX-License-Identifier: GPL-2.0
/*
 * MEMFD_COMPAT_SEAL_ISOLATE_PINS: a write seal that pins cannot block.
 *
 * Where the plain write seal waits for pinned folios to drain (pins.c) and
 * fails with EBUSY if they do not, this replaces each pinned order-0 folio
 * in the file by a copy. The pinner keeps the old folio, which is no longer
 * in the page cache: whatever it writes there later reaches no reader of
 * the file. A pinned large folio (shmem THP) is not copied: neither
 * kernel's page cache replacement handles one, and split_huge_page() is
 * not exported. For those the seal falls back to the plain wait.
 *
 * Why the set of pins to isolate is known. The caller holds i_rwsem (no
 * write, truncate, fallocate or other seal runs) and has called
 * mapping_deny_writable(), which succeeded: no shared mapping that may
 * write exists, and none can be made. A new writing pin needs a writable
 * PTE or a write fault: a shared read-only mapping without VM_MAYWRITE
 * refuses both, and a private mapping copies on write, so the pin lands on
 * an anonymous page. GUP-fast finds no writable PTE to pin. Kernel writes
 * into the page cache (write_iter, splice, copy_file_range, fallocate) take
 * i_rwsem. So every reference that could still write a folio of the file
 * was taken before the scan and shows as an extra reference on a folio
 * that is in the page cache now (a pinned folio is never written out to
 * swap: reclaim's pageout() leaves folios with extra references alone).
 * New read pins, a read() or a GUP-fast racing the unmap may add
 * references of their own meanwhile; they at worst make us copy a folio
 * needlessly. A read reference taken before the seal returns (a splice
 * or vmsplice in flight) may still end on the original, and see what a
 * pinner writes there later; readers that start after the seal see the
 * file's copy.
 *
 * Per folio, with the folio lock held (faults and fault-around map a
 * folio only under its lock, and recheck folio->mapping after taking it):
 * the extra references are counted again, the folio is unmapped from every
 * process (unmap_mapping_pages(): read-only shared mappings and file pages
 * in private ones; they refault onto the new folio; always, so that TLB
 * flushes another zapper still owes are done first), the unmap repeated
 * while fork() or mremap() may have copied or moved a PTE past the first
 * one, and the references counted once more before the copy replaces it.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/swap.h>

#include "memfd_internal.h"

/* Unmaps of one folio before it counts as one we cannot isolate */
#define MEMFD_ISOLATE_UNMAP_TRIES 4

/*
 * What memfd_isolate_index() did with the folio at an index: replaced it,
 * found nothing to do (gone, or no pins once locked), or could not
 * replace it and left it to the plain wait (large, swap cache, under
 * writeback, poisoned, or mapped again after every unmap).
 */
enum memfd_isolate_result {
	MEMFD_ISOLATED,
	MEMFD_NOT_PINNED,
	MEMFD_LEAVE_TO_WAIT,
};

/*
 * Whether @folio, locked, carries references beyond the page cache's, its
 * mappings' and the one our lookup took.
 */
static bool memfd_folio_pinned(struct folio *folio)
{
	return memfd_folio_extra_refs(folio) > 1;
}

/*
 * Copies @old (locked, order 0, unmapped, in @mapping) into @new and puts
 * @new in the page cache in its place. Returns with @new on the LRU and
 * unlocked; the caller's reference to @new is its own to drop.
 */
static void memfd_replace_folio(struct folio *old, struct folio *new)
{
	copy_highpage(folio_page(new, 0), folio_page(old, 0));
	flush_dcache_folio(new);

	__folio_set_locked(new);
	__folio_set_swapbacked(new);
	if (folio_test_uptodate(old))
		folio_mark_uptodate(new);
	/*
	 * Always dirty: a pinner may have written @old without dirtying it
	 * yet (that happens at unpin), and a clean shmem folio may be
	 * dropped by reclaim instead of being swapped out.
	 */
	folio_set_dirty(new);
	/* @old leaves the file as a truncated folio does: clean */
	folio_cancel_dirty(old);

	memfd_replace_cache_folio(old, new);
	folio_add_lru(new);
	folio_unlock(new);
}

/*
 * Isolates the folio at @index if it is pinned. *@next is set to the
 * first index after it. @new is a spare order-0 folio; it is used (and
 * *@new set to NULL) if the folio is replaced.
 */
static enum memfd_isolate_result
memfd_isolate_index(struct address_space *mapping, pgoff_t index,
		    struct folio **new, pgoff_t *next)
{
	enum memfd_isolate_result ret = MEMFD_NOT_PINNED;
	struct folio *folio;
	int tries;

	*next = index + 1;
	folio = filemap_get_folio(mapping, index);
	if (IS_ERR_OR_NULL(folio))
		return MEMFD_NOT_PINNED;

	folio_lock(folio);
	/*
	 * Truncate and hole punch are excluded by i_rwsem; reclaim,
	 * migration or khugepaged may have taken an unpinned folio away:
	 * what is in its place now carries no pin of before the seal.
	 */
	if (folio->mapping != mapping)
		goto out;
	*next = folio->index + folio_nr_pages(folio);
	if (!memfd_folio_pinned(folio))
		goto out;
	if (folio_test_large(folio) || folio_test_swapcache(folio) ||
	    folio_test_writeback(folio) || folio_test_hwpoison(folio)) {
		ret = MEMFD_LEAVE_TO_WAIT;
		goto out;
	}

	/*
	 * At least once, mapped or not: another zap (MADV_DONTNEED, or
	 * reclaim's batched unmap) may have cleared the PTEs and the map
	 * count without having flushed the TLBs yet, and a stale entry
	 * would show a reader what the pinner writes into the original
	 * after the seal. Our zap of the same page tables flushes them:
	 * reclaim's pending batch under the page table lock
	 * (flush_tlb_batched_pending()), a parallel batching zapper's when
	 * ours finishes (tlb_finish_mmu() sees the nested flush). Only a
	 * munmap() of the range racing the seal, whose vma has left the
	 * mapping's tree before its flush, is not waited for: a thread
	 * reading memory another thread is unmapping.
	 */
	tries = 0;
	do {
		if (tries++ == MEMFD_ISOLATE_UNMAP_TRIES) {
			ret = MEMFD_LEAVE_TO_WAIT;
			goto out;
		}
		unmap_mapping_pages(mapping, folio->index, 1, false);
	} while (folio_mapped(folio));
	/* the references may have been the mappings' in flux */
	if (!memfd_folio_pinned(folio))
		goto out;

	memfd_replace_folio(folio, *new);
	folio_put(*new);
	*new = NULL;
	ret = MEMFD_ISOLATED;
out:
	folio_unlock(folio);
	folio_put(folio);
	return ret;
}

/*
 * Replaces every pinned order-0 folio of @mapping by a copy; waits as
 * memfd_wait_for_pins() for pinned folios it cannot replace. Returns 0,
 * -EBUSY (those did not drain, or a fatal signal), or -ENOMEM. The caller
 * holds i_rwsem and has stopped writable mappings (see the top).
 */
int memfd_isolate_pins(struct address_space *mapping)
{
	struct folio *spare = NULL;
	bool left_to_wait = false;
	pgoff_t index, next;
	int ret = 0;

	/*
	 * As the plain check: per-CPU LRU batches hold references that are
	 * no pins. Drain this CPU's; if suspects remain, every CPU's.
	 */
	memfd_lru_add_drain_local();
	index = memfd_find_pinned(mapping, 0);
	if (index == ULONG_MAX)
		return 0;
	memfd_lru_add_drain_all();

	for (index = memfd_find_pinned(mapping, index); index != ULONG_MAX;
	     index = memfd_find_pinned(mapping, next)) {
		if (fatal_signal_pending(current)) {
			ret = -EBUSY;
			break;
		}
		/* allocated before the folio lock is taken, may sleep */
		if (!spare) {
			spare = folio_alloc(mapping_gfp_mask(mapping) |
					    __GFP_NOWARN, 0);
			if (!spare) {
				ret = -ENOMEM;
				break;
			}
		}
		if (memfd_isolate_index(mapping, index, &spare, &next) ==
		    MEMFD_LEAVE_TO_WAIT)
			left_to_wait = true;
		if (next == 0)	/* wrapped past the last index */
			break;
		cond_resched();
	}
	if (spare)
		folio_put(spare);
	if (!ret && left_to_wait)
		ret = memfd_wait_for_pins(mapping);
	return ret;
}
