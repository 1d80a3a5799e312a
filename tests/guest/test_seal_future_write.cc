// F_SEAL_FUTURE_WRITE blocks new writers, not existing
// writable mappings.
#include "guest_util.hpp"

#include <linux/falloc.h>
#include <sys/uio.h>

namespace guest
{
namespace
{

class SealFutureWrite : public BackendTest
{
};
INSTANTIATE_BACKENDS(SealFutureWrite);

TEST_P(SealFutureWrite, WriteAndPwriteAndWritev_EPERM)
{
	owned_fd m = make_with("future");
	ASSERT_EQ(add(m.get(), F_SEAL_FUTURE_WRITE), 0);
	EXPECT_ERRNO(write(m.get(), "x", 1), EPERM);
	EXPECT_ERRNO(pwrite(m.get(), "x", 1, 0), EPERM);
	char a[] = "ab";
	iovec iov[] = {{a, 2}};
	EXPECT_ERRNO(writev(m.get(), iov, 1), EPERM);
	EXPECT_EQ(pread_str(m.get(), 6, 0), "future");
}

TEST_P(SealFutureWrite, SpliceIntoFile_EPERM)
{
	owned_fd m = make_with("future");
	ASSERT_EQ(add(m.get(), F_SEAL_FUTURE_WRITE), 0);
	int p[2];
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	ASSERT_EQ(write(p[1], "spl", 3), 3);
	loff_t off = 0;
	EXPECT_ERRNO(splice(p[0], nullptr, m.get(), &off, 3, 0), EPERM);
	close(p[0]);
	close(p[1]);
}

TEST_P(SealFutureWrite, FallocatePunchHole_EPERM)
{
	owned_fd m = make_with(std::string(page_size(), 'f'));
	ASSERT_EQ(add(m.get(), F_SEAL_FUTURE_WRITE), 0);
	EXPECT_ERRNO(fallocate(m.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
	                       page_size()),
	             EPERM);
}

TEST_P(SealFutureWrite, NewSharedWritableMapping_EPERM)
{
	owned_fd m = make_with("future");
	ASSERT_EQ(add(m.get(), F_SEAL_FUTURE_WRITE), 0);
	EXPECT_EQ(mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, m.get(),
	               0),
	          MAP_FAILED);
	EXPECT_EQ(errno, EPERM);
}

TEST_P(SealFutureWrite, NewReadOnlySharedMapping_OkButMprotectWriteEACCES)
{
	owned_fd m = make_with("future");
	ASSERT_EQ(add(m.get(), F_SEAL_FUTURE_WRITE), 0);
	void *p = mmap(nullptr, page_size(), PROT_READ, MAP_SHARED, m.get(), 0);
	ASSERT_NE(p, MAP_FAILED) << std::strerror(errno);
	EXPECT_EQ(std::memcmp(p, "future", 6), 0);
	EXPECT_ERRNO(mprotect(p, page_size(), PROT_READ | PROT_WRITE), EACCES);
	munmap(p, page_size());
}

TEST_P(SealFutureWrite, GrantedWhileWritableMappingExists)
{
	owned_fd m = make_with("future");
	void *p = mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, m.get(),
	               0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_EQ(add(m.get(), F_SEAL_FUTURE_WRITE), 0) << std::strerror(errno);
	EXPECT_EQ(get(m.get()), F_SEAL_FUTURE_WRITE);
	munmap(p, page_size());
}

TEST_P(SealFutureWrite, ExistingWritableMapping_KeepsWriting)
{
	owned_fd m = make_with("future");
	void *p = mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, m.get(),
	               0);
	ASSERT_NE(p, MAP_FAILED);
	ASSERT_EQ(add(m.get(), F_SEAL_FUTURE_WRITE), 0);
	std::memcpy(p, "FUTURE", 6);
	EXPECT_EQ(pread_str(m.get(), 6, 0), "FUTURE");
	EXPECT_ERRNO(pwrite(m.get(), "x", 1, 0), EPERM);
	munmap(p, page_size());
}

TEST_P(SealFutureWrite, MadviseRemoveThroughExistingWritableMapping_EPERM)
{
	owned_fd m = make_with(std::string(page_size(), 'f'));
	void *p = mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, m.get(),
	               0);
	ASSERT_NE(p, MAP_FAILED);
	ASSERT_EQ(add(m.get(), F_SEAL_FUTURE_WRITE), 0);
	EXPECT_ERRNO(madvise(p, page_size(), MADV_REMOVE), EPERM);
	EXPECT_EQ(pread_str(m.get(), 1, 0), "f");
	munmap(p, page_size());
}

TEST_P(SealFutureWrite, MadviseRemoveWithoutSeal_Ok)
{
	owned_fd m = make_with(std::string(page_size(), 'f'));
	void *p = mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, m.get(),
	               0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_EQ(madvise(p, page_size(), MADV_REMOVE), 0) << std::strerror(errno);
	EXPECT_EQ(pread_str(m.get(), 1, 0), std::string(1, '\0'));
	munmap(p, page_size());
}

TEST_P(SealFutureWrite, MapPrivateWritable_Ok)
{
	owned_fd m = make_with("future");
	ASSERT_EQ(add(m.get(), F_SEAL_FUTURE_WRITE), 0);
	void *p = mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE, m.get(),
	               0);
	ASSERT_NE(p, MAP_FAILED) << std::strerror(errno);
	static_cast<char *>(p)[0] = 'P';
	munmap(p, page_size());
	EXPECT_EQ(pread_str(m.get(), 6, 0), "future");
}

TEST_P(SealFutureWrite, ThenSealWriteWhileMapped_EBUSY)
{
	owned_fd m = make_with("future");
	void *p = mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, m.get(),
	               0);
	ASSERT_NE(p, MAP_FAILED);
	ASSERT_EQ(add(m.get(), F_SEAL_FUTURE_WRITE), 0);
	EXPECT_ERRNO(add(m.get(), F_SEAL_WRITE), EBUSY);
	EXPECT_EQ(get(m.get()), F_SEAL_FUTURE_WRITE);
	munmap(p, page_size());
	EXPECT_EQ(add(m.get(), F_SEAL_WRITE), 0);
}

} // namespace
} // namespace guest
