// Helpers shared by the guest suites. Each test builds its own memfd.
//
// Behaviour tests are parametrized over two backends: "module" (a memfd
// created through /dev/memfd with the raw ioctl, sealed with the module's
// ioctls) and "native" (memfd_create(2) and fcntl(2) of the running
// kernel). The native memfd on the same guest kernel is the reference.
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
#include <functional>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

namespace guest
{

using owned_fd = memfd_compat::memfd;

enum class backend { module, native };

inline const char *to_string(backend b)
{
	return b == backend::module ? "module" : "native";
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

// Raw CREATE ioctl: the new fd, or -1 with errno.
inline int module_create(const char *name, unsigned flags)
{
	memfd_compat_create_args args{};
	args.name = reinterpret_cast<std::uintptr_t>(name);
	args.flags = flags;
	return ioctl(device(), MEMFD_COMPAT_IOC_CREATE, &args);
}

inline int native_create(const char *name, unsigned flags)
{
	return static_cast<int>(syscall(SYS_memfd_create, name, flags));
}

inline int create(backend b, const char *name, unsigned flags)
{
	return b == backend::module ? module_create(name, flags)
	                            : native_create(name, flags);
}

inline int add_seals(backend b, int fd, unsigned seals)
{
	return b == backend::module
	               ? ioctl(fd, MEMFD_COMPAT_IOC_ADD_SEALS, (unsigned long)seals)
	               : fcntl(fd, F_ADD_SEALS, seals);
}

inline int get_seals(backend b, int fd)
{
	return b == backend::module ? ioctl(fd, MEMFD_COMPAT_IOC_GET_SEALS, 0)
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
		if (GetParam() == backend::module)
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
	        ::testing::Values(::guest::backend::module, ::guest::backend::native),   \
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

// Passes one descriptor over a unix socket (SCM_RIGHTS); recv_fd sets
// O_CLOEXEC on the received descriptor. -1 on error.
int send_fd(int sock, int fd);
int recv_fd(int sock);

// Feature probes of the running kernel's native memfd.
bool native_has_seal_exec();
bool native_allows_readonly_shared_map_under_write_seal();

} // namespace guest

#endif
