/*
 * Prints which backend one memfd_compat_create() used and how it ended:
 * "module ok", "native ok", or the backend and the errno name, e.g.
 * "module EACCES". For the installed-system checks of a restricted device.
 */
#include <memfd_compat/memfd_compat.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	int backend = memfd_compat_get_backend();
	int fd = memfd_compat_create("probe", MEMFD_COMPAT_MFD_CLOEXEC);
	int err = errno;
	const char *name = backend == MEMFD_COMPAT_BACKEND_MODULE ? "module" :
			   backend == MEMFD_COMPAT_BACKEND_NATIVE ? "native" : "?";

	if (fd >= 0) {
		printf("%s ok\n", name);
		close(fd);
		return 0;
	}
	printf("%s %s\n", name, err == EACCES ? "EACCES" :
				 err == ENODEV ? "ENODEV" :
				 err == EPERM ? "EPERM" : strerror(err));
	return 1;
}
