// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The C entry points: -errno internally, libc convention at the boundary.
#include <memfd_compat/memfd_compat.h>

#include "backend.hpp"
#include "sys.hpp"

#include <fcntl.h>

#include <cerrno>
#include <cstdint>

namespace memfd_compat::detail
{
namespace
{

int module_create(const char *name, unsigned int flags) noexcept
{
	const int dev = device_fd();
	if (dev < 0)
		return dev;
	memfd_compat_create_args args{};
	args.name = reinterpret_cast<std::uintptr_t>(name);
	args.flags = flags;
	return sys_ioctl_ptr(dev, MEMFD_COMPAT_IOC_CREATE, &args);
}

int create(const char *name, unsigned int flags) noexcept
{
	if (name == nullptr)
		return -EFAULT;
	const int which = resolved_backend();
	if (which < 0)
		return which;
	if (which == static_cast<int>(backend::module))
		return module_create(name, flags);
	return sys_memfd_create(name, flags);
}

// Which calls reach a module memfd. Another driver's ioctl may share the
// module's numbers (the first draft's magic was nsfs's), so they are only
// sent to a file known to be a memfd: the
// kernel's own F_GET_SEALS fails (EINVAL) on anything that is not shmem or
// hugetlbfs, and reports F_SEAL_SEAL for a module memfd, whose kernel seal
// field the module sets. Only then is the module's ioctl tried; ENOTTY from
// it means a native memfd whose only seal is F_SEAL_SEAL.
int add_seals(int fd, unsigned int seals) noexcept
{
	if (sys_fcntl(fd, F_GET_SEALS, 0) == F_SEAL_SEAL) {
		const int ret = sys_ioctl(fd, MEMFD_COMPAT_IOC_ADD_SEALS, seals);
		if (ret != -ENOTTY)
			return ret;
	}
	return sys_fcntl(fd, F_ADD_SEALS, static_cast<int>(seals));
}

int get_seals(int fd) noexcept
{
	const int native = sys_fcntl(fd, F_GET_SEALS, 0);
	if (native != F_SEAL_SEAL)
		return native; // the seals of a native memfd, or -errno
	const int ret = sys_ioctl(fd, MEMFD_COMPAT_IOC_GET_SEALS, 0);
	return ret == -ENOTTY ? native : ret;
}

int query(memfd_compat_info *out) noexcept
{
	if (out == nullptr)
		return -EFAULT;
	const int dev = device_fd();
	if (dev < 0)
		return dev;
	return sys_ioctl_ptr(dev, MEMFD_COMPAT_IOC_QUERY, out);
}

} // namespace
} // namespace memfd_compat::detail

namespace d = memfd_compat::detail;

extern "C" {

int memfd_compat_create(const char *name, unsigned int flags)
{
	return d::to_libc(d::create(name, flags));
}

int memfd_compat_add_seals(int fd, unsigned int seals)
{
	return d::to_libc(d::add_seals(fd, seals));
}

int memfd_compat_get_seals(int fd)
{
	return d::to_libc(d::get_seals(fd));
}

int memfd_compat_query(struct memfd_compat_info *out)
{
	return d::to_libc(d::query(out));
}

int memfd_compat_set_backend(int backend)
{
	return d::to_libc(d::set_backend(backend));
}

int memfd_compat_get_backend(void)
{
	return d::to_libc(d::resolved_backend());
}

} // extern "C"
