// F_SEAL_WRITE blocks every path that changes the data.
#include "guest_util.hpp"

#include <linux/falloc.h>
#include <sys/sendfile.h>
#include <sys/uio.h>

namespace guest
{
namespace
{

class SealWrite : public BackendTest
{
protected:
	// A page of 'x', sealed with F_SEAL_WRITE.
	owned_fd make_sealed()
	{
		owned_fd m = make_with(std::string(page_size(), 'x'));
		EXPECT_EQ(add(m.get(), F_SEAL_WRITE), 0) << std::strerror(errno);
		return m;
	}
	void expect_unchanged(int fd)
	{
		EXPECT_EQ(pread_str(fd, page_size(), 0), std::string(page_size(), 'x'));
	}
};
INSTANTIATE_BACKENDS(SealWrite);

TEST_P(SealWrite, Write_EPERM)
{
	owned_fd m = make_sealed();
	EXPECT_ERRNO(write(m.get(), "y", 1), EPERM);
	expect_unchanged(m.get());
}

TEST_P(SealWrite, Pwrite_EPERM)
{
	owned_fd m = make_sealed();
	EXPECT_ERRNO(pwrite(m.get(), "y", 1, 10), EPERM);
	EXPECT_ERRNO(pwrite(m.get(), "y", 1, 1 << 20), EPERM);
	expect_unchanged(m.get());
}

TEST_P(SealWrite, Writev_EPERM)
{
	owned_fd m = make_sealed();
	char a[] = "ab", b[] = "cd";
	iovec iov[] = {{a, 2}, {b, 2}};
	EXPECT_ERRNO(writev(m.get(), iov, 2), EPERM);
	EXPECT_ERRNO(pwritev(m.get(), iov, 2, 0), EPERM);
	expect_unchanged(m.get());
}

TEST_P(SealWrite, SpliceIntoFile_EPERM)
{
	owned_fd m = make_sealed();
	int p[2];
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	ASSERT_EQ(write(p[1], "spl", 3), 3);
	loff_t off = 0;
	EXPECT_ERRNO(splice(p[0], nullptr, m.get(), &off, 3, 0), EPERM);
	close(p[0]);
	close(p[1]);
	expect_unchanged(m.get());
}

TEST_P(SealWrite, SendfileIntoFile_EPERM)
{
	owned_fd src{native_create("src", MFD_CLOEXEC)};
	ASSERT_EQ(pwrite(src.get(), "snd", 3, 0), 3);
	owned_fd m = make_sealed();
	off_t off = 0;
	EXPECT_ERRNO(sendfile(m.get(), src.get(), &off, 3), EPERM);
	expect_unchanged(m.get());
}

TEST_P(SealWrite, CopyFileRangeIntoFile_EPERM)
{
	owned_fd src = make_with("cfr");
	owned_fd m = make_sealed();
	loff_t in = 0, out = 0;
	EXPECT_ERRNO(copy_file_range(src.get(), &in, m.get(), &out, 3, 0), EPERM);
	expect_unchanged(m.get());
}

TEST_P(SealWrite, CopyFileRangeOutOfFile_Ok)
{
	owned_fd m = make_sealed();
	owned_fd dst = make();
	loff_t in = 0, out = 0;
	EXPECT_EQ(copy_file_range(m.get(), &in, dst.get(), &out, 3, 0), 3);
	EXPECT_EQ(pread_str(dst.get(), 3, 0), "xxx");
}

TEST_P(SealWrite, FallocatePunchHole_EPERM)
{
	owned_fd m = make_sealed();
	EXPECT_ERRNO(fallocate(m.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
	                       page_size()),
	             EPERM);
	expect_unchanged(m.get());
}

TEST_P(SealWrite, Ftruncate_NotBlockedByWriteSealAlone)
{
	// Upstream: size changes are the business of SHRINK and GROW only.
	owned_fd m = make_sealed();
	EXPECT_EQ(ftruncate(m.get(), 2 * page_size()), 0);
	EXPECT_EQ(ftruncate(m.get(), page_size()), 0);
}

TEST_P(SealWrite, MmapSharedWritable_EPERM)
{
	owned_fd m = make_sealed();
	EXPECT_EQ(mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, m.get(),
	               0),
	          MAP_FAILED);
	EXPECT_EQ(errno, EPERM);
}

TEST_P(SealWrite, MmapSharedReadOnly_Ok)
{
	SKIP_NATIVE_UNLESS(native_allows_readonly_shared_map_under_write_seal(),
	                   "read-only MAP_SHARED of a write-sealed memfd (6.7)");
	owned_fd m = make_sealed();
	void *p = mmap(nullptr, page_size(), PROT_READ, MAP_SHARED, m.get(), 0);
	ASSERT_NE(p, MAP_FAILED) << std::strerror(errno);
	EXPECT_EQ(static_cast<char *>(p)[0], 'x');
	munmap(p, page_size());
}

TEST_P(SealWrite, MprotectWriteOnReadOnlySharedMapping_EACCES)
{
	SKIP_NATIVE_UNLESS(native_allows_readonly_shared_map_under_write_seal(),
	                   "read-only MAP_SHARED of a write-sealed memfd (6.7)");
	owned_fd m = make_sealed();
	void *p = mmap(nullptr, page_size(), PROT_READ, MAP_SHARED, m.get(), 0);
	ASSERT_NE(p, MAP_FAILED) << std::strerror(errno);
	EXPECT_ERRNO(mprotect(p, page_size(), PROT_READ | PROT_WRITE), EACCES);
	munmap(p, page_size());
}

TEST_P(SealWrite, MadviseRemoveOnReadOnlySharedMapping_EACCES)
{
	SKIP_NATIVE_UNLESS(native_allows_readonly_shared_map_under_write_seal(),
	                   "read-only MAP_SHARED of a write-sealed memfd (6.7)");
	owned_fd m = make_sealed();
	void *p = mmap(nullptr, page_size(), PROT_READ, MAP_SHARED, m.get(), 0);
	ASSERT_NE(p, MAP_FAILED) << std::strerror(errno);
	EXPECT_ERRNO(madvise(p, page_size(), MADV_REMOVE), EACCES);
	munmap(p, page_size());
	expect_unchanged(m.get());
}

TEST_P(SealWrite, MmapPrivateWritable_CowLeavesFileUnchanged)
{
	owned_fd m = make_sealed();
	void *p = mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE, m.get(),
	               0);
	ASSERT_NE(p, MAP_FAILED) << std::strerror(errno);
	static_cast<char *>(p)[0] = 'p';
	EXPECT_EQ(static_cast<char *>(p)[0], 'p');
	munmap(p, page_size());
	expect_unchanged(m.get());
}

TEST_P(SealWrite, MprotectWriteOnPrivateMapping_Ok)
{
	owned_fd m = make_sealed();
	void *p = mmap(nullptr, page_size(), PROT_READ, MAP_PRIVATE, m.get(), 0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_EQ(mprotect(p, page_size(), PROT_READ | PROT_WRITE), 0);
	static_cast<char *>(p)[0] = 'p';
	munmap(p, page_size());
	expect_unchanged(m.get());
}

TEST_P(SealWrite, AddWhileSharedWritableMapping_EBUSYAndNothingApplied)
{
	owned_fd m = make_with("mapped");
	void *p = mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, m.get(),
	               0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_ERRNO(add(m.get(), F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW), EBUSY);
	EXPECT_EQ(get(m.get()), 0);
	static_cast<char *>(p)[0] = 'M'; // the mapping still writes
	EXPECT_EQ(pread_str(m.get(), 1, 0), "M");
	munmap(p, page_size());
}

TEST_P(SealWrite, AddAfterMunmap_Ok)
{
	owned_fd m = make_with("mapped");
	void *p = mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, m.get(),
	               0);
	ASSERT_NE(p, MAP_FAILED);
	static_cast<char *>(p)[0] = 'M';
	ASSERT_EQ(munmap(p, page_size()), 0);
	EXPECT_EQ(add(m.get(), F_SEAL_WRITE), 0) << std::strerror(errno);
	EXPECT_EQ(pread_str(m.get(), 6, 0), "Mapped");
}

TEST_P(SealWrite, AddWhileMappingInForkedChild_EBUSY)
{
	owned_fd m = make_with("mapped");
	void *p = mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, m.get(),
	               0);
	ASSERT_NE(p, MAP_FAILED);
	int go[2];
	ASSERT_EQ(pipe2(go, O_CLOEXEC), 0);
	const pid_t pid = fork();
	if (pid == 0) { // holds the inherited mapping until told to exit
		close(go[1]);
		char c;
		(void)!read(go[0], &c, 1);
		_exit(0);
	}
	ASSERT_EQ(munmap(p, page_size()), 0);
	EXPECT_ERRNO(add(m.get(), F_SEAL_WRITE), EBUSY);
	close(go[1]);
	int status = 0;
	waitpid(pid, &status, 0);
	close(go[0]);
	EXPECT_EQ(add(m.get(), F_SEAL_WRITE), 0);
}

TEST_P(SealWrite, WriteJustBeforeSeal_SealGranted)
{
	// Freshly written pages sit in per-CPU LRU batches with an extra
	// reference; that must not be mistaken for a pin.
	owned_fd m = make();
	const std::string data(16 * page_size(), 'w');
	ASSERT_EQ(pwrite(m.get(), data.data(), data.size(), 0),
	          static_cast<ssize_t>(data.size()));
	EXPECT_EQ(add(m.get(), F_SEAL_WRITE), 0) << std::strerror(errno);
}

TEST_P(SealWrite, ReadOnlyFdPathsStillRead)
{
	owned_fd m = make_sealed();
	owned_fd r{open(proc_path(m.get()).c_str(), O_RDONLY | O_CLOEXEC)};
	ASSERT_TRUE(r);
	EXPECT_EQ(pread_str(r.get(), 3, 0), "xxx");
}

} // namespace
} // namespace guest
