// The last close frees the memfd's memory.
#include "guest_util.hpp"
#include "lifetime/lifetime_util.hpp"

#include <chrono>
#include <fstream>
#include <thread>

namespace guest
{
namespace
{

constexpr long mib = 1 << 20;
constexpr long size = 64 * mib;
constexpr long slack = 8 * mib;

// "Shmem:" of /proc/meminfo, in bytes (-1 if unreadable).
long shmem_bytes()
{
	const long kib = lifetime::meminfo_kb("Shmem");
	return kib < 0 ? -1 : kib * 1024;
}

// Waits up to 2 s for Shmem to fall to @limit; returns the last reading.
long wait_shmem_at_most(long limit)
{
	long now = shmem_bytes();
	for (int i = 0; i < 40 && now > limit; ++i) {
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
		now = shmem_bytes();
	}
	return now;
}

void fill(int fd)
{
	const std::string chunk(mib, 'm');
	for (long off = 0; off < size; off += mib)
		ASSERT_EQ(pwrite(fd, chunk.data(), chunk.size(), off), mib);
}

class Memory : public BackendTest
{
};
INSTANTIATE_BACKENDS(Memory);

TEST_P(Memory, CloseLastReference_ShmemReturnsToBaseline)
{
	const long baseline = shmem_bytes();
	ASSERT_GE(baseline, 0);
	owned_fd m = make();
	ASSERT_NO_FATAL_FAILURE(fill(m.get()));
	EXPECT_GE(shmem_bytes(), baseline + size - slack);
	m.reset();
	EXPECT_LE(wait_shmem_at_most(baseline + slack), baseline + slack);
}

TEST_P(Memory, CloseWithMappingAlive_FreedOnlyAfterMunmap)
{
	const long baseline = shmem_bytes();
	owned_fd m = make();
	ASSERT_NO_FATAL_FAILURE(fill(m.get()));
	void *p = mmap(nullptr, size, PROT_READ, MAP_SHARED, m.get(), 0);
	ASSERT_NE(p, MAP_FAILED);
	m.reset();
	EXPECT_GE(shmem_bytes(), baseline + size - slack);
	EXPECT_EQ(static_cast<char *>(p)[size - 1], 'm');
	ASSERT_EQ(munmap(p, size), 0);
	EXPECT_LE(wait_shmem_at_most(baseline + slack), baseline + slack);
}

TEST_P(Memory, CloseWithDupAlive_NotFreedUntilLastClose)
{
	const long baseline = shmem_bytes();
	owned_fd m = make();
	ASSERT_NO_FATAL_FAILURE(fill(m.get()));
	owned_fd d{dup(m.get())};
	m.reset();
	EXPECT_GE(shmem_bytes(), baseline + size - slack);
	d.reset();
	EXPECT_LE(wait_shmem_at_most(baseline + slack), baseline + slack);
}

} // namespace
} // namespace guest
