// The noexec policy of the caller's PID namespace (vm.memfd_noexec, Linux
// 6.3+): module memfds follow it as memfd_create does. Each case runs in a
// child PID namespace, whose setting dies with it; native memfd_create in
// the same process is the reference. The module parameter's own rules are
// in test_exec.cc (Policy).
#include "guest_util.hpp"

#include <sched.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

namespace {

using namespace guest;

constexpr const char *kSysctl = "/proc/sys/vm/memfd_noexec";

bool write_sysctl(int value)
{
	std::ofstream out(kSysctl);
	out << value;
	out.flush();
	return out.good();
}

// What a create with @flags gives: "EACCES", "noexec-sealed" (mode without
// x bits, F_SEAL_EXEC, sealable), "executable" (some x bit, no seals), or
// another description.
std::string outcome(int fd)
{
	if (fd < 0)
		return errno == EACCES ? "EACCES" : std::strerror(errno);
	struct stat st {};
	fstat(fd, &st);
	const int seals = fcntl(fd, F_GET_SEALS);
	close(fd);
	if ((st.st_mode & 0111) == 0 && seals == F_SEAL_EXEC)
		return "noexec-sealed";
	if ((st.st_mode & 0111) != 0 && seals == 0)
		return "executable";
	return "mode " + std::to_string(st.st_mode & 0777) + " seals " +
	       std::to_string(seals);
}

// Runs @fn in a grandchild that is PID 1 of a new PID namespace whose
// vm.memfd_noexec is @scope; returns its exit code (0: all as expected).
int in_pidns(int scope, const std::function<int()> &fn)
{
	return run_in_child([&] {
		if (unshare(CLONE_NEWPID) != 0)
			return 90;
		return run_in_child([&] { return write_sysctl(scope) ? fn() : 91; });
	});
}

class NoexecPidns : public ModuleTest
{
protected:
	void SetUp() override
	{
		ModuleTest::SetUp();
		if (IsSkipped() || HasFatalFailure())
			return;
		if (access(kSysctl, F_OK) != 0)
			GTEST_SKIP() << "no vm.memfd_noexec in this kernel: the module "
			                "parameter is the whole policy (see Policy)";
	}

	// Child exit code 0 if module (library and raw ioctl) and native all
	// give @want for @flags.
	static int expect_all(unsigned flags, const std::string &want)
	{
		const std::string native = outcome(native_create("p", flags));
		const std::string lib = outcome(library_create("p", flags));
		const std::string raw = outcome(module_create("p", flags));
		if (native != want)
			return 10;
		if (lib != want)
			return 11;
		if (raw != want)
			return 12;
		return 0;
	}
};

TEST_F(NoexecPidns, Scope1_NoExecFlag_NoexecSealed)
{
	EXPECT_EQ(in_pidns(1, [] { return expect_all(MFD_CLOEXEC, "noexec-sealed"); }), 0);
}

TEST_F(NoexecPidns, Scope1_ExplicitExec_Executable)
{
	EXPECT_EQ(in_pidns(1, [] {
		          return expect_all(MFD_CLOEXEC | MFD_EXEC | MFD_ALLOW_SEALING,
		                            "executable");
	          }),
	          0);
}

TEST_F(NoexecPidns, Scope2_ExplicitExec_EACCES)
{
	EXPECT_EQ(in_pidns(2, [] { return expect_all(MFD_CLOEXEC | MFD_EXEC, "EACCES"); }), 0);
}

TEST_F(NoexecPidns, Scope2_NoExecFlag_NoexecSealed)
{
	EXPECT_EQ(in_pidns(2, [] { return expect_all(MFD_CLOEXEC, "noexec-sealed"); }), 0);
}

// A child namespace's setting leaves its parent's alone.
TEST_F(NoexecPidns, ParentNamespace_Unaffected)
{
	ASSERT_EQ(in_pidns(2, [] { return 0; }), 0);
	EXPECT_EQ(outcome(library_create("p", MFD_CLOEXEC | MFD_ALLOW_SEALING)),
	          "executable");
}

} // namespace
