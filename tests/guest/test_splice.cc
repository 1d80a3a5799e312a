// Splice and sendfile, into and out of a memfd.
#include "guest_util.hpp"

#include <sys/sendfile.h>

namespace guest
{
namespace
{

class Splice : public BackendTest
{
protected:
	void SetUp() override
	{
		BackendTest::SetUp();
		ASSERT_EQ(pipe2(pipe_, O_CLOEXEC), 0);
	}
	void TearDown() override
	{
		close(pipe_[0]);
		close(pipe_[1]);
	}
	int pipe_[2] = {-1, -1};
};
INSTANTIATE_BACKENDS(Splice);

TEST_P(Splice, Splice_FromMemfdToPipe)
{
	owned_fd m = make_with("spliced-out");
	loff_t off = 0;
	ASSERT_EQ(splice(m.get(), &off, pipe_[1], nullptr, 11, 0), 11);
	EXPECT_EQ(off, 11);
	char buf[16] = {};
	ASSERT_EQ(read(pipe_[0], buf, sizeof(buf)), 11);
	EXPECT_STREQ(buf, "spliced-out");
}

TEST_P(Splice, Splice_FromPipeIntoMemfd)
{
	owned_fd m = make();
	ASSERT_EQ(write(pipe_[1], "spliced-in", 10), 10);
	loff_t off = 5;
	ASSERT_EQ(splice(pipe_[0], nullptr, m.get(), &off, 10, 0), 10);
	EXPECT_EQ(file_size(m.get()), 15);
	EXPECT_EQ(pread_str(m.get(), 10, 5), "spliced-in");
}

TEST_P(Splice, Sendfile_FromMemfd)
{
	owned_fd m = make_with("sent-out");
	off_t off = 0;
	ASSERT_EQ(sendfile(pipe_[1], m.get(), &off, 8), 8);
	char buf[16] = {};
	ASSERT_EQ(read(pipe_[0], buf, sizeof(buf)), 8);
	EXPECT_STREQ(buf, "sent-out");
}

TEST_P(Splice, Sendfile_IntoMemfd)
{
	owned_fd src{native_create("src", MFD_CLOEXEC)};
	ASSERT_EQ(pwrite(src.get(), "sent-in", 7, 0), 7);
	owned_fd m = make();
	off_t off = 0;
	ASSERT_EQ(sendfile(m.get(), src.get(), &off, 7), 7);
	EXPECT_EQ(pread_str(m.get(), 7, 0), "sent-in");
}

TEST_P(Splice, CopyFileRange_BetweenMemfds)
{
	owned_fd src = make_with("copied");
	owned_fd dst = make();
	loff_t in = 0, out = 0;
	ASSERT_EQ(copy_file_range(src.get(), &in, dst.get(), &out, 6, 0), 6)
	        << std::strerror(errno);
	EXPECT_EQ(pread_str(dst.get(), 6, 0), "copied");
}

} // namespace
} // namespace guest
