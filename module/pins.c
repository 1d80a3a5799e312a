// SPDX-License-Identifier: GPL-2.0
/*
 * Pinned-page check for F_SEAL_WRITE. A page someone holds a reference to
 * (O_DIRECT or AIO in flight, io_uring fixed buffers, vmsplice) could be
 * written through that reference after the seal. Before granting the
 * seal we look for folios with references beyond the page cache's and the
 * page tables' own, give them a bounded time to drain, and refuse with
 * EBUSY if they do not.
 */
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/percpu.h>
#include <linux/sched/signal.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "memfd_internal.h"

/*
 * The first scan follows a drain of this CPU's LRU batches. If it finds
 * suspects: drain every CPU's and look again, then sleep 10, 20, 40 and
 * 80 ms before each further look (150 ms in all, as upstream waits).
 */
#define MEMFD_PIN_RETRIES	5
#define MEMFD_PIN_FIRST_SLEEP_MS 10

/* Entries scanned under the xarray lock before giving the CPU away */
#define MEMFD_PIN_SCAN_BATCH	4096

static struct work_struct __percpu *memfd_drain_works;
static DEFINE_MUTEX(memfd_drain_lock);

static void memfd_drain_local(struct work_struct *work)
{
	memfd_lru_add_drain_local();
}

/*
 * Pages just written or faulted sit in per-CPU LRU batches, which hold a
 * reference each. lru_add_drain_all() is not exported, so drain every
 * CPU's batches from a work item bound to it.
 */
void memfd_lru_add_drain_all(void)
{
	int cpu;

	mutex_lock(&memfd_drain_lock);
	for_each_online_cpu(cpu) {
		struct work_struct *work = per_cpu_ptr(memfd_drain_works, cpu);

		INIT_WORK(work, memfd_drain_local);
		queue_work_on(cpu, system_wq, work);
	}
	for_each_online_cpu(cpu)
		flush_work(per_cpu_ptr(memfd_drain_works, cpu));
	mutex_unlock(&memfd_drain_lock);
}

/*
 * Index of the first folio at or after @start with extra references, or
 * ULONG_MAX. The xarray lock keeps the folios in the page cache while we
 * look; it is dropped every MEMFD_PIN_SCAN_BATCH entries.
 */
pgoff_t memfd_find_pinned(struct address_space *mapping, pgoff_t start)
{
	XA_STATE(xas, &mapping->i_pages, start);
	pgoff_t found = ULONG_MAX;
	unsigned int scanned = 0;
	struct folio *folio;

	xas_lock_irq(&xas);
	xas_for_each(&xas, folio, ULONG_MAX) {
		if (!xa_is_value(folio) && memfd_folio_has_extra_refs(folio)) {
			found = xas.xa_index;
			break;
		}
		if (++scanned % MEMFD_PIN_SCAN_BATCH)
			continue;
		xas_pause(&xas);
		xas_unlock_irq(&xas);
		cond_resched();
		xas_lock_irq(&xas);
	}
	xas_unlock_irq(&xas);
	return found;
}

/*
 * Returns 0 once no folio of @mapping has extra references, or -EBUSY
 * after about 150 ms, or at once on a fatal signal. The caller holds
 * i_rwsem and has stopped new writable mappings.
 */
int memfd_wait_for_pins(struct address_space *mapping)
{
	pgoff_t pinned;
	int retry;

	/*
	 * Usually the writer ran on this CPU: its batches are the likely
	 * holders of extra references, and cheap to drain (no work items).
	 */
	memfd_lru_add_drain_local();
	pinned = memfd_find_pinned(mapping, 0);

	for (retry = 0; pinned != ULONG_MAX; retry++) {
		if (retry == MEMFD_PIN_RETRIES)
			return -EBUSY;
		if (retry == 0) {
			memfd_lru_add_drain_all();
		} else {
			unsigned int ms = MEMFD_PIN_FIRST_SLEEP_MS << (retry - 1);

			schedule_timeout_killable(msecs_to_jiffies(ms));
			if (fatal_signal_pending(current))
				return -EBUSY;
		}
		/* folios before the first suspect were clean; rescan from it */
		pinned = memfd_find_pinned(mapping, pinned);
	}
	return 0;
}

int memfd_pins_init(void)
{
	memfd_drain_works = alloc_percpu(struct work_struct);
	return memfd_drain_works ? 0 : -ENOMEM;
}

void memfd_pins_exit(void)
{
	free_percpu(memfd_drain_works);
}
