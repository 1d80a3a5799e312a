// Sharing a memfd between descriptors and processes.
#include "guest_util.hpp"

#include <sys/socket.h>

namespace guest
{
namespace
{

class FdPass : public BackendTest
{
};
INSTANTIATE_BACKENDS(FdPass);

TEST_P(FdPass, ScmRights_ChildWritesParentReads)
{
	owned_fd m = make();
	int sv[2];
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	const pid_t child = start_child([&] {
		close(sv[0]);
		close(m.release()); // the child must use only the received fd
		const int fd = recv_fd(sv[1]);
		if (fd < 0)
			return 2;
		return pwrite(fd, "from-child", 10, 0) == 10 ? 0 : 3;
	});
	ASSERT_EQ(send_fd(sv[0], m.get()), 0);
	close(sv[0]);
	close(sv[1]);
	EXPECT_EQ(wait_child(child), 0);
	EXPECT_EQ(pread_str(m.get(), 10, 0), "from-child");
}

TEST_P(FdPass, ProcReopen_ReadWriteSharesContent)
{
	owned_fd m = make_with("before");
	owned_fd r{open(proc_path(m.get()).c_str(), O_RDWR | O_CLOEXEC)};
	ASSERT_TRUE(r) << std::strerror(errno);
	EXPECT_EQ(pread_str(r.get(), 6, 0), "before");
	ASSERT_EQ(pwrite(r.get(), "after!", 6, 0), 6);
	EXPECT_EQ(pread_str(m.get(), 6, 0), "after!");
	struct stat a {
	}, b{};
	ASSERT_EQ(fstat(m.get(), &a), 0);
	ASSERT_EQ(fstat(r.get(), &b), 0);
	EXPECT_EQ(a.st_ino, b.st_ino);
	EXPECT_EQ(a.st_dev, b.st_dev);
}

TEST_P(FdPass, ProcReopen_OwnFilePosition)
{
	owned_fd m = make_with("abcdef");
	owned_fd r{open(proc_path(m.get()).c_str(), O_RDONLY | O_CLOEXEC)};
	ASSERT_TRUE(r);
	ASSERT_EQ(lseek(m.get(), 3, SEEK_SET), 3);
	char c = 0;
	ASSERT_EQ(read(r.get(), &c, 1), 1);
	EXPECT_EQ(c, 'a');
}

TEST_P(FdPass, ProcReopen_ReadOnlyFd_WriteEBADF)
{
	owned_fd m = make_with("abc");
	owned_fd r{open(proc_path(m.get()).c_str(), O_RDONLY | O_CLOEXEC)};
	ASSERT_TRUE(r);
	EXPECT_ERRNO(write(r.get(), "x", 1), EBADF);
}

TEST_P(FdPass, Fork_InheritedFdSharesContent)
{
	owned_fd m = make();
	const int fd = m.get();
	EXPECT_EQ(
	        run_in_child([fd] { return pwrite(fd, "inherited", 9, 0) == 9 ? 0 : 1; }),
	        0);
	EXPECT_EQ(pread_str(m.get(), 9, 0), "inherited");
}

} // namespace
} // namespace guest
