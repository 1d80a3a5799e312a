// F_SEAL_SHRINK and F_SEAL_GROW.
#include "guest_util.hpp"

#include <linux/falloc.h>

namespace guest
{
namespace
{

class SealShrink : public BackendTest
{
};
INSTANTIATE_BACKENDS(SealShrink);
class SealGrow : public BackendTest
{
};
INSTANTIATE_BACKENDS(SealGrow);

TEST_P(SealShrink, FtruncateSmaller_EPERM)
{
	owned_fd m = make_with("0123456789");
	ASSERT_EQ(add(m.get(), F_SEAL_SHRINK), 0);
	EXPECT_ERRNO(ftruncate(m.get(), 5), EPERM);
	EXPECT_ERRNO(ftruncate(m.get(), 0), EPERM);
	EXPECT_EQ(file_size(m.get()), 10);
}

TEST_P(SealShrink, FtruncateSameOrLarger_Ok)
{
	owned_fd m = make_with("0123456789");
	ASSERT_EQ(add(m.get(), F_SEAL_SHRINK), 0);
	EXPECT_EQ(ftruncate(m.get(), 10), 0);
	EXPECT_EQ(ftruncate(m.get(), 20), 0);
	EXPECT_EQ(file_size(m.get()), 20);
}

TEST_P(SealShrink, OpenWithOTruncOnNonEmptyFile_EPERM)
{
	owned_fd m = make_with("0123456789");
	ASSERT_EQ(add(m.get(), F_SEAL_SHRINK), 0);
	EXPECT_ERRNO(open(proc_path(m.get()).c_str(), O_RDWR | O_TRUNC | O_CLOEXEC),
	             EPERM);
	EXPECT_EQ(file_size(m.get()), 10);
	EXPECT_EQ(pread_str(m.get(), 10, 0), "0123456789");
}

TEST_P(SealShrink, OpenWithOTruncOnEmptyFile_Ok)
{
	owned_fd m = make();
	ASSERT_EQ(add(m.get(), F_SEAL_SHRINK), 0);
	owned_fd r{open(proc_path(m.get()).c_str(), O_RDWR | O_TRUNC | O_CLOEXEC)};
	EXPECT_TRUE(r) << std::strerror(errno);
}

TEST_P(SealShrink, WriteAndPunchHole_StillAllowed)
{
	owned_fd m = make_with(std::string(2 * page_size(), 'x'));
	ASSERT_EQ(add(m.get(), F_SEAL_SHRINK), 0);
	EXPECT_EQ(pwrite(m.get(), "y", 1, 0), 1);
	EXPECT_EQ(fallocate(m.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
	                    page_size()),
	          0);
	EXPECT_EQ(file_size(m.get()), static_cast<off_t>(2 * page_size()));
}

TEST_P(SealGrow, FtruncateLarger_EPERM)
{
	owned_fd m = make_with("0123456789");
	ASSERT_EQ(add(m.get(), F_SEAL_GROW), 0);
	EXPECT_ERRNO(ftruncate(m.get(), 11), EPERM);
	EXPECT_ERRNO(ftruncate(m.get(), 1 << 20), EPERM);
	EXPECT_EQ(file_size(m.get()), 10);
}

TEST_P(SealGrow, FtruncateSmallerOrSame_Ok)
{
	owned_fd m = make_with("0123456789");
	ASSERT_EQ(add(m.get(), F_SEAL_GROW), 0);
	EXPECT_EQ(ftruncate(m.get(), 10), 0);
	EXPECT_EQ(ftruncate(m.get(), 4), 0);
	EXPECT_EQ(file_size(m.get()), 4);
}

TEST_P(SealGrow, WriteAtEof_EPERM)
{
	owned_fd m = make_with("0123456789");
	ASSERT_EQ(add(m.get(), F_SEAL_GROW), 0);
	ASSERT_EQ(lseek(m.get(), 0, SEEK_END), 10);
	EXPECT_ERRNO(write(m.get(), "x", 1), EPERM);
	EXPECT_EQ(file_size(m.get()), 10);
}

TEST_P(SealGrow, PwriteEntirelyPastEof_EPERM)
{
	owned_fd m = make_with("0123456789");
	ASSERT_EQ(add(m.get(), F_SEAL_GROW), 0);
	EXPECT_ERRNO(pwrite(m.get(), "x", 1, 10), EPERM);
	EXPECT_ERRNO(pwrite(m.get(), "xyz", 3, 1 << 20), EPERM);
	EXPECT_EQ(file_size(m.get()), 10);
}

TEST_P(SealGrow, PwriteWithinSize_Ok)
{
	owned_fd m = make_with("0123456789");
	ASSERT_EQ(add(m.get(), F_SEAL_GROW), 0);
	EXPECT_EQ(pwrite(m.get(), "abc", 3, 7), 3);
	EXPECT_EQ(pread_str(m.get(), 10, 0), "0123456abc");
}

TEST_P(SealGrow, FallocatePastEnd_EPERM)
{
	owned_fd m = make_with("0123456789");
	ASSERT_EQ(add(m.get(), F_SEAL_GROW), 0);
	EXPECT_ERRNO(fallocate(m.get(), 0, 0, 1 << 20), EPERM);
	EXPECT_EQ(file_size(m.get()), 10);
}

TEST_P(SealGrow, FallocateKeepSizePastEnd_EPERM)
{
	owned_fd m = make_with("0123456789");
	ASSERT_EQ(add(m.get(), F_SEAL_GROW), 0);
	EXPECT_ERRNO(fallocate(m.get(), FALLOC_FL_KEEP_SIZE, 0, 1 << 20), EPERM);
}

TEST_P(SealGrow, FallocateWithinSize_Ok)
{
	owned_fd m = make_with(std::string(page_size(), 'x'));
	ASSERT_EQ(add(m.get(), F_SEAL_GROW), 0);
	EXPECT_EQ(fallocate(m.get(), 0, 0, page_size()), 0) << std::strerror(errno);
}

TEST_P(SealGrow, SharedMappingPastEof_StillSIGBUS)
{
	owned_fd m = make_with("x");
	ASSERT_EQ(add(m.get(), F_SEAL_GROW), 0);
	const int fd = m.get();
	const std::size_t ps = page_size();
	EXPECT_EQ(run_in_child([fd, ps] {
		          void *p = mmap(nullptr, 2 * ps, PROT_READ | PROT_WRITE,
		                         MAP_SHARED, fd, 0);
		          if (p == MAP_FAILED)
			          return 2;
		          static_cast<volatile char *>(p)[ps] = 'g';
		          return 0;
	          }),
	          128 + SIGBUS);
	EXPECT_EQ(file_size(m.get()), 1);
}

TEST_P(SealGrow, ShrinkAndGrow_SizeFrozen)
{
	owned_fd m = make_with("0123456789");
	ASSERT_EQ(add(m.get(), F_SEAL_SHRINK | F_SEAL_GROW), 0);
	EXPECT_EQ(ftruncate(m.get(), 10), 0);
	EXPECT_ERRNO(ftruncate(m.get(), 9), EPERM);
	EXPECT_ERRNO(ftruncate(m.get(), 11), EPERM);
	EXPECT_EQ(pwrite(m.get(), "ab", 2, 0), 2); // data may still change
}

} // namespace
} // namespace guest
