// Issue "seals": MFD_NOEXEC_SEAL, MFD_EXEC and F_SEAL_EXEC (Linux 6.3
// semantics; native cases are skipped on kernels without them).
#include "guest_util.hpp"

namespace guest
{
namespace
{

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
	mode_t mode(int fd)
	{
		struct stat st {
		};
		EXPECT_EQ(fstat(fd, &st), 0);
		return st.st_mode & 07777;
	}
};
INSTANTIATE_BACKENDS(SealExec);

TEST_P(SealExec, NoexecSeal_SetsSealExecAndClearsExecBits)
{
	owned_fd m = make(MFD_CLOEXEC | MFD_NOEXEC_SEAL);
	EXPECT_EQ(get(m.get()), F_SEAL_EXEC);
	EXPECT_EQ(mode(m.get()), 0666U);
}

TEST_P(SealExec, NoexecSeal_ImpliesAllowSealing)
{
	owned_fd m = make(MFD_CLOEXEC | MFD_NOEXEC_SEAL);
	EXPECT_EQ(add(m.get(), F_SEAL_GROW), 0) << std::strerror(errno);
	EXPECT_EQ(get(m.get()), F_SEAL_EXEC | F_SEAL_GROW);
}

TEST_P(SealExec, Exec_KeepsExecBits)
{
	owned_fd m = make(MFD_CLOEXEC | MFD_EXEC);
	EXPECT_EQ(mode(m.get()), 0777U);
	EXPECT_EQ(get(m.get()), F_SEAL_SEAL); // no MFD_ALLOW_SEALING
}

TEST_P(SealExec, SealExec_OnExecutableFile_ImpliesWriteSeals)
{
	// Upstream: sealing exec on a file with x bits makes it W^X at once.
	owned_fd m = make(MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ASSERT_EQ(add(m.get(), F_SEAL_EXEC), 0) << std::strerror(errno);
	EXPECT_EQ(get(m.get()), F_SEAL_EXEC | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
	                                F_SEAL_FUTURE_WRITE);
	EXPECT_ERRNO(pwrite(m.get(), "x", 1, 0), EPERM);
}

TEST_P(SealExec, SealExec_FchmodChangingExecBits_EPERM)
{
	owned_fd m = make(MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ASSERT_EQ(add(m.get(), F_SEAL_EXEC), 0) << std::strerror(errno);
	EXPECT_ERRNO(fchmod(m.get(), 0666), EPERM);
	EXPECT_ERRNO(fchmod(m.get(), 0677), EPERM);
	EXPECT_EQ(mode(m.get()), 0777U);
}

TEST_P(SealExec, SealExec_FchmodKeepingExecBits_Ok)
{
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

TEST_P(SealExec, NoexecSeal_WritesStillAllowed)
{
	owned_fd m = make(MFD_CLOEXEC | MFD_NOEXEC_SEAL);
	EXPECT_EQ(pwrite(m.get(), "data", 4, 0), 4);
}

TEST_P(SealExec, WithoutSealExec_FchmodOk)
{
	owned_fd m = make(MFD_CLOEXEC | MFD_ALLOW_SEALING);
	EXPECT_EQ(fchmod(m.get(), 0600), 0);
	EXPECT_EQ(mode(m.get()), 0600U);
}

} // namespace
} // namespace guest
