/* The public C header must compile as C (C11, -Wall -Wextra -Werror). */
#include <memfd_compat/memfd_compat.h>

int memfd_host_c_header_check(void);

int memfd_host_c_header_check(void)
{
	struct memfd_compat_info info = {0};
	enum memfd_compat_backend b = MEMFD_COMPAT_BACKEND_AUTO;

	return (int)info.api_version + (int)b;
}
