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
 * The proof that a memfd is the module's: the module's GET_SEALS ioctl
 * succeeds on it (a native memfd answers ENOTTY), and fcntl(F_GET_SEALS)
 * agrees with that ioctl (the kernel's own answer for a module memfd would
 * be F_SEAL_SEAL; see README "Where this differs"). The ioctl number is
 * hard-coded on purpose: this program must know nothing of the project.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

/* MEMFD_COMPAT_IOC_GET_SEALS = _IO(0xBE, 0x03), from uapi/memfd_compat.h. */
#define MODULE_GET_SEALS 0xBE03UL

static int failures;

static void check(int ok, const char *what, const char *detail)
{
	printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", what, detail[0] ? ": " : "", detail);
	fflush(stdout);
	if (!ok)
		failures++;
}

static const char *err_detail(long ret, int err)
{
	static char buf[128];

	if (ret >= 0)
		snprintf(buf, sizeof(buf), "returned %ld", ret);
	else
		snprintf(buf, sizeof(buf), "-1, errno %s", strerrorname_np(err));
	return buf;
}

/* @ret must be -1 with errno @want. */
static void check_errno(long ret, int err, int want, const char *what)
{
	check(ret == -1 && err == want, what, err_detail(ret, err));
}

/* @ret must equal @want. */
static void check_eq(long ret, int err, long want, const char *what)
{
	check(ret == want, what, err_detail(ret, err));
}

#define CALL(expr) (errno = 0, ret = (long)(expr), err = errno)

static int is_module_memfd(int fd)
{
	return ioctl(fd, MODULE_GET_SEALS, 0) >= 0;
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
	CALL(fd = memfd_create("preload-app", MFD_CLOEXEC | MFD_ALLOW_SEALING));
	check(fd >= 0, "memfd_create", err_detail(ret, err));
	if (fd < 0)
		return 1;
	check_name(fd, "preload-app");
	CALL(ioctl(fd, MODULE_GET_SEALS, 0));
	check_eq(ret, err, 0, "module GET_SEALS ioctl works: a module memfd");
	CALL(fcntl(fd, F_GET_SEALS));
	check_eq(ret, err, 0, "fcntl(F_GET_SEALS) follows the module (0, not F_SEAL_SEAL)");

	/* fcntl(F_ADD_SEALS) and enforcement */
	check_eq(write(fd, "hello", 5), errno, 5, "write before sealing");
	CALL(fcntl(fd, F_ADD_SEALS, write_seals));
	check_eq(ret, err, 0, "fcntl(F_ADD_SEALS, SHRINK|GROW|WRITE)");
	CALL(fcntl(fd, F_GET_SEALS));
	check_eq(ret, err, write_seals, "fcntl(F_GET_SEALS) after sealing");
	CALL(ioctl(fd, MODULE_GET_SEALS, 0));
	check_eq(ret, err, write_seals, "module GET_SEALS ioctl agrees");
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
	check(fd2 >= 0, "syscall(SYS_memfd_create)", err_detail(ret, err));
	if (fd2 >= 0) {
		check(is_module_memfd(fd2), "syscall(SYS_memfd_create) gives a module memfd", "");
		check_name(fd2, "preload-sys");
		CALL(fcntl(fd2, F_GET_SEALS));
		check_eq(ret, err, F_SEAL_SEAL, "fcntl(F_GET_SEALS) without MFD_ALLOW_SEALING");
		CALL(fcntl(fd2, F_ADD_SEALS, F_SEAL_WRITE));
		check_errno(ret, err, EPERM, "fcntl(F_ADD_SEALS) without MFD_ALLOW_SEALING");
		close(fd2);
	}

	/* MFD_NOEXEC_SEAL and F_SEAL_EXEC: the module has them on 6.1 too. */
	CALL(fd2 = memfd_create("preload-noexec", MFD_CLOEXEC | MFD_NOEXEC_SEAL));
	check(fd2 >= 0, "memfd_create(MFD_NOEXEC_SEAL)", err_detail(ret, err));
	if (fd2 >= 0) {
		CALL(fcntl(fd2, F_GET_SEALS));
		check(ret >= 0 && (ret & F_SEAL_EXEC), "F_GET_SEALS has F_SEAL_EXEC",
		      err_detail(ret, err));
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
	      err_detail(ret, err));
	CALL(fd3 = fcntl(fd, F_DUPFD_CLOEXEC, 100));
	check(fd3 >= 100, "fcntl(F_DUPFD_CLOEXEC, 100)", err_detail(ret, err));
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
	      err_detail(ret, err));

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
	/* The module's seal ioctl numbers are nsfs's NS_GET_PARENT/NSTYPE. */
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
	      err_detail(ret, err));
	CALL(syscall(SYS_close, -1));
	check_errno(ret, err, EBADF, "syscall(SYS_close, -1)");
	close(fd);

	printf("%s: %d check(s) failed\n", failures ? "FAILED" : "PASSED", failures);
	return failures ? 1 : 0;
}
