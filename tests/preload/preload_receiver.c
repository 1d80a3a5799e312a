/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * preload_receiver: the other end of memfd_preload_producer. A plain C
 * program that knows nothing of memfd-compat (no header, no library, not
 * preloaded), like a compositor or journald receiving memfds from a client:
 * it judges them with the kernel's own fcntl(F_GET_SEALS / F_ADD_SEALS).
 *
 *   preload_receiver SOCKET_FD
 *
 * Receives two memfds over the UNIX socket SOCKET_FD (one SCM_RIGHTS
 * message: the sealed one, then the unsealed one), checks them:
 *   sealed:   F_GET_SEALS is exactly F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE;
 *             it holds "sealed data"; write, pwrite, ftruncate (both ways),
 *             fallocate and a shared writable mmap fail with EPERM;
 *   unsealed: F_GET_SEALS is 0; it holds "unsealed data"; it takes a write
 *             ("receiver wrote"), then this program seals it itself with
 *             F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_FUTURE_WRITE|F_SEAL_SEAL, and
 *             the seals hold;
 * prints one line per check and sends the number of failed checks back
 * (an int). Exit status: 0 if all passed, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "checks.h"
#include "memfd_defs.h"


static int holds(int fd, const char *text)
{
	char buf[64] = "";
	ssize_t n = pread(fd, buf, strlen(text), 0);

	return n == (ssize_t)strlen(text) && memcmp(buf, text, (size_t)n) == 0;
}

/* 1 if this process has libmemfd-preload mapped. */
static int preloaded(void)
{
	char line[512];
	int found = 0;
	FILE *f = fopen("/proc/self/maps", "re");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "memfd-preload"))
			found = 1;
	fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	const int write_seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
	const int own_seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL;
	char byte = 0;
	int fds[2] = {-1, -1};
	struct iovec iov = {&byte, 1};
	char ctl[CMSG_SPACE(2 * sizeof(int))];
	struct msghdr msg = {0};
	struct cmsghdr *c;
	long ret;
	int err, sock, sealed, unsealed;
	void *p;

	check_prefix = "receiver: ";

	if (argc != 2) {
		fprintf(stderr, "usage: %s SOCKET_FD\n", argv[0]);
		return 2;
	}
	sock = atoi(argv[1]);
	check(getenv("LD_PRELOAD") == NULL && !preloaded(),
	      "runs without LD_PRELOAD and without libmemfd-preload mapped", result(0, 0));

	memset(ctl, 0, sizeof(ctl));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl;
	msg.msg_controllen = sizeof(ctl);
	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1 || (c = CMSG_FIRSTHDR(&msg)) == NULL ||
	    c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(2 * sizeof(int))) {
		printf("receiver: FAIL receiving two memfds: %s\n", strerror(errno));
		return 1;
	}
	memcpy(fds, CMSG_DATA(c), sizeof(fds));
	sealed = fds[0];
	unsealed = fds[1];

	/* the sealed memfd: exactly the producer's seals, all enforced */
	EXPECT_EQ(fcntl(sealed, F_GET_SEALS), write_seals,
		  "sealed: F_GET_SEALS is exactly SHRINK|GROW|WRITE");
	check(holds(sealed, "sealed data"), "sealed: holds the producer's data", result(0, 0));
	EXPECT_ERRNO(write(sealed, "x", 1), EPERM, "sealed: write");
	EXPECT_ERRNO(pwrite(sealed, "x", 1, 0), EPERM, "sealed: pwrite");
	EXPECT_ERRNO(ftruncate(sealed, 0), EPERM, "sealed: ftruncate (shrink)");
	EXPECT_ERRNO(ftruncate(sealed, 1 << 20), EPERM, "sealed: ftruncate (grow)");
	EXPECT_ERRNO(fallocate(sealed, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096),
		     EPERM, "sealed: fallocate(PUNCH_HOLE)");
	errno = 0;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, sealed, 0);
	err = errno;
	check(p == MAP_FAILED && err == EPERM, "sealed: shared writable mmap",
	      result(p == MAP_FAILED ? -1 : 0, err));
	if (p != MAP_FAILED)
		munmap(p, 4096);

	/* the unsealed memfd: no seals; this program seals it itself */
	EXPECT_EQ(fcntl(unsealed, F_GET_SEALS), 0, "unsealed: F_GET_SEALS is 0");
	check(holds(unsealed, "unsealed data"), "unsealed: holds the producer's data", result(0, 0));
	EXPECT_EQ(pwrite(unsealed, "receiver wrote", 14, 0), 14, "unsealed: pwrite");
	EXPECT_EQ(fcntl(unsealed, F_ADD_SEALS, own_seals), 0,
		  "unsealed: fcntl(F_ADD_SEALS, SHRINK|GROW|FUTURE_WRITE|SEAL)");
	EXPECT_EQ(fcntl(unsealed, F_GET_SEALS), own_seals,
		  "unsealed: F_GET_SEALS shows the receiver's seals");
	EXPECT_ERRNO(pwrite(unsealed, "x", 1, 0), EPERM, "unsealed, now sealed: pwrite");
	EXPECT_ERRNO(ftruncate(unsealed, 0), EPERM, "unsealed, now sealed: ftruncate");
	EXPECT_ERRNO(fcntl(unsealed, F_ADD_SEALS, F_SEAL_WRITE), EPERM,
		     "unsealed, now sealed: F_ADD_SEALS after F_SEAL_SEAL");

	close(sealed);
	close(unsealed);
	if (send(sock, &failures, sizeof(failures), 0) != (ssize_t)sizeof(failures))
		printf("receiver: FAIL reporting back: %s\n", strerror(errno));
	return failures ? 1 : 0;
}
