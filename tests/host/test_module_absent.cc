// The module backend on a machine without /dev/memfd: a clear ENODEV and
// never a silent fallback to the native system call.
#include "host_util.hpp"

#include <spawn.h>
#include <sys/wait.h>

#include <dirent.h>

#include <cstring>
#include <string>
#include <vector>

extern char **environ;

namespace
{

using host::BackendGuard;

class ModuleAbsent : public ::testing::Test
{
protected:
	void SetUp() override
	{
		if (host::device_present())
			GTEST_SKIP() << MEMFD_COMPAT_DEVICE " exists on this machine";
	}
};

int count_open_fds()
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	while (dirent *e = readdir(d))
		if (e->d_name[0] != '.')
			++n;
	closedir(d);
	return n;
}

TEST_F(ModuleAbsent, Create_ModuleBackend_ENODEV)
{
	BackendGuard g{MEMFD_COMPAT_BACKEND_MODULE};
	errno = 0;
	EXPECT_EQ(memfd_compat_create("x", MEMFD_COMPAT_MFD_CLOEXEC), -1);
	EXPECT_EQ(errno, ENODEV);
}

// memfd_compat_add_seals2() is the module's ioctl whatever the backend:
// without the device it fails with ENODEV, and seals nothing natively.
TEST_F(ModuleAbsent, AddSeals2_AnyBackend_ENODEV)
{
	for (int b : {MEMFD_COMPAT_BACKEND_AUTO, MEMFD_COMPAT_BACKEND_NATIVE,
	              MEMFD_COMPAT_BACKEND_MODULE}) {
		BackendGuard g{b};
		const int fd = static_cast<int>(
		        syscall(SYS_memfd_create, "x",
		                MEMFD_COMPAT_MFD_CLOEXEC | MEMFD_COMPAT_MFD_ALLOW_SEALING));
		ASSERT_GE(fd, 0);
		errno = 0;
		EXPECT_EQ(memfd_compat_add_seals2(fd, F_SEAL_GROW,
		                                  MEMFD_COMPAT_SEAL_ISOLATE_PINS),
		          -1);
		EXPECT_EQ(errno, ENODEV) << "backend " << b;
		EXPECT_EQ(fcntl(fd, F_GET_SEALS), 0);
		close(fd);
	}
}

TEST_F(ModuleAbsent, Create_ModuleBackend_DoesNotFallBackNorLeakFds)
{
	BackendGuard g{MEMFD_COMPAT_BACKEND_MODULE};
	const int before = count_open_fds();
	for (int i = 0; i < 8; ++i)
		EXPECT_EQ(memfd_compat_create("x", 0), -1);
	EXPECT_EQ(count_open_fds(), before);
}

TEST_F(ModuleAbsent, Create_ModuleBackend_ReportedAsModule)
{
	BackendGuard g{MEMFD_COMPAT_BACKEND_MODULE};
	EXPECT_EQ(memfd_compat_get_backend(), MEMFD_COMPAT_BACKEND_MODULE);
}

TEST_F(ModuleAbsent, Query_ENODEV)
{
	memfd_compat_info info{};
	errno = 0;
	EXPECT_EQ(memfd_compat_query(&info), -1);
	EXPECT_EQ(errno, ENODEV);
}

TEST_F(ModuleAbsent, Auto_ResolvesToNative)
{
	BackendGuard g{MEMFD_COMPAT_BACKEND_AUTO};
	EXPECT_EQ(memfd_compat_get_backend(), MEMFD_COMPAT_BACKEND_NATIVE);
	const int fd = memfd_compat_create("auto", MEMFD_COMPAT_MFD_CLOEXEC);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_SEAL); // no MFD_ALLOW_SEALING
	EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	close(fd);
}

// F_SEAL_EXEC without /dev/memfd: memfd_compat_add_seals() is exactly the
// host kernel's fcntl(F_ADD_SEALS) (success from Linux 6.3, EINVAL before),
// under every backend, never ENODEV. Each call gets a fresh memfd, as a
// successful call changes it.
class SealExecWithoutDevice : public ModuleAbsent,
                              public ::testing::WithParamInterface<int>
{
protected:
	// fcntl on one fresh memfd, the library on another: same outcome,
	// same seals after.
	void expect_like_fcntl(unsigned create_flags, unsigned seals)
	{
		SCOPED_TRACE(::testing::Message() << "create 0x" << std::hex << create_flags
		                                  << " seals 0x" << seals);
		const int a = host::raw_memfd_create("fcntl", create_flags);
		const int b = host::raw_memfd_create("lib", create_flags);
		ASSERT_GE(a, 0);
		ASSERT_GE(b, 0);
		const int by_fcntl =
		        host::result_of([&] { return fcntl(a, F_ADD_SEALS, seals); });
		const int by_lib =
		        host::result_of([&] { return memfd_compat_add_seals(b, seals); });
		EXPECT_EQ(by_lib, by_fcntl);
		EXPECT_NE(by_lib, -ENODEV);
		EXPECT_EQ(fcntl(b, F_GET_SEALS), fcntl(a, F_GET_SEALS));
		close(a);
		close(b);
	}
};

TEST_P(SealExecWithoutDevice, AddSealExec_IsTheKernelsFcntl)
{
	BackendGuard g{GetParam()};
	const int before = count_open_fds();
	constexpr unsigned sealable =
	        MEMFD_COMPAT_MFD_CLOEXEC | MEMFD_COMPAT_MFD_ALLOW_SEALING;
	expect_like_fcntl(sealable, MEMFD_COMPAT_SEAL_EXEC);
	expect_like_fcntl(sealable, MEMFD_COMPAT_SEAL_EXEC | F_SEAL_GROW | F_SEAL_SEAL);
	expect_like_fcntl(MEMFD_COMPAT_MFD_CLOEXEC, MEMFD_COMPAT_SEAL_EXEC); // born sealed
	// fcntl's EINVAL whatever the kernel: the library then asks for the
	// device, finds none, and fcntl's answer stands
	expect_like_fcntl(sealable, MEMFD_COMPAT_SEAL_EXEC | 0x40);
	expect_like_fcntl(sealable, MEMFD_COMPAT_SEAL_EXEC | 0x80000000U);
	EXPECT_EQ(count_open_fds(), before);
}

TEST_P(SealExecWithoutDevice, AddSealExec_NotAMemfd_IsTheKernelsFcntl)
{
	BackendGuard g{GetParam()};
	int p[2];
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	for (int fd : p) {
		SCOPED_TRACE(fd == p[0] ? "read end" : "write end");
		const int by_fcntl = host::result_of(
		        [&] { return fcntl(fd, F_ADD_SEALS, MEMFD_COMPAT_SEAL_EXEC); });
		EXPECT_LT(by_fcntl, 0);
		EXPECT_EQ(host::result_of([&] {
			          return memfd_compat_add_seals(fd, MEMFD_COMPAT_SEAL_EXEC);
		          }),
		          by_fcntl);
	}
	EXPECT_EQ(host::result_of([] { return memfd_compat_add_seals(-1, MEMFD_COMPAT_SEAL_EXEC); }),
	          -EBADF);
	close(p[0]);
	close(p[1]);
}

INSTANTIATE_TEST_SUITE_P(Backends, SealExecWithoutDevice,
                         ::testing::Values(MEMFD_COMPAT_BACKEND_AUTO,
                                           MEMFD_COMPAT_BACKEND_NATIVE,
                                           MEMFD_COMPAT_BACKEND_MODULE),
                         [](const ::testing::TestParamInfo<int> &i) {
	                         return std::string(i.param == MEMFD_COMPAT_BACKEND_AUTO     ? "auto"
	                                            : i.param == MEMFD_COMPAT_BACKEND_NATIVE ? "native"
	                                                                                     : "module");
                         });

// Runs memfd_env_probe with MEMFD_COMPAT_BACKEND=@value (nullptr: unset).
std::string run_probe(const char *value)
{
	std::vector<std::string> env_store;
	for (char **e = environ; *e; ++e)
		if (std::strncmp(*e, "MEMFD_COMPAT_BACKEND=", 21) != 0)
			env_store.emplace_back(*e);
	if (value)
		env_store.push_back(std::string("MEMFD_COMPAT_BACKEND=") + value);
	std::vector<char *> envp;
	for (auto &s : env_store)
		envp.push_back(s.data());
	envp.push_back(nullptr);

	int out[2];
	EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	char path[] = MEMFD_ENV_PROBE;
	char *argv[] = {path, nullptr};
	pid_t pid = -1;
	EXPECT_EQ(posix_spawn(&pid, path, &fa, nullptr, argv, envp.data()), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	std::string text;
	char buf[256];
	ssize_t n;
	while ((n = read(out[0], buf, sizeof(buf))) > 0)
		text.append(buf, static_cast<size_t>(n));
	close(out[0]);
	int status = 0;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	while (!text.empty() && text.back() == '\n')
		text.pop_back();
	return text;
}

TEST_F(ModuleAbsent, EnvModule_CreateFailsENODEV)
{
	EXPECT_EQ(run_probe("module"), "backend=2/0 create=" + std::to_string(ENODEV));
}

TEST(EnvBackend, EnvNative_CreateSucceedsNatively)
{
	EXPECT_EQ(run_probe("native"), "backend=1 create=ok");
}

TEST_F(ModuleAbsent, EnvAuto_UsesNative)
{
	EXPECT_EQ(run_probe("auto"), "backend=1 create=ok");
	EXPECT_EQ(run_probe(""), "backend=1 create=ok");
	EXPECT_EQ(run_probe(nullptr), "backend=1 create=ok");
}

TEST(EnvBackend, EnvUnknownValue_CreateFailsEINVAL)
{
	EXPECT_EQ(run_probe("modul"), "backend=-1/" + std::to_string(EINVAL) +
	                                      " create=" + std::to_string(EINVAL));
}

} // namespace
