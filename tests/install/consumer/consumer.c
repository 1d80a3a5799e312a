/* Consumer of an installed libmemfd-compat, C API. */
#include <memfd_compat/memfd_compat.h>

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	const unsigned seals = MEMFD_COMPAT_SEAL_WRITE | MEMFD_COMPAT_SEAL_SEAL;
	int fd = memfd_compat_create("consumer",
	                             MEMFD_COMPAT_MFD_CLOEXEC | MEMFD_COMPAT_MFD_ALLOW_SEALING);

	if (fd < 0 || memfd_compat_add_seals(fd, seals) != 0)
		return 1;
	if (memfd_compat_get_seals(fd) != (int)seals)
		return 2;
	if (write(fd, "x", 1) != -1 || errno != EPERM)
		return 3;
	close(fd);
	printf("consumer (C): ok, backend %d\n", memfd_compat_get_backend());
	return 0;
}
