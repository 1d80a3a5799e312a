// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Thin system-call wrappers. Inside the library every call returns a
// non-negative result or -errno (the liburing convention); only the public
// entry points translate back to the libc "-1 and errno" convention.
#ifndef MEMFD_COMPAT_SRC_SYS_HPP
#define MEMFD_COMPAT_SRC_SYS_HPP

#include <cerrno>

namespace memfd_compat::detail
{

// Turns a libc-style result (-1 with errno) into the -errno convention.
inline long neg_errno(long ret) noexcept
{
	return ret < 0 ? -errno : ret;
}

// Turns a -errno result back into the libc convention.
inline int to_libc(long ret) noexcept
{
	if (ret < 0) {
		errno = static_cast<int>(-ret);
		return -1;
	}
	return static_cast<int>(ret);
}

int sys_memfd_create(const char *name, unsigned int flags) noexcept;
int sys_open_cloexec(const char *path, int flags) noexcept;
int sys_ioctl(int fd, unsigned long cmd, unsigned long arg) noexcept;
int sys_ioctl_ptr(int fd, unsigned long cmd, void *arg) noexcept;
int sys_fcntl(int fd, int cmd, int arg) noexcept;

} // namespace memfd_compat::detail

#endif
