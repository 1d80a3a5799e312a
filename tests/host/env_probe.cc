// Prints what memfd_compat_create() does in a fresh process, so that the
// host tests can check MEMFD_COMPAT_BACKEND (read once per process).
// Output: "backend=<n> create=<ok|errno-number>".
#include <memfd_compat/memfd_compat.h>

#include <unistd.h>

#include <cerrno>
#include <cstdio>

int main()
{
	const int backend = memfd_compat_get_backend();
	const int backend_errno = backend < 0 ? errno : 0;
	const int fd = memfd_compat_create("probe", MEMFD_COMPAT_MFD_CLOEXEC);
	if (fd >= 0) {
		std::printf("backend=%d create=ok\n", backend);
		close(fd);
	} else {
		std::printf("backend=%d/%d create=%d\n", backend, backend_errno, errno);
	}
	return 0;
}
