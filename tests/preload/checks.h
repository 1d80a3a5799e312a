/*
 * Checks for the preload proof programs: one "ok" or "FAIL" line per check,
 * each with what the call returned, and a count of the failed ones.
 * Header-only; each program includes it once.
 */
#ifndef MEMFD_PRELOAD_CHECKS_H
#define MEMFD_PRELOAD_CHECKS_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int failures;
/* printed at the start of every line, e.g. "receiver: " */
static const char *check_prefix = "";

static void check(int ok, const char *what, const char *detail)
{
	printf("%s%s %s%s%s\n", check_prefix, ok ? "ok  " : "FAIL", what,
	       detail[0] ? ": " : "", detail);
	fflush(stdout);
	if (!ok)
		failures++;
}

/* What a call returned: "returned N" or "-1, errno ENAME". */
static const char *result(long ret, int err)
{
	static char buf[128];

	if (ret >= 0)
		snprintf(buf, sizeof(buf), "returned %ld", ret);
	else
		snprintf(buf, sizeof(buf), "-1, errno %s", strerrorname_np(err));
	return buf;
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
