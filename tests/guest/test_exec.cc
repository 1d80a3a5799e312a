// Executable memfds (Linux 6.3+ semantics, on every kernel through the
// module): fexecve of an executable memfd, EACCES for a noexec-sealed one,
// and the memfd_noexec policy as a module parameter.
#include "guest_util.hpp"

#include <fstream>
#include <sstream>

namespace {

using namespace guest;

constexpr const char *kPolicy = "/sys/module/memfd_compat/parameters/memfd_noexec";

// This test binary is static: a real program to execute from a memfd.
std::string static_binary()
{
	std::ifstream in("/proc/self/exe", std::ios::binary);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

// Copies this (static) test binary into @fd and runs it from there with
// --gtest_list_tests; returns the child's exit code, or 128 + errno of a
// failed exec.
int exec_from(int fd)
{
	static const std::string image = static_binary();
	if (pwrite(fd, image.data(), image.size(), 0) !=
	    static_cast<ssize_t>(image.size()))
		return -1;
	return run_in_child([fd] {
		const int null = open("/dev/null", O_WRONLY);
		dup2(null, STDOUT_FILENO);
		char arg0[] = "memfd-exec", arg1[] = "--gtest_list_tests";
		char *argv[] = {arg0, arg1, nullptr};
		char *envp[] = {nullptr};
		syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
		return 128 + errno;
	});
}

class Exec : public BackendTest {};
INSTANTIATE_BACKENDS(Exec);

TEST_P(Exec, ExecutableMemfd_Execveat_Runs)
{
	SKIP_NATIVE_UNLESS(native_has_seal_exec(), "MFD_EXEC");
	owned_fd m = make(MFD_CLOEXEC | MFD_EXEC);
	EXPECT_EQ(exec_from(m.get()), 0);
}

TEST_P(Exec, NoexecSealedMemfd_Execveat_EACCES)
{
	SKIP_NATIVE_UNLESS(native_has_seal_exec(), "MFD_NOEXEC_SEAL");
	owned_fd m = make(MFD_CLOEXEC | MFD_NOEXEC_SEAL);
	EXPECT_EQ(exec_from(m.get()), 128 + EACCES);
}

TEST_P(Exec, ChmodAwayExecBits_Execveat_EACCES)
{
	SKIP_NATIVE_UNLESS(native_has_seal_exec(), "MFD_EXEC");
	owned_fd m = make(MFD_CLOEXEC | MFD_EXEC | MFD_ALLOW_SEALING);
	ASSERT_EQ(fchmod(m.get(), 0666), 0);
	EXPECT_EQ(exec_from(m.get()), 128 + EACCES);
}

// Sets the module's memfd_noexec policy for the life of the object.
class NoexecPolicy {
public:
	NoexecPolicy() : saved_(read()) {}
	~NoexecPolicy() { set(saved_); }

	static int read()
	{
		std::ifstream in(kPolicy);
		int v = -1;
		in >> v;
		return v;
	}

	// true if the write was accepted
	static bool set(int v)
	{
		const int fd = open(kPolicy, O_WRONLY);
		if (fd < 0)
			return false;
		const std::string s = std::to_string(v);
		const bool ok = write(fd, s.data(), s.size()) ==
				static_cast<ssize_t>(s.size());
		close(fd);
		return ok;
	}

private:
	int saved_;
};

class Policy : public ModuleTest {
protected:
	mode_t mode_of(int fd)
	{
		struct stat st {};
		EXPECT_EQ(fstat(fd, &st), 0);
		return st.st_mode & 07777;
	}
	NoexecPolicy policy_;
};

TEST_F(Policy, Parameter_DefaultsToZero_AndRejectsOutOfRange)
{
	EXPECT_EQ(NoexecPolicy::read(), 0);
	EXPECT_FALSE(NoexecPolicy::set(3));
	EXPECT_FALSE(NoexecPolicy::set(-1));
	EXPECT_EQ(NoexecPolicy::read(), 0);
}

TEST_F(Policy, Level0_NoFlag_IsExecutableAndUnsealed)
{
	ASSERT_TRUE(NoexecPolicy::set(0));
	owned_fd m = make(MFD_CLOEXEC | MFD_ALLOW_SEALING);
	EXPECT_EQ(mode_of(m.get()), 0777u);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), 0);
}

TEST_F(Policy, Level1_NoFlag_IsNoexecSealed)
{
	ASSERT_TRUE(NoexecPolicy::set(1));
	owned_fd m = make(MFD_CLOEXEC);
	EXPECT_EQ(mode_of(m.get()), 0666u);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_EXEC);
	EXPECT_EQ(exec_from(m.get()), 128 + EACCES);
}

TEST_F(Policy, Level1_ExplicitExec_StillExecutable)
{
	ASSERT_TRUE(NoexecPolicy::set(1));
	owned_fd m = make(MFD_CLOEXEC | MFD_EXEC);
	EXPECT_EQ(mode_of(m.get()), 0777u);
	EXPECT_EQ(exec_from(m.get()), 0);
}

TEST_F(Policy, Level2_ExplicitExec_EACCES)
{
	ASSERT_TRUE(NoexecPolicy::set(2));
	EXPECT_ERRNO(module_create("x", MFD_CLOEXEC | MFD_EXEC), EACCES);
}

TEST_F(Policy, Level2_NoFlag_IsNoexecSealed)
{
	ASSERT_TRUE(NoexecPolicy::set(2));
	owned_fd m = make(MFD_CLOEXEC);
	EXPECT_EQ(mode_of(m.get()), 0666u);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_EXEC);
}

TEST_F(Policy, Level2_CanBeLoweredAgainByRoot)
{
	ASSERT_TRUE(NoexecPolicy::set(2));
	EXPECT_TRUE(NoexecPolicy::set(0));
	owned_fd m = make(MFD_CLOEXEC | MFD_EXEC);
	EXPECT_EQ(mode_of(m.get()), 0777u);
}

} // namespace
