/*
 * Checks for the preload proof programs: one "ok" or "FAIL" line per check,
 * each with what the call returned, and a count of the failed ones.
 * Header-only; each program includes it once. (Plain C and libc only:
 * these programs know nothing of memfd-compat.)
 */
#ifndef MEMFD_PRELOAD_CHECKS_H
#define MEMFD_PRELOAD_CHECKS_H

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int failures;
/* printed at the start of every line, e.g. "receiver: " */
static const char *check_prefix = "";

static inline void check(int ok, const char *what, const char *detail)
{
	printf("%s%s %s%s%s\n", check_prefix, ok ? "ok  " : "FAIL", what,
	       detail[0] ? ": " : "", detail);
	fflush(stdout);
	if (!ok)
		failures++;
}

/* What a call returned: "returned N" or "-1, errno ENAME". */
static inline const char *result(long ret, int err)
{
	static char buf[128];

	if (ret >= 0)
		snprintf(buf, sizeof(buf), "returned %ld", ret);
	else
		snprintf(buf, sizeof(buf), "-1, errno %s", strerrorname_np(err));
	return buf;
}

/* Whether this process has a descriptor open on /dev/memfd. */
static inline int holds_device(void)
{
	char path[PATH_MAX], target[PATH_MAX];
	struct dirent *e;
	int found = 0;
	DIR *d = opendir("/proc/self/fd");

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, "/dev/memfd") == 0)
			found = 1;
	}
	closedir(d);
	return found;
}

/* Evaluates @expr into the caller's `long ret` and `int err`. */
#define CALL(expr)                  \
	do {                        \
		errno = 0;          \
		ret = (long)(expr); \
		err = errno;        \
	} while (0)
#define EXPECT_EQ(expr, want, what)                           \
	do {                                                  \
		CALL(expr);                                   \
		check(ret == (want), what, result(ret, err)); \
	} while (0)
#define EXPECT_ERRNO(expr, want, what)                                  \
	do {                                                            \
		CALL(expr);                                             \
		check(ret == -1 && err == (want), what, result(ret, err)); \
	} while (0)

#endif
