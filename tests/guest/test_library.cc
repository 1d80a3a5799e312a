// Libmemfd-compat against the loaded module.
#include "guest_util.hpp"

#include <dirent.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <cstddef>

#include <atomic>
#include <thread>
#include <vector>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

namespace guest
{
namespace
{

namespace mc = memfd_compat;

class Library : public ModuleTest
{
protected:
	void SetUp() override
	{
		ModuleTest::SetUp();
		ASSERT_EQ(memfd_compat_set_backend(MEMFD_COMPAT_BACKEND_MODULE), 0);
	}
	void TearDown() override { memfd_compat_set_backend(MEMFD_COMPAT_BACKEND_AUTO); }
};

// Whether @fd is a module memfd, as far as the running kernel lets one
// tell. Before 6.3 only a module memfd takes F_SEAL_EXEC, which this adds
// through the library (with the write seals, on an executable file: for
// throwaway memfds only); a memfd born sealed answers EPERM there, a
// native one EINVAL. From 6.3 a module memfd is a plain shmem file that
// nothing tells from a native one: then only the name is checked.
bool is_module_memfd(int fd)
{
	char buf[64] = {};
	if (readlink(proc_path(fd).c_str(), buf, sizeof(buf) - 1) <= 0 ||
	    std::strncmp(buf, "/memfd:", 7) != 0)
		return false;
	if (fcntl_has_seal_exec())
		return true;
	errno = 0;
	return memfd_compat_add_seals(fd, F_SEAL_EXEC) == 0 || errno == EPERM;
}

// The descriptors of this process that are open on /dev/memfd.
std::vector<int> device_fds()
{
	std::vector<int> fds;
	DIR *d = opendir("/proc/self/fd");
	while (dirent *e = readdir(d)) {
		char buf[64] = {};
		const std::string path = std::string("/proc/self/fd/") + e->d_name;
		if (readlink(path.c_str(), buf, sizeof(buf) - 1) > 0 &&
		    std::strcmp(buf, MEMFD_COMPAT_DEVICE) == 0)
			fds.push_back(std::atoi(e->d_name));
	}
	closedir(d);
	return fds;
}

int count_device_fds()
{
	return static_cast<int>(device_fds().size());
}

TEST_F(Library, Create_ModuleBackend_ReturnsModuleMemfd)
{
	owned_fd m{memfd_compat_create("lib", MFD_CLOEXEC | MFD_ALLOW_SEALING)};
	ASSERT_TRUE(m) << std::strerror(errno);
	EXPECT_TRUE(is_module_memfd(m.get()));
	EXPECT_EQ(fcntl(m.get(), F_GETFD), FD_CLOEXEC);
	char buf[64] = {};
	ASSERT_GT(readlink(proc_path(m.get()).c_str(), buf, sizeof(buf) - 1), 0);
	EXPECT_STREQ(buf, "/memfd:lib (deleted)");
}

TEST_F(Library, Create_AutoBackendWithDevice_UsesModule)
{
	ASSERT_EQ(memfd_compat_set_backend(MEMFD_COMPAT_BACKEND_AUTO), 0);
	EXPECT_EQ(memfd_compat_get_backend(), MEMFD_COMPAT_BACKEND_MODULE);
	owned_fd m{memfd_compat_create("auto", MFD_CLOEXEC)};
	ASSERT_TRUE(m);
	EXPECT_TRUE(is_module_memfd(m.get()));
}

// A device the administrator gave to a group (mode 0660, or here 0600):
// outside it, the module backend reports EACCES and "auto" uses the
// native call, as without the module. The child drops to nobody and
// closes the descriptor it inherited, so the library must open the
// device again, as a fresh process of that user would.
TEST_F(Library, RestrictedDevice_ModuleRefusesWithEacces_AutoUsesNative)
{
	struct stat st = {};
	ASSERT_EQ(stat(MEMFD_COMPAT_DEVICE, &st), 0);
	ASSERT_EQ(chmod(MEMFD_COMPAT_DEVICE, 0600), 0);
	const int rc = run_in_child([] {
		if (setgroups(0, nullptr) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			return 10;
		for (int fd : device_fds())
			close(fd);
		memfd_compat_set_backend(MEMFD_COMPAT_BACKEND_MODULE);
		errno = 0;
		if (memfd_compat_create("denied", MFD_CLOEXEC) != -1 ||
		    errno != EACCES)
			return 11;
		memfd_compat_set_backend(MEMFD_COMPAT_BACKEND_AUTO);
		if (memfd_compat_get_backend() != MEMFD_COMPAT_BACKEND_NATIVE)
			return 12;
		const int fd = memfd_compat_create("fallback", MFD_CLOEXEC);
		if (fd < 0)
			return 13;
		if (count_device_fds() != 0)
			return 14; /* the device was opened after all */
		close(fd);
		return 0;
	});
	ASSERT_EQ(chmod(MEMFD_COMPAT_DEVICE, st.st_mode & 07777), 0);
	EXPECT_EQ(rc, 0) << "10: could not drop privileges, 11: module backend "
			    "did not give EACCES, 12: auto did not resolve to "
			    "native, 13: native create failed, 14: device opened";
}

TEST_F(Library, Create_ErrnosComeFromModule)
{
	EXPECT_ERRNO(memfd_compat_create(nullptr, 0), EFAULT);
	EXPECT_ERRNO(memfd_compat_create(std::string(250, 'x').c_str(), 0), EINVAL);
	EXPECT_ERRNO(memfd_compat_create("x", 0x40), EINVAL);
}

TEST_F(Library, Create_DeviceOpenedOnceAcrossThreads)
{
	std::vector<std::thread> threads;
	std::atomic<int> failures{0};
	for (int t = 0; t < 8; ++t)
		threads.emplace_back([&] {
			for (int i = 0; i < 16; ++i) {
				const int fd = memfd_compat_create("mt", MFD_CLOEXEC);
				if (fd < 0)
					++failures;
				else
					close(fd);
			}
		});
	for (auto &t : threads)
		t.join();
	EXPECT_EQ(failures.load(), 0);
	// guest::device() holds one; the library holds exactly one more.
	EXPECT_EQ(count_device_fds(), 2);
}

// The library's seals are the kernel's: fcntl sees what it adds and it
// sees what fcntl adds.
TEST_F(Library, Seals_AreTheKernelsOwn)
{
	owned_fd m{memfd_compat_create("seals", MFD_CLOEXEC | MFD_ALLOW_SEALING)};
	ASSERT_TRUE(m);
	ASSERT_EQ(memfd_compat_add_seals(m.get(), F_SEAL_GROW), 0);
	EXPECT_EQ(memfd_compat_get_seals(m.get()), F_SEAL_GROW);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_GROW);
	ASSERT_EQ(fcntl(m.get(), F_ADD_SEALS, F_SEAL_SHRINK), 0);
	EXPECT_EQ(memfd_compat_get_seals(m.get()), F_SEAL_GROW | F_SEAL_SHRINK);
	EXPECT_ERRNO(memfd_compat_add_seals(m.get(), 0x4000), EINVAL);
	EXPECT_ERRNO(memfd_compat_add_seals(m.get(), 0x4000 | F_SEAL_EXEC), EINVAL);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_GROW | F_SEAL_SHRINK);
}

// Errors are fcntl's, for module memfds and anything else.
TEST_F(Library, Seals_ErrorsAreFcntls)
{
	owned_fd m{memfd_compat_create("nosealing", MFD_CLOEXEC)};
	ASSERT_TRUE(m);
	EXPECT_EQ(memfd_compat_get_seals(m.get()), F_SEAL_SEAL);
	EXPECT_ERRNO(memfd_compat_add_seals(m.get(), F_SEAL_WRITE), EPERM);
	EXPECT_ERRNO(memfd_compat_add_seals(m.get(), F_SEAL_EXEC), EPERM);
	EXPECT_ERRNO(memfd_compat_add_seals(-1, F_SEAL_WRITE), EBADF);
	EXPECT_ERRNO(memfd_compat_add_seals(-1, F_SEAL_EXEC), EBADF);
	EXPECT_ERRNO(memfd_compat_get_seals(-1), EBADF);
	int p[2];
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	owned_fd r{p[0]}, w{p[1]};
	for (unsigned seals : {static_cast<unsigned>(F_SEAL_WRITE),
	                       static_cast<unsigned>(F_SEAL_EXEC)}) {
		SCOPED_TRACE(::testing::Message() << "seals 0x" << std::hex << seals);
		for (int fd : {r.get(), w.get()})
			EXPECT_EQ(outcome_of([&] { return memfd_compat_add_seals(fd, seals); }),
			          outcome_of([&] { return fcntl(fd, F_ADD_SEALS, seals); }));
	}
	EXPECT_ERRNO(memfd_compat_get_seals(w.get()), EINVAL);
}

TEST_F(Library, Seals_NativeMemfdFallsBackToFcntl)
{
	owned_fd m{native_create("native", MFD_CLOEXEC | MFD_ALLOW_SEALING)};
	ASSERT_EQ(memfd_compat_add_seals(m.get(), F_SEAL_SHRINK), 0);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_SHRINK);
	EXPECT_EQ(memfd_compat_get_seals(m.get()), F_SEAL_SHRINK);
}

TEST_F(Library, Query_MatchesRawIoctl)
{
	memfd_compat_info lib{}, raw{};
	ASSERT_EQ(memfd_compat_query(&lib), 0);
	ASSERT_EQ(ioctl(device(), MEMFD_COMPAT_IOC_QUERY, &raw), 0);
	EXPECT_EQ(std::memcmp(&lib, &raw, sizeof(lib)), 0);
	EXPECT_EQ(lib.api_version, 2U);
}

TEST_F(Library, Cxx_CreateSealAndMap)
{
	mc::memfd m = mc::create("cxx", mc::flags::cloexec | mc::flags::allow_sealing);
	ASSERT_TRUE(m);
	ASSERT_EQ(ftruncate(m.get(), page_size()), 0);
	{
		mc::mapping map = mc::mapping::map(m.get(), page_size(),
		                                   PROT_READ | PROT_WRITE, MAP_SHARED);
		std::memcpy(map.data(), "cxx", 3);
		std::error_code ec;
		mc::add_seals(m, mc::seal::write, ec);
		EXPECT_EQ(ec, std::error_code(EBUSY, std::system_category()));
	}
	mc::add_seals(m, mc::seal::write | mc::seal::seal);
	EXPECT_EQ(mc::get_seals(m), mc::seal::write | mc::seal::seal);
	EXPECT_EQ(pread_str(m.get(), 3, 0), "cxx");
	EXPECT_THROW(mc::add_seals(m, mc::seal::grow), std::system_error);
	EXPECT_TRUE(is_module_memfd(m.get()));
}

TEST_F(Library, Cxx_SealExec_OnEveryKernel)
{
	mc::memfd m = mc::create("cxx", mc::flags::cloexec | mc::flags::noexec_seal);
	EXPECT_EQ(mc::get_seals(m), mc::seal::exec);
	mc::memfd x = mc::create("cxx", mc::flags::cloexec | mc::flags::allow_sealing);
	ASSERT_EQ(fchmod(x.get(), 0600), 0);
	mc::add_seals(x, mc::seal::exec | mc::seal::seal);
	EXPECT_EQ(mc::get_seals(x), mc::seal::exec | mc::seal::seal);
	EXPECT_EQ(fcntl(x.get(), F_GET_SEALS), F_SEAL_EXEC | F_SEAL_SEAL);
	EXPECT_ERRNO(fchmod(x.get(), 0700), EPERM);
}

// Kills the calling process (SIGSYS) on any ioctl() to one of @fds.
bool forbid_ioctls_on(const std::vector<int> &fds)
{
	std::vector<sock_filter> prog = {
	        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
	        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
	        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
	        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 1, 0),
	        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])),
	};
	for (int fd : fds) {
		prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		                        static_cast<__u32>(fd), 0, 1));
		prog.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	}
	prog.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	sock_fprog fprog{static_cast<unsigned short>(prog.size()), prog.data()};
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
	       syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) == 0;
}

// Programs that close descriptors they did not open (a daemon's
// closefrom(3) after start-up). In a forked child: the library has opened
// /dev/memfd; every descriptor from 3 up is closed; @occupy(n) puts
// something else on each number that was the device, as the program's
// next opens would; then the library must still create module memfds,
// and what holds the old numbers must be left alone: never closed, and
// never sent an ioctl (a seccomp filter kills the child with SIGSYS on
// any ioctl to those numbers). @check(n) checks that thing afterwards.
// Exit codes name the failed step.
int after_closefrom(const std::function<bool(int)> &occupy,
                    const std::function<bool(int)> &check)
{
	return run_in_child([&] {
		const int first = memfd_compat_create("first", MFD_CLOEXEC);
		if (first < 0)
			return 10;
		close(first);
		const std::vector<int> old = device_fds();
		if (old.empty())
			return 11;
		if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
			return 12;
		if (!device_fds().empty())
			return 13;
		for (int n : old)
			if (!occupy(n))
				return 14;
		if (!device_fds().empty())
			return 15; // every old number holds something else now
		if (!forbid_ioctls_on(old))
			return 26;

		errno = 0;
		const int fd = memfd_compat_create("after", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (fd < 0)
			return errno == ENOTTY ? 16 : 17; // 16: it used the stale number
		char buf[64] = {};
		if (readlink(proc_path(fd).c_str(), buf, sizeof(buf) - 1) <= 0 ||
		    std::strcmp(buf, "/memfd:after (deleted)") != 0)
			return 18;
		if (pwrite(fd, "works", 5, 0) != 5 || pread_str(fd, 5, 0) != "works")
			return 19;
		if (memfd_compat_add_seals(fd, F_SEAL_GROW) != 0 ||
		    fcntl(fd, F_GET_SEALS) != F_SEAL_GROW)
			return 20;
		// a module memfd: before 6.3 only those take F_SEAL_EXEC, and
		// the library's own route to it goes through the device
		if (!is_module_memfd(fd))
			return 21;
		const std::vector<int> now = device_fds();
		if (now.size() != 1)
			return 22; // opened once more, and only once
		for (int n : old) {
			if (n == now[0])
				return 23; // it took over a number it does not own
			if (!check(n))
				return 24;
		}
		// and it keeps working, on the same descriptor
		const int again = memfd_compat_create("again", MFD_CLOEXEC);
		if (again < 0 || device_fds() != now)
			return 25;
		return 0;
	});
}

// The guard of the tests below catches an ioctl (and nothing else).
TEST_F(Library, Closefrom_IoctlGuardWorks)
{
	EXPECT_EQ(run_in_child([] {
		          int p[2];
		          if (pipe2(p, O_CLOEXEC) != 0 || !forbid_ioctls_on({p[0]}))
			          return 10;
		          int n = 0;
		          if (write(p[1], "x", 1) != 1 || read(p[0], &n, 1) != 1)
			          return 11;
		          if (ioctl(p[1], FIONREAD, &n) != 0)
			          return 12;
		          (void)ioctl(p[0], FIONREAD, &n);
		          return 13;
	          }),
	          128 + SIGSYS);
}

TEST_F(Library, Closefrom_NumberReusedByPipe_CreateWorksPipeUntouched)
{
	// one pipe; both ends are placed on the old numbers (the lowest free
	// numbers: a pipe opened right after closefrom takes them anyway)
	int pipe_r = -1, pipe_w = -1;
	const auto occupy = [&](int n) {
		if (pipe_r < 0) {
			int p[2];
			if (pipe2(p, O_CLOEXEC) != 0)
				return false;
			pipe_r = p[0];
			pipe_w = p[1];
		}
		if (n == pipe_r || n == pipe_w)
			return true;
		return dup2(pipe_w, n) == n;
	};
	const auto check = [&](int n) {
		struct stat st {
		};
		if (fstat(n, &st) != 0 || !S_ISFIFO(st.st_mode))
			return false;
		// data written through this number comes out of the pipe
		const int w = n == pipe_r ? pipe_w : n;
		if (write(w, "ping", 4) != 4)
			return false;
		char buf[4] = {};
		return read(pipe_r, buf, 4) == 4 && std::memcmp(buf, "ping", 4) == 0;
	};
	EXPECT_EQ(after_closefrom(occupy, check), 0) << "128 + " << SIGSYS << ": an ioctl to the pipe";
}

TEST_F(Library, Closefrom_NumberReusedByDevNull_CreateWorksDevNullUntouched)
{
	const auto occupy = [](int n) {
		const int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null < 0)
			return false;
		if (null == n)
			return true;
		const bool ok = dup2(null, n) == n;
		close(null);
		return ok;
	};
	const auto check = [](int n) {
		char buf[64] = {};
		if (readlink(proc_path(n).c_str(), buf, sizeof(buf) - 1) <= 0 ||
		    std::strcmp(buf, "/dev/null") != 0)
			return false;
		char c;
		return write(n, "null", 4) == 4 && read(n, &c, 1) == 0;
	};
	EXPECT_EQ(after_closefrom(occupy, check), 0)
	        << "128 + " << SIGSYS << ": an ioctl to /dev/null";
}

// Nothing on the old number: the library opens the device again (it may
// get the same number back) and keeps that one descriptor.
TEST_F(Library, Closefrom_NumberLeftFree_CreateWorks)
{
	const int code = run_in_child([] {
		const int first = memfd_compat_create("first", MFD_CLOEXEC);
		if (first < 0)
			return 10;
		close(first);
		if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
			return 11;
		for (int i = 0; i < 3; i++) {
			errno = 0;
			const int fd = memfd_compat_create("after", MFD_CLOEXEC);
			if (fd < 0)
				return 20 + i;
			close(fd);
		}
		return device_fds().size() == 1 ? 0 : 30;
	});
	EXPECT_EQ(code, 0);
}

} // namespace
} // namespace guest
