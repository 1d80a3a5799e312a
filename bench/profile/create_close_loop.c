// SPDX-License-Identifier: GPL-2.0
/*
 * create_close_loop: N times create a memfd and close it, through
 * /dev/memfd ("module") or memfd_create(2) ("native"), and print the mean
 * time per create+close. scripts/bench-profile traces it with ftrace.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <memfd_compat/uapi.h>

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv)
{
	struct memfd_compat_create_args args = {
		.name = (uintptr_t)"bench",
		.flags = MEMFD_COMPAT_MFD_CLOEXEC |
			 MEMFD_COMPAT_MFD_ALLOW_SEALING,
	};
	int native, dev, i, n;
	double start;

	if (argc != 3 || (strcmp(argv[2], "module") &&
			  strcmp(argv[2], "native"))) {
		fprintf(stderr, "usage: %s COUNT module|native\n", argv[0]);
		return 2;
	}
	n = atoi(argv[1]);
	native = !strcmp(argv[2], "native");
	dev = open(MEMFD_COMPAT_DEVICE, O_RDWR | O_CLOEXEC);
	if (dev < 0 && !native) {
		perror(MEMFD_COMPAT_DEVICE);
		return 1;
	}

	start = now_ns();
	for (i = 0; i < n; i++) {
		int fd = native ? syscall(SYS_memfd_create, "bench", args.flags)
				: ioctl(dev, MEMFD_COMPAT_IOC_CREATE, &args);

		if (fd < 0) {
			perror("create");
			return 1;
		}
		close(fd);
	}
	printf("%s: %.0f ns per create+close\n", argv[2],
	       (now_ns() - start) / n);
	return 0;
}
