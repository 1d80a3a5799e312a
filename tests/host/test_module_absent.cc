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
	EXPECT_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_SEAL); // a native memfd
	close(fd);
}

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
