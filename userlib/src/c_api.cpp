// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The C entry points: the shared core (core.c) returns -errno, the public
// API keeps the libc convention.
#include <memfd_compat/memfd_compat.h>

#include "core.h"

#include <cerrno>

static_assert(int{MEMFD_COMPAT_BACKEND_AUTO} == int{MEMFD_CORE_AUTO});
static_assert(int{MEMFD_COMPAT_BACKEND_NATIVE} == int{MEMFD_CORE_NATIVE});
static_assert(int{MEMFD_COMPAT_BACKEND_MODULE} == int{MEMFD_CORE_MODULE});

namespace
{

int to_libc(int ret) noexcept
{
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

} // namespace

extern "C" {

int memfd_compat_create(const char *name, unsigned int flags)
{
	return to_libc(memfd_core_create(name, flags));
}

int memfd_compat_add_seals(int fd, unsigned int seals)
{
	return to_libc(memfd_core_add_seals(fd, seals));
}

int memfd_compat_add_seals2(int fd, unsigned int seals, unsigned int flags)
{
	return to_libc(memfd_core_add_seals2(fd, seals, flags));
}

int memfd_compat_get_seals(int fd)
{
	return to_libc(memfd_core_get_seals(fd));
}

int memfd_compat_query(struct memfd_compat_info *out)
{
	return to_libc(memfd_core_query(out));
}

int memfd_compat_set_backend(int backend)
{
	return to_libc(memfd_core_set_backend(backend));
}

int memfd_compat_get_backend(void)
{
	return to_libc(memfd_core_resolved_backend());
}

} // extern "C"
