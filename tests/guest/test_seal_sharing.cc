// Seals belong to the file, whatever the descriptor.
#include "guest_util.hpp"

#include <sys/socket.h>

namespace guest
{
namespace
{

class SealSharing : public BackendTest
{
};
INSTANTIATE_BACKENDS(SealSharing);

TEST_P(SealSharing, Dup_SeesAndAddsSameSeals)
{
	owned_fd m = make_with("dup");
	owned_fd d{dup(m.get())};
	ASSERT_EQ(add(m.get(), F_SEAL_WRITE), 0);
	EXPECT_EQ(get(d.get()), F_SEAL_WRITE);
	EXPECT_ERRNO(pwrite(d.get(), "x", 1, 0), EPERM);
	ASSERT_EQ(add(d.get(), F_SEAL_GROW), 0);
	EXPECT_EQ(get(m.get()), F_SEAL_WRITE | F_SEAL_GROW);
}

TEST_P(SealSharing, ProcReopen_SeesAndAddsSameSeals)
{
	owned_fd m = make_with("reopen");
	ASSERT_EQ(add(m.get(), F_SEAL_WRITE), 0);
	owned_fd r{open(proc_path(m.get()).c_str(), O_RDWR | O_CLOEXEC)};
	ASSERT_TRUE(r) << std::strerror(errno);
	EXPECT_EQ(get(r.get()), F_SEAL_WRITE);
	EXPECT_ERRNO(pwrite(r.get(), "x", 1, 0), EPERM);
	EXPECT_EQ(mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, r.get(),
	               0),
	          MAP_FAILED);
	EXPECT_EQ(errno, EPERM);
	ASSERT_EQ(add(r.get(), F_SEAL_SEAL), 0);
	EXPECT_EQ(get(m.get()), F_SEAL_WRITE | F_SEAL_SEAL);
}

TEST_P(SealSharing, ProcReopen_BeforeSeal_IsSealedAfter)
{
	owned_fd m = make_with("early");
	owned_fd r{open(proc_path(m.get()).c_str(), O_RDWR | O_CLOEXEC)};
	ASSERT_TRUE(r);
	ASSERT_EQ(add(m.get(), F_SEAL_WRITE | F_SEAL_SHRINK), 0);
	EXPECT_ERRNO(write(r.get(), "x", 1), EPERM);
	EXPECT_ERRNO(ftruncate(r.get(), 1), EPERM);
}

// The child reports: 0 all as expected, else which check failed.
TEST_P(SealSharing, ScmRights_ReceiverSeesSealsAndIsBlocked)
{
	owned_fd m = make_with("passed");
	ASSERT_EQ(add(m.get(), F_SEAL_WRITE | F_SEAL_GROW), 0);
	int sv[2];
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	const backend b = be();
	const pid_t child = start_child([&] {
		close(sv[0]);
		close(m.release());
		const int fd = recv_fd(sv[1]);
		if (fd < 0)
			return 2;
		if (get_seals(b, fd) != (F_SEAL_WRITE | F_SEAL_GROW))
			return 3;
		if (pwrite(fd, "x", 1, 0) != -1 || errno != EPERM)
			return 4;
		if (add_seals(b, fd, F_SEAL_SEAL) != 0) // the receiver may add
			return 5;
		return 0;
	});
	ASSERT_EQ(send_fd(sv[0], m.get()), 0);
	close(sv[0]);
	close(sv[1]);
	EXPECT_EQ(wait_child(child), 0);
	EXPECT_EQ(get(m.get()), F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SEAL);
}

TEST_P(SealSharing, Fork_ChildAddsParentSees)
{
	owned_fd m = make();
	const int fd = m.get();
	const backend b = be();
	EXPECT_EQ(run_in_child([fd, b] {
		          return add_seals(b, fd, F_SEAL_SHRINK) == 0 ? 0 : 1;
	          }),
	          0);
	EXPECT_EQ(get(m.get()), F_SEAL_SHRINK);
}

} // namespace
} // namespace guest
