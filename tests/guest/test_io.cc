// File I/O on a memfd.
#include "guest_util.hpp"

#include <linux/falloc.h>
#include <sys/uio.h>

namespace guest
{
namespace
{

class Io : public BackendTest
{
};
INSTANTIATE_BACKENDS(Io);

TEST_P(Io, WriteThenRead_RoundTrip)
{
	owned_fd m = make();
	ASSERT_EQ(write(m.get(), "hello world", 11), 11);
	EXPECT_EQ(lseek(m.get(), 0, SEEK_CUR), 11);
	ASSERT_EQ(lseek(m.get(), 0, SEEK_SET), 0);
	char buf[32] = {};
	EXPECT_EQ(read(m.get(), buf, sizeof(buf)), 11);
	EXPECT_STREQ(buf, "hello world");
	EXPECT_EQ(read(m.get(), buf, sizeof(buf)), 0); // EOF
}

TEST_P(Io, PwritePread_AtOffsetsWithoutMovingPosition)
{
	owned_fd m = make();
	ASSERT_EQ(pwrite(m.get(), "abc", 3, 10000), 3);
	EXPECT_EQ(lseek(m.get(), 0, SEEK_CUR), 0);
	EXPECT_EQ(file_size(m.get()), 10003);
	EXPECT_EQ(pread_str(m.get(), 3, 10000), "abc");
	EXPECT_EQ(pread_str(m.get(), 4, 0), std::string(4, '\0')); // the gap
}

TEST_P(Io, WritevReadv_ScatterGather)
{
	owned_fd m = make();
	char a[] = "one", b[] = "two", c[] = "three";
	iovec out[] = {{a, 3}, {b, 3}, {c, 5}};
	ASSERT_EQ(writev(m.get(), out, 3), 11);
	char x[5] = {}, y[8] = {};
	iovec in[] = {{x, 4}, {y, 7}};
	ASSERT_EQ(lseek(m.get(), 0, SEEK_SET), 0);
	ASSERT_EQ(readv(m.get(), in, 2), 11);
	EXPECT_STREQ(x, "onet");
	EXPECT_STREQ(y, "wothree");
}

TEST_P(Io, PwritevPreadv_AtOffset)
{
	owned_fd m = make();
	char a[] = "xy", b[] = "z";
	iovec out[] = {{a, 2}, {b, 1}};
	ASSERT_EQ(pwritev(m.get(), out, 2, 100), 3);
	char r[4] = {};
	iovec in[] = {{r, 3}};
	ASSERT_EQ(preadv(m.get(), in, 1, 100), 3);
	EXPECT_STREQ(r, "xyz");
}

TEST_P(Io, Lseek_SetCurEnd)
{
	owned_fd m = make_with("0123456789");
	EXPECT_EQ(lseek(m.get(), 3, SEEK_SET), 3);
	EXPECT_EQ(lseek(m.get(), 2, SEEK_CUR), 5);
	EXPECT_EQ(lseek(m.get(), -1, SEEK_END), 9);
	char c = 0;
	ASSERT_EQ(read(m.get(), &c, 1), 1);
	EXPECT_EQ(c, '9');
	EXPECT_ERRNO(lseek(m.get(), -100, SEEK_SET), EINVAL);
}

TEST_P(Io, Lseek_SeekDataAndSeekHole)
{
	owned_fd m = make();
	constexpr off_t mib = 1 << 20;
	ASSERT_EQ(ftruncate(m.get(), 8 * mib), 0);
	ASSERT_EQ(pwrite(m.get(), "d", 1, 0), 1);
	ASSERT_EQ(pwrite(m.get(), "d", 1, 4 * mib), 1);
	EXPECT_EQ(lseek(m.get(), 0, SEEK_DATA), 0);
	const off_t hole = lseek(m.get(), 0, SEEK_HOLE);
	EXPECT_GT(hole, 0);
	EXPECT_LE(hole, 4 * mib);
	EXPECT_EQ(lseek(m.get(), hole, SEEK_DATA), 4 * mib);
	const off_t hole2 = lseek(m.get(), 4 * mib, SEEK_HOLE);
	EXPECT_GT(hole2, 4 * mib);
	EXPECT_LE(hole2, 8 * mib);
	EXPECT_EQ(lseek(m.get(), 8 * mib - 1, SEEK_HOLE), 8 * mib - 1);
}

TEST_P(Io, Lseek_SeekDataAtOrPastEof_ENXIO)
{
	owned_fd m = make_with("abc");
	EXPECT_ERRNO(lseek(m.get(), 3, SEEK_DATA), ENXIO);
	EXPECT_ERRNO(lseek(m.get(), 100, SEEK_HOLE), ENXIO);
}

TEST_P(Io, Fstat_SizeAndBlocksFollowWrites)
{
	owned_fd m = make();
	const std::string page(page_size(), 'p');
	ASSERT_EQ(pwrite(m.get(), page.data(), page.size(), 0),
	          static_cast<ssize_t>(page.size()));
	struct stat st {
	};
	ASSERT_EQ(fstat(m.get(), &st), 0);
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(st.st_size, static_cast<off_t>(page_size()));
	EXPECT_GE(st.st_blocks * 512, static_cast<blkcnt_t>(page_size()));
}

TEST_P(Io, Ftruncate_GrowReadsZeros)
{
	owned_fd m = make_with("abc");
	ASSERT_EQ(ftruncate(m.get(), 10000), 0);
	EXPECT_EQ(file_size(m.get()), 10000);
	EXPECT_EQ(pread_str(m.get(), 5, 0), std::string("abc\0\0", 5));
	struct stat st {
	};
	ASSERT_EQ(fstat(m.get(), &st), 0);
	EXPECT_LE(st.st_blocks * 512, 4 * static_cast<blkcnt_t>(page_size()));
}

TEST_P(Io, Ftruncate_ShrinkDropsData)
{
	owned_fd m = make_with("abcdef");
	ASSERT_EQ(ftruncate(m.get(), 2), 0);
	EXPECT_EQ(file_size(m.get()), 2);
	ASSERT_EQ(ftruncate(m.get(), 6), 0);
	EXPECT_EQ(pread_str(m.get(), 6, 0), std::string("ab\0\0\0\0", 6));
}

TEST_P(Io, Ftruncate_Negative_EINVAL)
{
	owned_fd m = make();
	EXPECT_ERRNO(ftruncate(m.get(), -1), EINVAL);
}

TEST_P(Io, Fallocate_GrowsSizeAndBlocks)
{
	owned_fd m = make();
	ASSERT_EQ(fallocate(m.get(), 0, 0, 1 << 20), 0) << std::strerror(errno);
	struct stat st {
	};
	ASSERT_EQ(fstat(m.get(), &st), 0);
	EXPECT_EQ(st.st_size, 1 << 20);
	EXPECT_GE(st.st_blocks * 512, 1 << 20);
	EXPECT_EQ(pread_str(m.get(), 3, 4096), std::string(3, '\0'));
}

TEST_P(Io, Fallocate_KeepSize_SizeUnchanged)
{
	owned_fd m = make_with("abc");
	ASSERT_EQ(fallocate(m.get(), FALLOC_FL_KEEP_SIZE, 0, 1 << 20), 0);
	EXPECT_EQ(file_size(m.get()), 3);
}

TEST_P(Io, Fallocate_PunchHole_ReadsZeros)
{
	owned_fd m = make();
	const std::string data(3 * page_size(), 'x');
	ASSERT_EQ(pwrite(m.get(), data.data(), data.size(), 0),
	          static_cast<ssize_t>(data.size()));
	ASSERT_EQ(fallocate(m.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	                    page_size(), page_size()),
	          0);
	EXPECT_EQ(file_size(m.get()), static_cast<off_t>(data.size()));
	EXPECT_EQ(pread_str(m.get(), 2, page_size()), std::string(2, '\0'));
	EXPECT_EQ(pread_str(m.get(), 1, 0), "x");
	EXPECT_EQ(pread_str(m.get(), 1, 2 * page_size()), "x");
}

TEST_P(Io, Fallocate_PunchHoleWithoutKeepSize_EOPNOTSUPP)
{
	owned_fd m = make_with("abc");
	EXPECT_ERRNO(fallocate(m.get(), FALLOC_FL_PUNCH_HOLE, 0, 1), EOPNOTSUPP);
}

TEST_P(Io, Fsync_Ok)
{
	owned_fd m = make_with("abc");
	EXPECT_EQ(fsync(m.get()), 0);
	EXPECT_EQ(fdatasync(m.get()), 0);
}

TEST_P(Io, Dup_SharesFilePosition)
{
	owned_fd m = make_with("abcdef");
	owned_fd d{dup(m.get())};
	ASSERT_EQ(lseek(m.get(), 4, SEEK_SET), 4);
	char c = 0;
	ASSERT_EQ(read(d.get(), &c, 1), 1);
	EXPECT_EQ(c, 'e');
}

} // namespace
} // namespace guest
