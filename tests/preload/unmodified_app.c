/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * unmodified_app: an ordinary program using memfd_create(), fcntl() file
 * sealing and syscall(SYS_memfd_create), built without any memfd-compat
 * header or library. Run under libmemfd-preload.so in the guest, it checks
 * that its memfds come from memfd_compat.ko and that its fcntl() sealing
 * calls reach the module, and that nothing else changed.
 *
 *   LD_PRELOAD=/lib/libmemfd-preload.so unmodified_app
 *   unmodified_app /lib/libmemfd-preload.so     (sets LD_PRELOAD, re-executes)
 *
 * One line per check. Exit status: 0 all passed, 1 a check failed, 77 no
 * /dev/memfd (skip; a failure when MEMFD_TEST_REQUIRE_MODULE=1).
 *
 * A module memfd keeps its seals in the kernel's own field, so fcntl()
 * works on it as on a native memfd and nothing here tells the two apart
 * by their seals; the raw fcntl system call (syscall() passes it through
 * the shim) must give the same answers as the preloaded fcntl(). What
 * this program can see of the module, knowing nothing but the device's
 * path: the shim holds /dev/memfd open once it has created a memfd; and
 * MFD_NOEXEC_SEAL and fcntl(F_ADD_SEALS, F_SEAL_EXEC) work on every
 * kernel, where on 6.1 the kernel itself refuses both with EINVAL (so
 * there they prove that the memfds are the module's). On 6.12 a module
 * memfd is by design indistinguishable from a native one through these
 * calls; preload_producer proves the module there with its noexec policy.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "checks.h"
#include "memfd_defs.h"



/* @ret must be -1 with errno @want. */
static void check_errno(long ret, int err, int want, const char *what)
{
	check(ret == -1 && err == want, what, result(ret, err));
}

/* @ret must equal @want. */
static void check_eq(long ret, int err, long want, const char *what)
{
	check(ret == want, what, result(ret, err));
}


/* The kernel's own fcntl: syscall() passes SYS_fcntl through the shim. */
static long raw_fcntl(int fd, int cmd, long arg)
{
	return syscall(SYS_fcntl, fd, cmd, arg);
}

static void check_name(int fd, const char *name)
{
	char path[64], target[300], want[300];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	snprintf(want, sizeof(want), "/memfd:%s (deleted)", name);
	n = readlink(path, target, sizeof(target) - 1);
	target[n < 0 ? 0 : n] = '\0';
	check(strcmp(target, want) == 0, "readlink shows the memfd name", target);
}

int main(int argc, char **argv)
{
	const int write_seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
	long ret;
	int err, fd, fd2, fd3, p[2];
	char buf[16];
	struct stat st;
	struct flock lk;

	if (argc > 1 && getenv("LD_PRELOAD") == NULL) {
		setenv("LD_PRELOAD", argv[1], 1);
		execv("/proc/self/exe", argv);
		perror("execv /proc/self/exe");
		return 1;
	}
	printf("LD_PRELOAD=%s\n", getenv("LD_PRELOAD") ? getenv("LD_PRELOAD") : "(unset)");
	if (access("/dev/memfd", F_OK) != 0) {
		const char *req = getenv("MEMFD_TEST_REQUIRE_MODULE");

		printf("no /dev/memfd: %s\n", strerror(errno));
		return req && strcmp(req, "1") == 0 ? 1 : 77;
	}

	/* memfd_create() */
	check(!holds_device(), "no /dev/memfd descriptor before the first memfd", "");
	CALL(fd = memfd_create("preload-app", MFD_CLOEXEC | MFD_ALLOW_SEALING));
	check(fd >= 0, "memfd_create", result(ret, err));
	if (fd < 0)
		return 1;
	check_name(fd, "preload-app");
	check(holds_device(), "the shim went to the module: it holds /dev/memfd open", "");
	CALL(fcntl(fd, F_GET_SEALS));
	check_eq(ret, err, 0, "fcntl(F_GET_SEALS) with MFD_ALLOW_SEALING: 0");
	CALL(raw_fcntl(fd, F_GET_SEALS, 0));
	check_eq(ret, err, 0, "the raw fcntl system call agrees");

	/* fcntl(F_ADD_SEALS) and enforcement */
	check_eq(write(fd, "hello", 5), errno, 5, "write before sealing");
	CALL(fcntl(fd, F_ADD_SEALS, write_seals));
	check_eq(ret, err, 0, "fcntl(F_ADD_SEALS, SHRINK|GROW|WRITE)");
	CALL(fcntl(fd, F_GET_SEALS));
	check_eq(ret, err, write_seals, "fcntl(F_GET_SEALS) after sealing");
	CALL(raw_fcntl(fd, F_GET_SEALS, 0));
	check_eq(ret, err, write_seals, "the raw fcntl system call agrees");
	CALL(fcntl64(fd, F_GET_SEALS));
	check_eq(ret, err, write_seals, "fcntl64(F_GET_SEALS)");
	CALL(pwrite(fd, "HELLO", 5, 0));
	check_errno(ret, err, EPERM, "pwrite into the sealed memfd");
	CALL(ftruncate(fd, 0));
	check_errno(ret, err, EPERM, "ftruncate of the sealed memfd");
	CALL(fcntl(fd, F_ADD_SEALS, 0x8000));
	check_errno(ret, err, EINVAL, "fcntl(F_ADD_SEALS, unknown bit)");
	CALL(fcntl64(fd, F_ADD_SEALS, F_SEAL_SEAL));
	check_eq(ret, err, 0, "fcntl64(F_ADD_SEALS, F_SEAL_SEAL)");
	CALL(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	check_errno(ret, err, EPERM, "fcntl(F_ADD_SEALS) after F_SEAL_SEAL");

	/* syscall(SYS_memfd_create): without MFD_ALLOW_SEALING, F_SEAL_SEAL */
	CALL(fd2 = (int)syscall(SYS_memfd_create, "preload-sys", MFD_CLOEXEC));
	check(fd2 >= 0, "syscall(SYS_memfd_create)", result(ret, err));
	if (fd2 >= 0) {
		check_name(fd2, "preload-sys");
		CALL(fcntl(fd2, F_GET_SEALS));
		check_eq(ret, err, F_SEAL_SEAL, "fcntl(F_GET_SEALS) without MFD_ALLOW_SEALING");
		CALL(fcntl(fd2, F_ADD_SEALS, F_SEAL_WRITE));
		check_errno(ret, err, EPERM, "fcntl(F_ADD_SEALS) without MFD_ALLOW_SEALING");
		close(fd2);
	}

	/* MFD_NOEXEC_SEAL and F_SEAL_EXEC: the module has them on 6.1 too. */
	CALL(fd2 = (int)syscall(SYS_memfd_create, "preload-sys-noexec",
				MFD_CLOEXEC | MFD_NOEXEC_SEAL));
	check(fd2 >= 0, "syscall(SYS_memfd_create, MFD_NOEXEC_SEAL)", result(ret, err));
	if (fd2 >= 0) {
		CALL(raw_fcntl(fd2, F_GET_SEALS, 0));
		check(ret >= 0 && (ret & F_SEAL_EXEC), "the kernel's own F_GET_SEALS has F_SEAL_EXEC",
		      result(ret, err));
		close(fd2);
	}
	CALL(fd2 = memfd_create("preload-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING));
	if (fd2 >= 0) {
		CALL(fchmod(fd2, 0600));
		check_eq(ret, err, 0, "fchmod(0600)");
		CALL(fcntl(fd2, F_ADD_SEALS, F_SEAL_EXEC));
		check_eq(ret, err, 0, "fcntl(F_ADD_SEALS, F_SEAL_EXEC)");
		CALL(fchmod(fd2, 0700));
		check_errno(ret, err, EPERM, "fchmod +x after fcntl(F_ADD_SEALS, F_SEAL_EXEC)");
		CALL(raw_fcntl(fd2, F_GET_SEALS, 0));
		check_eq(ret, err, F_SEAL_EXEC, "the raw fcntl system call sees F_SEAL_EXEC");
		close(fd2);
	}
	CALL(fd2 = memfd_create("preload-noexec", MFD_CLOEXEC | MFD_NOEXEC_SEAL));
	check(fd2 >= 0, "memfd_create(MFD_NOEXEC_SEAL)", result(ret, err));
	if (fd2 >= 0) {
		CALL(fcntl(fd2, F_GET_SEALS));
		check(ret >= 0 && (ret & F_SEAL_EXEC), "F_GET_SEALS has F_SEAL_EXEC",
		      result(ret, err));
		check(fstat(fd2, &st) == 0 && (st.st_mode & 0111) == 0, "mode without x bits",
		      "");
		CALL(fchmod(fd2, 0755));
		check_errno(ret, err, EPERM, "fchmod +x under F_SEAL_EXEC");
		close(fd2);
	}

	/* Everything else passes through fcntl unchanged. */
	CALL(fcntl(fd, F_GETFD));
	check_eq(ret, err, FD_CLOEXEC, "fcntl(F_GETFD) passes through");
	CALL(fcntl(fd, F_SETFD, 0));
	check_eq(ret, err, 0, "fcntl(F_SETFD, 0)");
	CALL(fcntl(fd, F_GETFD));
	check_eq(ret, err, 0, "fcntl(F_GETFD) after F_SETFD");
	CALL(fcntl(fd, F_GETFL));
	check(ret >= 0 && (ret & O_ACCMODE) == O_RDWR, "fcntl(F_GETFL) is O_RDWR",
	      result(ret, err));
	CALL(fd3 = fcntl(fd, F_DUPFD_CLOEXEC, 100));
	check(fd3 >= 100, "fcntl(F_DUPFD_CLOEXEC, 100)", result(ret, err));
	if (fd3 >= 0) {
		CALL(fcntl(fd3, F_GET_SEALS));
		check_eq(ret, err, write_seals | F_SEAL_SEAL, "the duplicate has the same seals");
		close(fd3);
	}
	memset(&lk, 0, sizeof(lk));
	lk.l_type = F_WRLCK;
	lk.l_whence = SEEK_SET;
	lk.l_len = 1;
	CALL(fcntl(fd, F_SETLK, &lk));
	check_eq(ret, err, 0, "fcntl(F_SETLK, &flock) (a pointer argument)");
	CALL(fcntl64(fd, F_GETLK, &lk));
	check(ret == 0 && lk.l_type == F_UNLCK, "fcntl64(F_GETLK, &flock)",
	      result(ret, err));

	/* Seal commands on what is not a memfd: the kernel's answer. */
	if (pipe(p) == 0) {
		CALL(fcntl(p[0], F_GET_SEALS));
		check_errno(ret, err, EINVAL, "fcntl(F_GET_SEALS) on a pipe");
		CALL(fcntl(p[1], F_ADD_SEALS, F_SEAL_WRITE));
		check_errno(ret, err, EINVAL, "fcntl(F_ADD_SEALS) on a pipe");
		close(p[0]);
		close(p[1]);
	}
	CALL(fcntl(9999, F_GET_SEALS));
	check_errno(ret, err, EBADF, "fcntl(F_GET_SEALS) on a closed fd");
	/*
	 * The shim sends no ioctl to any descriptor (API 1 sent its seal
	 * ioctls to the file, and their old numbers were nsfs's).
	 */
	fd2 = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd2 >= 0) {
		CALL(fcntl(fd2, F_GET_SEALS));
		check_errno(ret, err, EINVAL, "fcntl(F_GET_SEALS) on a namespace fd");
		/* EPERM, as the kernel says: the descriptor is read-only. */
		CALL(fcntl(fd2, F_ADD_SEALS, F_SEAL_WRITE));
		check_errno(ret, err, EPERM, "fcntl(F_ADD_SEALS) on a namespace fd");
		close(fd2);
	}

	/* syscall() passes other numbers through, with their arguments. */
	CALL(syscall(SYS_getpid));
	check_eq(ret, err, getpid(), "syscall(SYS_getpid)");
	memset(buf, 0, sizeof(buf));
	CALL(syscall(SYS_pread64, fd, buf, 5, 0));
	check(ret == 5 && memcmp(buf, "hello", 5) == 0, "syscall(SYS_pread64, 4 args)",
	      result(ret, err));
	CALL(syscall(SYS_close, -1));
	check_errno(ret, err, EBADF, "syscall(SYS_close, -1)");
	close(fd);

	printf("%s: %d check(s) failed\n", failures ? "FAILED" : "PASSED", failures);
	return failures ? 1 : 0;
}
