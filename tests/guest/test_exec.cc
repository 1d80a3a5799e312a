// Executable memfds and the exec seal, the Linux 6.3+ semantics that the
// module gives every kernel, in three parts:
//
// 1. F_SEAL_EXEC, MFD_NOEXEC_SEAL and MFD_EXEC (suites SealExec,
//    SealExecRoute; native cases are skipped on kernels without them).
//    The seal bit lives in the kernel's own field, so plain
//    fcntl(F_GET_SEALS) shows it everywhere. Adding it: on a kernel whose
//    fcntl knows F_SEAL_EXEC (6.3+) every route works; before that, fcntl
//    refuses it with EINVAL on any memfd and it comes through the library
//    (memfd_compat_add_seals) or the raw ioctl, on module memfds only.
// 2. Running a memfd: fexecve of an executable memfd, EACCES for a
//    noexec-sealed one (Exec); the noexec policy as the module parameter
//    memfd_noexec (Policy).
// 3. The noexec policy of the caller's PID namespace (vm.memfd_noexec):
//    module memfds follow it as memfd_create does (NoexecPidns). Each case
//    runs in a child PID namespace, whose setting dies with it; native
//    memfd_create in the same process is the reference.
#include "guest_util.hpp"

#include <sched.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>

// --- 1. the exec seal

namespace guest
{
namespace
{

constexpr unsigned write_seals =
        F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;

mode_t mode_of(int fd)
{
	struct stat st {
	};
	EXPECT_EQ(fstat(fd, &st), 0);
	return st.st_mode & 07777;
}

// With F_SEAL_EXEC set on @fd (mode @mode): changing the exec bits fails
// with EPERM through fchmod and chmod of /proc/self/fd/N, here and in a
// process that received the descriptor over SCM_RIGHTS; the other bits
// may still change.
void expect_exec_bits_frozen(int fd, mode_t mode)
{
	const mode_t flipped = mode ^ 0111;
	const mode_t same_x = (mode & 0111) | 0600;
	EXPECT_ERRNO(fchmod(fd, flipped), EPERM);
	EXPECT_ERRNO(fchmod(fd, mode ^ 0100), EPERM);
	EXPECT_ERRNO(chmod(proc_path(fd).c_str(), flipped), EPERM);
	EXPECT_EQ(mode_of(fd), mode);

	// the receiver checks the seal with plain fcntl and tries both paths
	EXPECT_EQ(run_receiver(fd,
	                       [=](int got) {
		                       const int seals = fcntl(got, F_GET_SEALS);
		                       if (seals < 0 || !(seals & F_SEAL_EXEC))
			                       return 10;
		                       if (fchmod(got, flipped) != -1 || errno != EPERM)
			                       return 11;
		                       const std::string p = proc_path(got);
		                       if (chmod(p.c_str(), flipped) != -1 || errno != EPERM)
			                       return 12;
		                       struct stat st {
		                       };
		                       if (fstat(got, &st) != 0 || (st.st_mode & 07777) != mode)
			                       return 13;
		                       // bits other than x stay free
		                       if (fchmod(got, same_x) != 0)
			                       return 14;
		                       return chmod(p.c_str(), mode) == 0 ? 0 : 15;
	                       }),
	          0);
	EXPECT_EQ(mode_of(fd), mode);
}

class SealExec : public BackendTest
{
protected:
	void SetUp() override
	{
		BackendTest::SetUp();
		if (IsSkipped() || HasFatalFailure())
			return;
		SKIP_NATIVE_UNLESS(native_has_seal_exec(), "F_SEAL_EXEC");
	}
	mode_t mode(int fd) { return mode_of(fd); }
};
INSTANTIATE_BACKENDS(SealExec);

TEST_P(SealExec, NoexecSeal_SetsSealExecAndClearsExecBits)
{
	owned_fd m = make(MFD_CLOEXEC | MFD_NOEXEC_SEAL);
	EXPECT_EQ(get(m.get()), F_SEAL_EXEC);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_EXEC); // any program sees it
	EXPECT_EQ(mode(m.get()), 0666U);
}

TEST_P(SealExec, NoexecSeal_ImpliesAllowSealing)
{
	owned_fd m = make(MFD_CLOEXEC | MFD_NOEXEC_SEAL);
	EXPECT_EQ(add(m.get(), F_SEAL_GROW), 0) << std::strerror(errno);
	EXPECT_EQ(get(m.get()), F_SEAL_EXEC | F_SEAL_GROW);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_EXEC | F_SEAL_GROW);
}

TEST_P(SealExec, Exec_KeepsExecBits)
{
	owned_fd m = make(MFD_CLOEXEC | MFD_EXEC);
	EXPECT_EQ(mode(m.get()), 0777U);
	EXPECT_EQ(get(m.get()), F_SEAL_SEAL); // no MFD_ALLOW_SEALING
}

TEST_P(SealExec, Exec_WithAllowSealing_Unsealed)
{
	owned_fd m = make(MFD_CLOEXEC | MFD_EXEC | MFD_ALLOW_SEALING);
	EXPECT_EQ(mode(m.get()), 0777U);
	EXPECT_EQ(get(m.get()), 0);
}

TEST_P(SealExec, SealExec_OnExecutableFile_ImpliesWriteSeals)
{
	SKIP_UNLESS_SEAL_EXEC_ROUTE();
	// Upstream: sealing exec on a file with x bits makes it W^X at once.
	owned_fd m = make(MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ASSERT_EQ(add(m.get(), F_SEAL_EXEC), 0) << std::strerror(errno);
	EXPECT_EQ(get(m.get()), F_SEAL_EXEC | write_seals);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_EXEC | write_seals);
	EXPECT_ERRNO(pwrite(m.get(), "x", 1, 0), EPERM);
	EXPECT_ERRNO(ftruncate(m.get(), 1), EPERM);
}

TEST_P(SealExec, SealExec_OnNonExecutableFile_NoImpliedSeals)
{
	SKIP_UNLESS_SEAL_EXEC_ROUTE();
	owned_fd m = make(MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ASSERT_EQ(fchmod(m.get(), 0644), 0);
	ASSERT_EQ(add(m.get(), F_SEAL_EXEC), 0) << std::strerror(errno);
	EXPECT_EQ(get(m.get()), F_SEAL_EXEC);
	EXPECT_EQ(pwrite(m.get(), "x", 1, 0), 1);
	EXPECT_ERRNO(fchmod(m.get(), 0744), EPERM);
}

// The implied write seal needs what F_SEAL_WRITE needs: no writable
// shared mapping (EBUSY, nothing applied); without x bits nothing is
// implied and the mapping does not matter.
TEST_P(SealExec, SealExec_OnExecutableFileWithWritableMapping_EBUSY)
{
	SKIP_UNLESS_SEAL_EXEC_ROUTE();
	owned_fd m = make_with(std::string(page_size(), 'x'));
	void *p = mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, m.get(), 0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_ERRNO(add(m.get(), F_SEAL_EXEC), EBUSY);
	EXPECT_EQ(get(m.get()), 0);
	EXPECT_EQ(fchmod(m.get(), 0644), 0);
	EXPECT_EQ(add(m.get(), F_SEAL_EXEC), 0) << std::strerror(errno);
	EXPECT_EQ(get(m.get()), F_SEAL_EXEC);
	static_cast<char *>(p)[0] = 'w'; // the mapping still writes
	munmap(p, page_size());
	EXPECT_EQ(pread_str(m.get(), 1, 0), "w");
}

TEST_P(SealExec, SealExec_AfterSealSeal_EPERM)
{
	SKIP_UNLESS_SEAL_EXEC_ROUTE();
	owned_fd m = make(MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ASSERT_EQ(add(m.get(), F_SEAL_SEAL), 0);
	EXPECT_ERRNO(add(m.get(), F_SEAL_EXEC), EPERM);
	EXPECT_EQ(get(m.get()), F_SEAL_SEAL);
	EXPECT_EQ(fchmod(m.get(), 0666), 0);
}

TEST_P(SealExec, SealExec_FchmodChangingExecBits_EPERM)
{
	SKIP_UNLESS_SEAL_EXEC_ROUTE();
	owned_fd m = make(MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ASSERT_EQ(add(m.get(), F_SEAL_EXEC), 0) << std::strerror(errno);
	EXPECT_ERRNO(fchmod(m.get(), 0666), EPERM);
	EXPECT_ERRNO(fchmod(m.get(), 0677), EPERM);
	EXPECT_EQ(mode(m.get()), 0777U);
}

TEST_P(SealExec, SealExec_ChmodThroughProcAndReceiver_EPERM)
{
	SKIP_UNLESS_SEAL_EXEC_ROUTE();
	owned_fd m = make(MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ASSERT_EQ(add(m.get(), F_SEAL_EXEC), 0) << std::strerror(errno);
	expect_exec_bits_frozen(m.get(), 0777);
}

TEST_P(SealExec, SealExec_ReopenedFd_FchmodEPERM)
{
	SKIP_UNLESS_SEAL_EXEC_ROUTE();
	owned_fd m = make(MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ASSERT_EQ(add(m.get(), F_SEAL_EXEC), 0) << std::strerror(errno);
	owned_fd r{open(proc_path(m.get()).c_str(), O_RDONLY | O_CLOEXEC)};
	ASSERT_TRUE(r) << std::strerror(errno);
	EXPECT_EQ(fcntl(r.get(), F_GET_SEALS) & F_SEAL_EXEC, F_SEAL_EXEC);
	EXPECT_ERRNO(fchmod(r.get(), 0666), EPERM);
	EXPECT_EQ(mode(m.get()), 0777U);
}

TEST_P(SealExec, SealExec_FchmodKeepingExecBits_Ok)
{
	SKIP_UNLESS_SEAL_EXEC_ROUTE();
	owned_fd m = make(MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ASSERT_EQ(add(m.get(), F_SEAL_EXEC), 0) << std::strerror(errno);
	EXPECT_EQ(fchmod(m.get(), 0755), 0) << std::strerror(errno);
	EXPECT_EQ(mode(m.get()), 0755U);
}

TEST_P(SealExec, NoexecSeal_FchmodAddExec_EPERM)
{
	owned_fd m = make(MFD_CLOEXEC | MFD_NOEXEC_SEAL);
	EXPECT_ERRNO(fchmod(m.get(), 0755), EPERM);
	EXPECT_EQ(fchmod(m.get(), 0644), 0) << std::strerror(errno);
	EXPECT_EQ(mode(m.get()), 0644U);
}

TEST_P(SealExec, NoexecSeal_ChmodThroughProcAndReceiver_EPERM)
{
	owned_fd m = make(MFD_CLOEXEC | MFD_NOEXEC_SEAL);
	expect_exec_bits_frozen(m.get(), 0666);
}

TEST_P(SealExec, NoexecSeal_WritesAndSizeChangesStillAllowed)
{
	owned_fd m = make(MFD_CLOEXEC | MFD_NOEXEC_SEAL);
	EXPECT_EQ(pwrite(m.get(), "data", 4, 0), 4);
	EXPECT_EQ(ftruncate(m.get(), 8192), 0) << std::strerror(errno);
	EXPECT_EQ(ftruncate(m.get(), 2), 0) << std::strerror(errno);
	EXPECT_EQ(pread_str(m.get(), 2, 0), "da");
}

TEST_P(SealExec, WithoutSealExec_FchmodOk)
{
	owned_fd m = make(MFD_CLOEXEC | MFD_ALLOW_SEALING);
	EXPECT_EQ(fchmod(m.get(), 0600), 0);
	EXPECT_EQ(mode(m.get()), 0600U);
	EXPECT_EQ(chmod(proc_path(m.get()).c_str(), 0755), 0);
	EXPECT_EQ(mode(m.get()), 0755U);
}

// Each route to F_SEAL_EXEC, named, on the running kernel.
class SealExecRoute : public ModuleTest
{
protected:
	void TearDown() override { memfd_compat_set_backend(MEMFD_COMPAT_BACKEND_AUTO); }
};

// Before 6.3 the kernel's fcntl refuses F_SEAL_EXEC on any memfd, module
// memfds included, and nothing of the call is applied; from 6.3 it adds it.
TEST_F(SealExecRoute, Fcntl_OnModuleMemfd_KernelsAnswer)
{
	owned_fd m{library_create("fcntl", MFD_CLOEXEC | MFD_ALLOW_SEALING)};
	ASSERT_TRUE(m) << std::strerror(errno);
	if (fcntl_has_seal_exec()) {
		EXPECT_EQ(fcntl(m.get(), F_ADD_SEALS, F_SEAL_EXEC), 0) << std::strerror(errno);
		EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_EXEC | write_seals);
		expect_exec_bits_frozen(m.get(), 0777);
		return;
	}
	EXPECT_ERRNO(fcntl(m.get(), F_ADD_SEALS, F_SEAL_EXEC), EINVAL);
	EXPECT_ERRNO(fcntl(m.get(), F_ADD_SEALS, F_SEAL_EXEC | F_SEAL_GROW), EINVAL);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), 0);
	EXPECT_EQ(pwrite(m.get(), "w", 1, 0), 1);
	EXPECT_EQ(fchmod(m.get(), 0700), 0) << std::strerror(errno);
	EXPECT_EQ(mode_of(m.get()), 0700U);
}

TEST_F(SealExecRoute, Library_OnModuleMemfd_Adds)
{
	owned_fd m{library_create("lib", MFD_CLOEXEC | MFD_ALLOW_SEALING)};
	ASSERT_TRUE(m) << std::strerror(errno);
	ASSERT_EQ(memfd_compat_add_seals(m.get(), F_SEAL_EXEC), 0) << std::strerror(errno);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_EXEC | write_seals);
	EXPECT_EQ(memfd_compat_get_seals(m.get()), F_SEAL_EXEC | write_seals);
	EXPECT_ERRNO(pwrite(m.get(), "w", 1, 0), EPERM);
	expect_exec_bits_frozen(m.get(), 0777);
}

TEST_F(SealExecRoute, Library_WithOtherSeals_AddsAll)
{
	owned_fd m{library_create("lib", MFD_CLOEXEC | MFD_ALLOW_SEALING)};
	ASSERT_TRUE(m) << std::strerror(errno);
	ASSERT_EQ(fchmod(m.get(), 0600), 0);
	ASSERT_EQ(memfd_compat_add_seals(m.get(), F_SEAL_EXEC | F_SEAL_GROW | F_SEAL_SEAL), 0)
	        << std::strerror(errno);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_EXEC | F_SEAL_GROW | F_SEAL_SEAL);
	EXPECT_ERRNO(memfd_compat_add_seals(m.get(), F_SEAL_EXEC), EPERM);
	EXPECT_ERRNO(fchmod(m.get(), 0700), EPERM);
}

TEST_F(SealExecRoute, Ioctl_OnModuleMemfd_Adds)
{
	owned_fd m = make();
	ASSERT_EQ(module_add_seals(m.get(), F_SEAL_EXEC), 0) << std::strerror(errno);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_EXEC | write_seals);
	expect_exec_bits_frozen(m.get(), 0777);
}

TEST_F(SealExecRoute, Ioctl_OnModuleMemfdReceivedByAnotherProcess_Adds)
{
	// the sealer is not the creator: any holder of /dev/memfd may seal
	owned_fd m = make();
	ASSERT_EQ(fchmod(m.get(), 0644), 0);
	EXPECT_EQ(run_receiver(m.get(),
	                       [](int got) {
		                       const int dev = open(MEMFD_COMPAT_DEVICE,
		                                            O_RDWR | O_CLOEXEC);
		                       if (dev < 0)
			                       return 10;
		                       memfd_compat_seal_args args{};
		                       args.fd = got;
		                       args.seals = F_SEAL_EXEC;
		                       return ioctl(dev, MEMFD_COMPAT_IOC_ADD_SEALS, &args) == 0
		                                      ? 0
		                                      : 11;
	                       }),
	          0);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_EXEC);
	expect_exec_bits_frozen(m.get(), 0644);
}

// On a native memfd the ioctl answers as the kernel's fcntl: EINVAL
// before 6.3 (the kernel would not enforce the seal), success after.
TEST_F(SealExecRoute, Ioctl_OnNativeMemfd_LikeKernelsFcntl)
{
	owned_fd m{native_create("native", MFD_CLOEXEC | MFD_ALLOW_SEALING)};
	ASSERT_TRUE(m);
	if (fcntl_has_seal_exec()) {
		EXPECT_EQ(module_add_seals(m.get(), F_SEAL_EXEC), 0) << std::strerror(errno);
		EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_EXEC | write_seals);
		EXPECT_ERRNO(fchmod(m.get(), 0666), EPERM);
		return;
	}
	EXPECT_ERRNO(module_add_seals(m.get(), F_SEAL_EXEC), EINVAL);
	EXPECT_ERRNO(module_add_seals(m.get(), F_SEAL_EXEC | F_SEAL_GROW), EINVAL);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), 0);
	EXPECT_EQ(fchmod(m.get(), 0666), 0);
}

TEST_F(SealExecRoute, Library_OnNativeMemfd_LikeKernelsFcntl)
{
	owned_fd m{native_create("native", MFD_CLOEXEC | MFD_ALLOW_SEALING)};
	ASSERT_TRUE(m);
	if (fcntl_has_seal_exec()) {
		EXPECT_EQ(memfd_compat_add_seals(m.get(), F_SEAL_EXEC), 0);
		return;
	}
	EXPECT_ERRNO(memfd_compat_add_seals(m.get(), F_SEAL_EXEC), EINVAL);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), 0);
}

// The "native" backend: the library never uses the device; the kernel's
// answer stands.
TEST_F(SealExecRoute, LibraryNativeBackend_OnModuleMemfd_KernelsAnswer)
{
	owned_fd m = make();
	ASSERT_EQ(memfd_compat_set_backend(MEMFD_COMPAT_BACKEND_NATIVE), 0);
	if (fcntl_has_seal_exec()) {
		EXPECT_EQ(memfd_compat_add_seals(m.get(), F_SEAL_EXEC), 0);
		return;
	}
	EXPECT_ERRNO(memfd_compat_add_seals(m.get(), F_SEAL_EXEC), EINVAL);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), 0);
}

// MFD_NOEXEC_SEAL through the raw ioctl: plain fcntl sees the seal.
TEST_F(SealExecRoute, NoexecSealCreate_FcntlSeesSealExec)
{
	owned_fd m = make(MFD_CLOEXEC | MFD_NOEXEC_SEAL);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_EXEC);
	EXPECT_EQ(mode_of(m.get()), 0666U);
	EXPECT_EQ(run_receiver(m.get(),
	                       [](int got) {
		                       return fcntl(got, F_GET_SEALS) == F_SEAL_EXEC ? 0 : 10;
	                       }),
	          0);
}

} // namespace
} // namespace guest

// --- 2. running a memfd; the module parameter

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

// --- 3. the PID namespace's policy

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
