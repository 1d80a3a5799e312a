// Helpers shared by the guest suites. Each test builds its own memfd.
//
// Behaviour tests are parametrized over four backends, three of them ways
// to reach a module memfd:
//   module_lib    created and sealed through libmemfd-compat, as users do
//                 (memfd_compat_create, memfd_compat_add_seals/get_seals);
//   module_fcntl  created through the library, sealed and read with plain
//                 fcntl(2), as a receiver that is not ours does;
//   module_ioctl  created and sealed with the raw ioctls on /dev/memfd
//                 (CREATE, ADD_SEALS), read with fcntl;
//   native        memfd_create(2) and fcntl(2) of the running kernel, the
//                 reference.
// The kernel's own fcntl lacks F_SEAL_EXEC before 6.3: adding it through
// fcntl fails there with EINVAL on any memfd (SKIP_UNLESS_SEAL_EXEC_ROUTE).
//
// Without /dev/memfd the module cases are skipped, unless the environment
// sets MEMFD_TEST_REQUIRE_MODULE=1 (the guest harness does): then they fail.
#ifndef MEMFD_GUEST_UTIL_HPP
#define MEMFD_GUEST_UTIL_HPP

#include <memfd_compat/memfd_compat.hpp>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "fd_passing.hpp"

#include "memfd_defs.h"

namespace guest
{

using fd_passing::recv_fd;
using fd_passing::send_fd;

using owned_fd = memfd_compat::memfd;

enum class backend { module_lib, module_fcntl, module_ioctl, native };

inline const char *to_string(backend b)
{
	switch (b) {
	case backend::module_lib:
		return "module_lib";
	case backend::module_fcntl:
		return "module_fcntl";
	case backend::module_ioctl:
		return "module_ioctl";
	case backend::native:
		break;
	}
	return "native";
}

inline bool is_module(backend b)
{
	return b != backend::native;
}

// Whether seals are added through the kernel's own fcntl(F_ADD_SEALS).
inline bool seals_through_fcntl(backend b)
{
	return b == backend::native || b == backend::module_fcntl;
}

// How GoogleTest prints a parameter.
inline void PrintTo(backend b, std::ostream *os)
{
	*os << to_string(b);
}

// The process-wide /dev/memfd descriptor, or -1 if the device is absent.
inline int device()
{
	static const int fd = open(MEMFD_COMPAT_DEVICE, O_RDWR | O_CLOEXEC);
	return fd;
}

inline bool module_required()
{
	const char *v = std::getenv("MEMFD_TEST_REQUIRE_MODULE");
	return v != nullptr && std::strcmp(v, "1") == 0;
}

// Drops the page cache and compacts memory, so that free 2 MiB blocks
// exist for a huge page allocation that does not compact by itself (a
// shmem THP fault under the default "madvise" defrag falls back to small
// pages instead).
inline void compact_memory()
{
	std::ofstream("/proc/sys/vm/drop_caches") << "3" << std::flush;
	std::ofstream("/proc/sys/vm/compact_memory") << "1" << std::flush;
}

// Raw CREATE ioctl: the new fd, or -1 with errno.
inline int module_create(const char *name, unsigned flags)
{
	memfd_compat_create_args args{};
	args.name = reinterpret_cast<std::uintptr_t>(name);
	args.flags = flags;
	return ioctl(device(), MEMFD_COMPAT_IOC_CREATE, &args);
}

// Raw ADD_SEALS ioctl on /dev/memfd: 0, or -1 with errno.
inline int module_add_seals(int fd, unsigned seals)
{
	memfd_compat_seal_args args{};
	args.fd = fd;
	args.seals = seals;
	return ioctl(device(), MEMFD_COMPAT_IOC_ADD_SEALS, &args);
}

// Raw ADD_SEALS ioctl with a whole argument (@args may be any pointer).
inline int module_add_seals_raw(const void *args)
{
	return ioctl(device(), MEMFD_COMPAT_IOC_ADD_SEALS, args);
}

// A module memfd through the library (the guest has /dev/memfd, so the
// library's "auto" backend is the module; tests that change the backend
// restore it).
inline int library_create(const char *name, unsigned flags)
{
	return memfd_compat_create(name, flags);
}

inline int native_create(const char *name, unsigned flags)
{
	return static_cast<int>(syscall(SYS_memfd_create, name, flags));
}

inline int create(backend b, const char *name, unsigned flags)
{
	switch (b) {
	case backend::module_lib:
	case backend::module_fcntl:
		return library_create(name, flags);
	case backend::module_ioctl:
		return module_create(name, flags);
	case backend::native:
		break;
	}
	return native_create(name, flags);
}

inline int add_seals(backend b, int fd, unsigned seals)
{
	switch (b) {
	case backend::module_lib:
		return memfd_compat_add_seals(fd, seals);
	case backend::module_ioctl:
		return module_add_seals(fd, seals);
	case backend::module_fcntl:
	case backend::native:
		break;
	}
	return fcntl(fd, F_ADD_SEALS, seals);
}

inline int get_seals(backend b, int fd)
{
	return b == backend::module_lib ? memfd_compat_get_seals(fd)
	                                : fcntl(fd, F_GET_SEALS);
}

// "/proc/self/fd/N"
inline std::string proc_path(int fd)
{
	return "/proc/self/fd/" + std::to_string(fd);
}

inline std::size_t page_size()
{
	return static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// pread of @len bytes at @off as a string ("" on error).
inline std::string pread_str(int fd, std::size_t len, off_t off)
{
	std::string s(len, '\0');
	const ssize_t n = pread(fd, s.data(), len, off);
	s.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
	return s;
}

inline off_t file_size(int fd)
{
	struct stat st {
	};
	return fstat(fd, &st) == 0 ? st.st_size : -1;
}

// Result of a libc-style call: its value, or -errno (to compare two calls).
template <typename F> long outcome_of(F &&f)
{
	errno = 0;
	const long ret = static_cast<long>(f());
	return ret < 0 ? -errno : ret;
}

// Forks a child that runs @fn and exits with its result; returns the pid.
inline pid_t start_child(const std::function<int()> &fn)
{
	const pid_t pid = fork();
	if (pid == 0)
		_exit(fn());
	return pid;
}

// Waits for @pid; returns its exit code, or 128 + signal, or -1.
inline int wait_child(pid_t pid)
{
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs @fn in a forked child; returns its exit code, or 128 + signal.
inline int run_in_child(const std::function<int()> &fn)
{
	return wait_child(start_child(fn));
}

// Passes @fd over a unix socket (SCM_RIGHTS) to a forked child that first
// closes its inherited copy of @fd, so that it holds only what it received,
// as an unrelated receiver would; the child runs @fn on the received
// descriptor, with plain system calls only. Returns the child's exit code
// (as wait_child), 90-92 if the passing itself failed.
int run_receiver(int fd, const std::function<int(int)> &fn);

// Creates an unlinked regular file in a writable directory.
inline int temp_file()
{
	for (const char *dir : {static_cast<const char *>(std::getenv("TMPDIR")), "/tmp",
	                        "/var/tmp", "/"}) {
		if (dir == nullptr)
			continue;
		std::string path = std::string(dir) + "/memfd_guest_XXXXXX";
		const int fd = mkostemp(path.data(), O_CLOEXEC);
		if (fd >= 0) {
			unlink(path.c_str());
			return fd;
		}
	}
	return -1;
}

// Expects a libc-style call to fail with exactly @err.
#define EXPECT_ERRNO(expr, err)                                                          \
	do {                                                                             \
		errno = 0;                                                               \
		const long ret_ = static_cast<long>(expr);                               \
		EXPECT_EQ(ret_, -1) << #expr;                                            \
		EXPECT_EQ(errno, (err)) << #expr << ": " << std::strerror(errno);        \
	} while (0)

#define ASSERT_ERRNO(expr, err)                                                          \
	do {                                                                             \
		errno = 0;                                                               \
		const long ret_ = static_cast<long>(expr);                               \
		ASSERT_EQ(ret_, -1) << #expr;                                            \
		ASSERT_EQ(errno, (err)) << #expr << ": " << std::strerror(errno);        \
	} while (0)

// Skips (or, with MEMFD_TEST_REQUIRE_MODULE=1, fails) without the module.
#define SKIP_WITHOUT_MODULE()                                                            \
	do {                                                                             \
		if (::guest::device() < 0) {                                             \
			if (::guest::module_required())                                  \
				FAIL() << MEMFD_COMPAT_DEVICE " missing: "               \
				       << std::strerror(errno);                          \
			GTEST_SKIP() << MEMFD_COMPAT_DEVICE " absent";                   \
		}                                                                        \
	} while (0)

// In a BackendTest: skips a case that adds F_SEAL_EXEC through fcntl
// (native, module_fcntl) on a kernel whose fcntl lacks it; SealExecRoute
// in test_exec.cc checks the EINVAL those get.
#define SKIP_UNLESS_SEAL_EXEC_ROUTE()                                                    \
	do {                                                                             \
		if (::guest::seals_through_fcntl(this->be()) &&                          \
		    !::guest::native_has_seal_exec())                                    \
			GTEST_SKIP() << "the running kernel's fcntl lacks F_SEAL_EXEC";  \
	} while (0)

// In a BackendTest (test body or SetUp): skips a native case whose feature
// the running kernel lacks. A macro, not a member function: GTEST_SKIP()
// only returns from the function it is written in, so it must expand in the
// test's own scope for the rest of the test not to run.
#define SKIP_NATIVE_UNLESS(has, what)                                                    \
	do {                                                                             \
		if (this->is_native() && !(has))                                         \
			GTEST_SKIP() << "running kernel lacks " << (what);               \
	} while (0)

// Fixture for behaviour tests run against both backends.
class BackendTest : public ::testing::TestWithParam<backend>
{
protected:
	void SetUp() override
	{
		if (is_module(GetParam()))
			SKIP_WITHOUT_MODULE();
	}

	backend be() const { return GetParam(); }
	bool is_native() const { return GetParam() == backend::native; }

	// A new memfd of this backend (fails the test if creation fails).
	owned_fd make(unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING,
	              const char *name = "test")
	{
		const int fd = create(be(), name, flags);
		EXPECT_GE(fd, 0) << "create: " << std::strerror(errno);
		return owned_fd{fd};
	}

	// A new sealable memfd holding @content.
	owned_fd make_with(const std::string &content)
	{
		owned_fd m = make();
		EXPECT_EQ(pwrite(m.get(), content.data(), content.size(), 0),
		          static_cast<ssize_t>(content.size()));
		return m;
	}

	int add(int fd, unsigned seals) { return add_seals(be(), fd, seals); }
	int get(int fd) { return get_seals(be(), fd); }

};

struct backend_name {
	std::string operator()(const ::testing::TestParamInfo<backend> &i) const
	{
		return to_string(i.param);
	}
};

#define INSTANTIATE_BACKENDS(suite)                                                      \
	INSTANTIATE_TEST_SUITE_P(                                                        \
	        Backends, suite,                                                         \
	        ::testing::Values(::guest::backend::module_lib,                          \
	                          ::guest::backend::module_fcntl,                        \
	                          ::guest::backend::module_ioctl,                        \
	                          ::guest::backend::native),                             \
	        ::guest::backend_name())

// Module-only tests.
class ModuleTest : public ::testing::Test
{
protected:
	void SetUp() override { SKIP_WITHOUT_MODULE(); }

	owned_fd make(unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING,
	              const char *name = "test")
	{
		const int fd = module_create(name, flags);
		EXPECT_GE(fd, 0) << "create: " << std::strerror(errno);
		return owned_fd{fd};
	}
};


// Feature probes of the running kernel's native memfd.
bool native_has_seal_exec();
// Whether the kernel's own fcntl(F_ADD_SEALS) accepts F_SEAL_EXEC, probed
// on a native memfd (success, or EINVAL as before Linux 6.3).
bool fcntl_has_seal_exec();
// The seals the running kernel's fcntl(F_ADD_SEALS) accepts.
unsigned fcntl_seals();
bool native_allows_readonly_shared_map_under_write_seal();

} // namespace guest

#endif
