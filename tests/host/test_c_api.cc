// Argument checks of the C API that need no backend at all.
#include "host_util.hpp"

#include <sys/socket.h>

#include <cstdlib>
#include <string>

namespace
{

using host::BackendGuard;

TEST(CApi, Create_NullName_EFAULT_Native)
{
	BackendGuard g{MEMFD_COMPAT_BACKEND_NATIVE};
	errno = 0;
	EXPECT_EQ(memfd_compat_create(nullptr, 0), -1);
	EXPECT_EQ(errno, EFAULT);
}

TEST(CApi, Create_NullName_EFAULT_ModuleEvenWithoutDevice)
{
	BackendGuard g{MEMFD_COMPAT_BACKEND_MODULE};
	errno = 0;
	EXPECT_EQ(memfd_compat_create(nullptr, 0), -1);
	EXPECT_EQ(errno, EFAULT);
}

TEST(CApi, Query_NullOut_EFAULT)
{
	errno = 0;
	EXPECT_EQ(memfd_compat_query(nullptr), -1);
	EXPECT_EQ(errno, EFAULT);
}

TEST(CApi, SetBackend_UnknownValue_EINVAL)
{
	errno = 0;
	EXPECT_EQ(memfd_compat_set_backend(3), -1);
	EXPECT_EQ(errno, EINVAL);
	errno = 0;
	EXPECT_EQ(memfd_compat_set_backend(-1), -1);
	EXPECT_EQ(errno, EINVAL);
}

TEST(CApi, SetBackend_KnownValues_AreReportedByGetBackend)
{
	{
		BackendGuard g{MEMFD_COMPAT_BACKEND_NATIVE};
		EXPECT_EQ(memfd_compat_get_backend(), MEMFD_COMPAT_BACKEND_NATIVE);
	}
	{
		BackendGuard g{MEMFD_COMPAT_BACKEND_MODULE};
		EXPECT_EQ(memfd_compat_get_backend(), MEMFD_COMPAT_BACKEND_MODULE);
	}
}

TEST(CApi, AddSeals_BadFd_EBADF)
{
	errno = 0;
	EXPECT_EQ(memfd_compat_add_seals(-1, MEMFD_COMPAT_SEAL_SEAL), -1);
	EXPECT_EQ(errno, EBADF);
}

TEST(CApi, GetSeals_BadFd_EBADF)
{
	errno = 0;
	EXPECT_EQ(memfd_compat_get_seals(-1), -1);
	EXPECT_EQ(errno, EBADF);
}

// Not a memfd: fcntl() answers EINVAL.
TEST(CApi, SealsOnPipe_FallThroughToFcntl_EINVAL)
{
	int p[2];
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	errno = 0;
	EXPECT_EQ(memfd_compat_get_seals(p[0]), -1);
	EXPECT_EQ(errno, EINVAL);
	errno = 0;
	EXPECT_EQ(memfd_compat_add_seals(p[1], MEMFD_COMPAT_SEAL_SEAL), -1);
	EXPECT_EQ(errno, EINVAL);
	close(p[0]);
	close(p[1]);
}

TEST(CApi, SealsOnSocket_SameErrnoAsFcntl)
{
	int s[2];
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s), 0);
	const int expect = host::result_of([&] { return fcntl(s[0], F_GET_SEALS); });
	EXPECT_EQ(host::result_of([&] { return memfd_compat_get_seals(s[0]); }), expect);
	close(s[0]);
	close(s[1]);
}

TEST(CApi, SealsOnRegularFile_FallThroughToFcntl_EINVAL)
{
	char path[] = "/tmp/memfd_host_XXXXXX";
	const int fd = mkostemp(path, O_CLOEXEC);
	ASSERT_GE(fd, 0);
	unlink(path);
	const int expect = host::result_of([&] { return fcntl(fd, F_GET_SEALS); });
	EXPECT_EQ(host::result_of([&] { return memfd_compat_get_seals(fd); }), expect);
	const int expect_add =
	        host::result_of([&] { return fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL); });
	EXPECT_EQ(host::result_of([&] {
		          return memfd_compat_add_seals(fd, MEMFD_COMPAT_SEAL_SEAL);
	          }),
	          expect_add);
	close(fd);
}

// Files that are not memfds answer as fcntl() does. Namespace fds matter:
// the first draft's ioctl magic was nsfs's, and the seal calls returned
// the namespace type or opened the parent namespace.
TEST(CApi, SealsOnNamespaceFd_SameAsFcntl_NoIoctl)
{
	for (const char *ns : {"/proc/self/ns/net", "/proc/self/ns/pid", "/proc/self/ns/user"}) {
		const int fd = open(ns, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		const int next_fd = dup(0);
		ASSERT_GE(next_fd, 0);
		close(next_fd);
		const int expect = host::result_of([&] { return fcntl(fd, F_GET_SEALS); });
		EXPECT_EQ(host::result_of([&] { return memfd_compat_get_seals(fd); }), expect)
		        << ns;
		const int expect_add =
		        host::result_of([&] { return fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE); });
		EXPECT_EQ(host::result_of([&] {
			          return memfd_compat_add_seals(fd, MEMFD_COMPAT_SEAL_WRITE);
		          }),
		          expect_add)
		        << ns;
		// No descriptor was created on the way.
		const int after = dup(0);
		EXPECT_EQ(after, next_fd) << ns;
		close(after);
		close(fd);
	}
}

} // namespace
