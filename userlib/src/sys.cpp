// SPDX-License-Identifier: LGPL-2.1-or-later
#include "sys.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace memfd_compat::detail
{

int sys_memfd_create(const char *name, unsigned int flags) noexcept
{
	// The raw system call, not glibc's wrapper: no flag is interpreted or
	// dropped on the way, and it works with any glibc.
	return static_cast<int>(neg_errno(::syscall(SYS_memfd_create, name, flags)));
}

int sys_open_cloexec(const char *path, int flags) noexcept
{
	return static_cast<int>(neg_errno(::open(path, flags | O_CLOEXEC)));
}

int sys_ioctl(int fd, unsigned long cmd, unsigned long arg) noexcept
{
	return static_cast<int>(neg_errno(::ioctl(fd, cmd, arg)));
}

int sys_ioctl_ptr(int fd, unsigned long cmd, void *arg) noexcept
{
	return static_cast<int>(neg_errno(::ioctl(fd, cmd, arg)));
}

int sys_fcntl(int fd, int cmd, int arg) noexcept
{
	return static_cast<int>(neg_errno(::fcntl(fd, cmd, arg)));
}

} // namespace memfd_compat::detail
