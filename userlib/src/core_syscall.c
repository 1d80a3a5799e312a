/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memfd_core_syscall() for libmemfd-compat: glibc's syscall(). */
#define _GNU_SOURCE
#include "core.h"

#include <errno.h>
#include <unistd.h>

long memfd_core_syscall(long nr, long a1, long a2, long a3)
{
	long ret = syscall(nr, a1, a2, a3);

	return ret < 0 ? -errno : ret;
}
