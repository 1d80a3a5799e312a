// Small helpers shared by the host tests.
#ifndef MEMFD_HOST_UTIL_HPP
#define MEMFD_HOST_UTIL_HPP

#include <memfd_compat/memfd_compat.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include <gtest/gtest.h>

namespace host
{

inline bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

inline bool fd_is_closed(int fd)
{
	errno = 0;
	return fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

inline bool device_present()
{
	struct stat st;
	return stat(MEMFD_COMPAT_DEVICE, &st) == 0;
}

// The raw system call: the reference the native backend must match.
inline int raw_memfd_create(const char *name, unsigned int flags)
{
	return static_cast<int>(syscall(SYS_memfd_create, name, flags));
}

// Result of a libc-style call: the value, or -errno.
template <typename F> int result_of(F &&f)
{
	errno = 0;
	const int ret = f();
	return ret < 0 ? -errno : ret;
}

// Sets the library's backend for one test, restores "auto" afterwards.
class BackendGuard
{
public:
	explicit BackendGuard(int backend)
	{
		EXPECT_EQ(memfd_compat_set_backend(backend), 0);
	}
	~BackendGuard() { memfd_compat_set_backend(MEMFD_COMPAT_BACKEND_AUTO); }
	BackendGuard(const BackendGuard &) = delete;
	BackendGuard &operator=(const BackendGuard &) = delete;
};

} // namespace host

#endif
