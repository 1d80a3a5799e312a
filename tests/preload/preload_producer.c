/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * preload_producer: memfds from a preloaded program, judged by one that is
 * not. The producer runs under libmemfd-preload.so and makes its memfds
 * with plain memfd_create(); the receiver (preload_receiver, a plain C
 * program exec'ed WITHOUT LD_PRELOAD) gets them over a UNIX socket and
 * checks and seals them with the kernel's own fcntl(). Then the producer
 * checks that its own view, through the preload, agrees.
 *
 *   preload_producer RECEIVER PRELOAD_LIB
 *
 * (sets LD_PRELOAD=PRELOAD_LIB and re-executes itself). It runs twice:
 * first with the default backend, where the memfds must be the module's,
 * then, as a child, with MEMFD_COMPAT_BACKEND=native, where nothing may
 * reach the module; the exchange must work the same both times.
 *
 * Proof that a memfd came from the module, by what can be observed:
 *   - the module's noexec policy (the module parameter memfd_noexec, set
 *     to 1 for one memfd_create() and restored): a memfd created without
 *     MFD_EXEC or MFD_NOEXEC_SEAL gets F_SEAL_EXEC and no exec bits from
 *     the module, while the kernel's own memfd_create() under
 *     vm.memfd_noexec=0 (or on 6.1, which has no such policy) makes it
 *     executable and unsealed. This works on every kernel; it is the only
 *     per-memfd difference on 6.12, where a module memfd is otherwise a
 *     plain shmem file, indistinguishable from a native one by design;
 *   - where the kernel's fcntl lacks F_SEAL_EXEC (6.1; found by the raw
 *     fcntl system call on a fresh memfd, not by version), fcntl(F_ADD_SEALS,
 *     F_SEAL_EXEC) through the preload succeeds, which the kernel refuses
 *     on any native memfd with EINVAL; and each module memfd holds one
 *     reference on the module (/sys/module/memfd_compat/refcnt);
 *   - the shim holds /dev/memfd open once it has created a memfd.
 * With MEMFD_COMPAT_BACKEND=native each of these shows the native side:
 * executable and unsealed under the policy, EINVAL for F_SEAL_EXEC on 6.1,
 * refcnt unchanged, no /dev/memfd descriptor.
 *
 * Exit status: 0 passed, 1 failed, 77 skipped (no /dev/memfd, unless
 * MEMFD_TEST_REQUIRE_MODULE=1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include "checks.h"
#include "memfd_defs.h"


#define MODULE_SYSFS "/sys/module/memfd_compat"
#define NOEXEC_PARAM MODULE_SYSFS "/parameters/memfd_noexec"

extern char **environ;

static const char *mode; /* "module" or "native" */
static char prefix[32]; /* check_prefix: "producer (MODE): " */
/* A number from a sysfs or procfs file, or -1. */
static long read_long(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int write_long(const char *path, long v)
{
	FILE *f = fopen(path, "we");
	int ok;

	if (f == NULL)
		return -1;
	ok = fprintf(f, "%ld\n", v) > 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/*
 * The raw fcntl system call: syscall() passes every number but
 * SYS_memfd_create through the shim untouched, so this is the kernel's own
 * answer, which the preload's fcntl() may amend for F_SEAL_EXEC.
 */
static long raw_fcntl(int fd, int cmd, long arg)
{
	return syscall(SYS_fcntl, fd, cmd, arg);
}

/* Whether the kernel's own fcntl(F_ADD_SEALS) knows F_SEAL_EXEC. */
static int kernel_fcntl_has_seal_exec(void)
{
	int fd = memfd_create("probe", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	long r;

	if (fd < 0)
		return 0;
	r = raw_fcntl(fd, F_ADD_SEALS, F_SEAL_EXEC);
	close(fd);
	return r == 0;
}

/* The module's noexec policy at 1 for one memfd_create(), then restored. */
static void check_noexec_policy(int want_module)
{
	long saved = read_long(NOEXEC_PARAM), kernel_policy, ret;
	struct stat st;
	int fd, err;

	kernel_policy = read_long("/proc/sys/vm/memfd_noexec");
	if (kernel_policy > 0) {
		printf("producer (%s): vm.memfd_noexec is %ld, not 0: the noexec proof "
		       "cannot tell module from native memfds here\n",
		       mode, kernel_policy);
		return;
	}
	check(saved >= 0, "the module parameter memfd_noexec can be read", NOEXEC_PARAM);
	if (saved < 0 || write_long(NOEXEC_PARAM, 1) != 0) {
		check(0, "setting the module parameter memfd_noexec to 1", strerror(errno));
		return;
	}
	CALL(fd = memfd_create("policy-probe", MFD_CLOEXEC | MFD_ALLOW_SEALING));
	if (write_long(NOEXEC_PARAM, saved) != 0)
		check(0, "restoring the module parameter memfd_noexec", strerror(errno));
	check(fd >= 0, "memfd_create() without an exec flag", result(ret, err));
	if (fd < 0)
		return;
	CALL(fcntl(fd, F_GET_SEALS));
	if (want_module) {
		check(ret >= 0 && (ret & F_SEAL_EXEC) && fstat(fd, &st) == 0 &&
			      !(st.st_mode & 0111),
		      "the module's noexec policy applied (F_SEAL_EXEC, no x bits): a "
		      "module memfd",
		      result(ret, err));
	} else {
		check(ret == 0 && fstat(fd, &st) == 0 && (st.st_mode & 0111) == 0111,
		      "the module's noexec policy not applied (unsealed, executable): a "
		      "native memfd",
		      result(ret, err));
	}
	close(fd);
}

/* Sends @a and @b in one SCM_RIGHTS message. */
static int send_two(int sock, int a, int b)
{
	char byte = 'F';
	int fds[2] = {a, b};
	struct iovec iov = {&byte, 1};
	char ctl[CMSG_SPACE(sizeof(fds))];
	struct msghdr msg = {0};
	struct cmsghdr *c;

	memset(ctl, 0, sizeof(ctl));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl;
	msg.msg_controllen = sizeof(ctl);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

/* Runs @receiver on @sock without LD_PRELOAD; its pid, or -1. */
static pid_t start_receiver(const char *receiver, int sock)
{
	pid_t pid = fork();

	if (pid == 0) {
		char arg[16], *args[] = {(char *)receiver, arg, NULL};
		char **env;
		size_t n = 0, i, j = 0;

		while (environ[n])
			n++;
		env = calloc(n + 1, sizeof(*env));
		for (i = 0; env && i < n; i++)
			if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
				env[j++] = environ[i];
		snprintf(arg, sizeof(arg), "%d", sock);
		/* the socket survives the exec; everything else of ours is O_CLOEXEC */
		fcntl(sock, F_SETFD, 0);
		if (env)
			execve(receiver, args, env);
		perror("execve receiver");
		_exit(127);
	}
	return pid;
}

/* The exchange itself; @want_module: whether the memfds are the module's. */
static void exchange(const char *receiver, int want_module)
{
	const int write_seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
	const int receiver_seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL;
	long refs_before = read_long(MODULE_SYSFS "/refcnt"), ret;
	int err, sealed, unsealed, sv[2], reported = -1, status = 0;
	int pins = !kernel_fcntl_has_seal_exec();
	pid_t pid;

	printf("producer (%s): the kernel's own fcntl %s F_SEAL_EXEC\n", mode,
	       pins ? "lacks" : "has");

	CALL(sealed = memfd_create("producer-sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING));
	check(sealed >= 0, "memfd_create(sealed)", result(ret, err));
	CALL(unsealed = (int)syscall(SYS_memfd_create, "producer-unsealed",
				     MFD_CLOEXEC | MFD_ALLOW_SEALING));
	check(unsealed >= 0, "syscall(SYS_memfd_create, unsealed)", result(ret, err));
	if (sealed < 0 || unsealed < 0)
		return;

	/* which memfds are these */
	check(holds_device() == want_module,
	      want_module ? "the shim holds /dev/memfd open" : "no /dev/memfd descriptor",
	      "");
	{
		/*
		 * Where module memfds run module code (the kernel's fcntl lacks
		 * F_SEAL_EXEC), each holds one reference on the module; else
		 * none. The shim's device descriptor, opened by the policy
		 * check, is already counted in refs_before.
		 */
		long refs = read_long(MODULE_SYSFS "/refcnt");
		char detail[64];

		snprintf(detail, sizeof(detail), "%ld before, %ld after", refs_before, refs);
		if (want_module && pins)
			check(refs == refs_before + 2, "refcnt: one more per module memfd", detail);
		else if (want_module)
			check(refs == refs_before,
			      "refcnt unchanged: module memfds run no module code here", detail);
		else
			check(refs == refs_before, "refcnt unchanged", detail);
	}

	EXPECT_EQ(pwrite(sealed, "sealed data", 11, 0), 11, "pwrite(sealed)");
	EXPECT_EQ(ftruncate(sealed, 8192), 0, "ftruncate(sealed, 8192)");
	EXPECT_EQ(fcntl(sealed, F_ADD_SEALS, write_seals), 0,
		  "fcntl(F_ADD_SEALS, SHRINK|GROW|WRITE) through the preload");
	EXPECT_EQ(raw_fcntl(sealed, F_GET_SEALS, 0), write_seals,
		  "the kernel's own F_GET_SEALS agrees");
	EXPECT_EQ(pwrite(unsealed, "unsealed data", 13, 0), 13, "pwrite(unsealed)");

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		check(0, "socketpair", strerror(errno));
		return;
	}
	pid = start_receiver(receiver, sv[1]);
	close(sv[1]);
	errno = 0;
	ret = pid > 0 ? send_two(sv[0], sealed, unsealed) : -1;
	err = errno;
	check(ret == 0, "sent both memfds to the receiver", result(ret, err));
	check(recv(sv[0], &reported, sizeof(reported), MSG_WAITALL) ==
			      (ssize_t)sizeof(reported) &&
		      reported == 0,
	      "the receiver (no preload, plain fcntl) found every check passed", "");
	close(sv[0]);
	check(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 0,
	      "the receiver exited 0", "");

	/* our view, through the preload, of what the receiver did */
	EXPECT_EQ(fcntl(sealed, F_GET_SEALS), write_seals,
		  "sealed: F_GET_SEALS through the preload unchanged");
	EXPECT_EQ(fcntl(unsealed, F_GET_SEALS), receiver_seals,
		  "unsealed: F_GET_SEALS through the preload shows the receiver's seals");
	{
		char buf[15] = "";

		check(pread(unsealed, buf, 14, 0) == 14 && strcmp(buf, "receiver wrote") == 0,
		      "unsealed: holds the receiver's write", buf);
	}
	EXPECT_ERRNO(pwrite(unsealed, "x", 1, 0), EPERM,
		     "unsealed: pwrite under the receiver's FUTURE_WRITE");
	/* F_SEAL_EXEC reaches the module on 6.1, which refuses after SEAL */
	EXPECT_ERRNO(fcntl(unsealed, F_ADD_SEALS, F_SEAL_EXEC), want_module || !pins ? EPERM : EINVAL,
		     "unsealed: fcntl(F_ADD_SEALS, F_SEAL_EXEC) after the receiver's "
		     "F_SEAL_SEAL");
	EXPECT_ERRNO(pwrite(sealed, "x", 1, 0), EPERM, "sealed: pwrite");

	/* F_SEAL_EXEC on a fresh memfd: where the kernel's fcntl lacks it,
	 * only a module memfd through the preload can have it */
	close(sealed);
	CALL(sealed = memfd_create("producer-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING));
	if (sealed >= 0) {
		EXPECT_EQ(fchmod(sealed, 0600), 0, "fchmod(0600)");
		if (want_module || !pins) {
			EXPECT_EQ(fcntl(sealed, F_ADD_SEALS, F_SEAL_EXEC), 0,
				  "fcntl(F_ADD_SEALS, F_SEAL_EXEC) through the preload");
			EXPECT_ERRNO(fchmod(sealed, 0700), EPERM, "fchmod(0700) under F_SEAL_EXEC");
		} else {
			EXPECT_ERRNO(fcntl(sealed, F_ADD_SEALS, F_SEAL_EXEC), EINVAL,
				     "fcntl(F_ADD_SEALS, F_SEAL_EXEC): the kernel's own EINVAL, "
				     "not routed to the module");
		}
		if (pins)
			EXPECT_ERRNO(raw_fcntl(sealed, F_ADD_SEALS, F_SEAL_EXEC), EINVAL,
				     "the raw fcntl system call refuses F_SEAL_EXEC on this "
				     "kernel, module memfd or not");
		close(sealed);
	}
	close(unsealed);
	check(holds_device() == want_module,
	      want_module ? "the shim still holds /dev/memfd" : "still no /dev/memfd descriptor",
	      "");
	if (!want_module) {
		long refs = read_long(MODULE_SYSFS "/refcnt");
		char detail[64];

		snprintf(detail, sizeof(detail), "%ld before, %ld after", refs_before, refs);
		check(refs == refs_before, "refcnt unchanged by the native backend", detail);
	}
}

int main(int argc, char **argv)
{
	const char *backend = getenv("MEMFD_COMPAT_BACKEND");
	int status = 0;
	pid_t pid;

	if (argc != 3) {
		fprintf(stderr, "usage: %s RECEIVER PRELOAD_LIB\n", argv[0]);
		return 2;
	}
	if (getenv("LD_PRELOAD") == NULL) {
		setenv("LD_PRELOAD", argv[2], 1);
		execv("/proc/self/exe", argv);
		perror("execv /proc/self/exe");
		return 1;
	}
	mode = backend && strcmp(backend, "native") == 0 ? "native" : "module";
	snprintf(prefix, sizeof(prefix), "producer (%s): ", mode);
	check_prefix = prefix;
	if (access("/dev/memfd", F_OK) != 0) {
		const char *req = getenv("MEMFD_TEST_REQUIRE_MODULE");

		printf("producer: no /dev/memfd: %s\n", strerror(errno));
		return req && strcmp(req, "1") == 0 ? 1 : 77;
	}
	printf("producer (%s): LD_PRELOAD=%s MEMFD_COMPAT_BACKEND=%s\n", mode,
	       getenv("LD_PRELOAD"), backend ? backend : "(unset)");

	check_noexec_policy(strcmp(mode, "module") == 0);
	exchange(argv[1], strcmp(mode, "module") == 0);

	if (strcmp(mode, "module") == 0) {
		/* the same under the native backend, in a child */
		pid = fork();
		if (pid == 0) {
			setenv("MEMFD_COMPAT_BACKEND", "native", 1);
			execv("/proc/self/exe", argv);
			perror("execv /proc/self/exe");
			_exit(1);
		}
		check(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
			      WEXITSTATUS(status) == 0,
		      "the run with MEMFD_COMPAT_BACKEND=native passed", "");
	}
	printf("producer (%s): %s: %d check(s) failed\n", mode, failures ? "FAILED" : "PASSED",
	       failures);
	return failures ? 1 : 0;
}
