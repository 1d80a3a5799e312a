// Memory mappings of a memfd.
#include "guest_util.hpp"

namespace guest
{
namespace
{

class Mmap : public BackendTest
{
};
INSTANTIATE_BACKENDS(Mmap);

using memfd_compat::mapping;

TEST_P(Mmap, MapShared_WritesVisibleThroughRead)
{
	owned_fd m = make();
	ASSERT_EQ(ftruncate(m.get(), page_size()), 0);
	mapping map =
	        mapping::map(m.get(), page_size(), PROT_READ | PROT_WRITE, MAP_SHARED);
	std::memcpy(map.data(), "shared", 6);
	EXPECT_EQ(pread_str(m.get(), 6, 0), "shared");
}

TEST_P(Mmap, MapShared_PwriteVisibleInMapping)
{
	owned_fd m = make();
	ASSERT_EQ(ftruncate(m.get(), page_size()), 0);
	mapping map = mapping::map(m.get(), page_size(), PROT_READ, MAP_SHARED);
	ASSERT_EQ(pwrite(m.get(), "later", 5, 0), 5);
	EXPECT_EQ(std::memcmp(map.data(), "later", 5), 0);
}

TEST_P(Mmap, MapShared_TwoMappingsSeeSamePages)
{
	owned_fd m = make();
	ASSERT_EQ(ftruncate(m.get(), page_size()), 0);
	mapping a =
	        mapping::map(m.get(), page_size(), PROT_READ | PROT_WRITE, MAP_SHARED);
	mapping b = mapping::map(m.get(), page_size(), PROT_READ, MAP_SHARED);
	static_cast<char *>(a.data())[100] = 'q';
	EXPECT_EQ(static_cast<char *>(b.data())[100], 'q');
}

TEST_P(Mmap, MapPrivate_CopyOnWriteLeavesFileUnchanged)
{
	owned_fd m = make_with("original");
	mapping map =
	        mapping::map(m.get(), page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE);
	EXPECT_EQ(std::memcmp(map.data(), "original", 8), 0);
	std::memcpy(map.data(), "modified", 8);
	EXPECT_EQ(pread_str(m.get(), 8, 0), "original");
	EXPECT_EQ(std::memcmp(map.data(), "modified", 8), 0);
}

TEST_P(Mmap, MapShared_AccessBeyondEof_SIGBUS)
{
	owned_fd m = make_with("x");
	const int fd = m.get();
	const std::size_t ps = page_size();
	const int code = run_in_child([fd, ps] {
		void *p = mmap(nullptr, 2 * ps, PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			return 2;
		volatile char c = static_cast<char *>(p)[ps]; // second page: past EOF
		(void)c;
		return 0;
	});
	EXPECT_EQ(code, 128 + SIGBUS);
}

TEST_P(Mmap, MapShared_SurvivesClose)
{
	owned_fd m = make();
	ASSERT_EQ(ftruncate(m.get(), page_size()), 0);
	mapping map =
	        mapping::map(m.get(), page_size(), PROT_READ | PROT_WRITE, MAP_SHARED);
	m.reset();
	std::memcpy(map.data(), "alive", 5);
	EXPECT_EQ(std::memcmp(map.data(), "alive", 5), 0);
}

} // namespace
} // namespace guest
