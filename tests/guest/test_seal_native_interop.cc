// Issue "seals": the module owns its seal state; the kernel's own memfd
// sealing (fcntl F_ADD_SEALS / F_GET_SEALS) must not apply to a module
// memfd. The kernel's field of the shmem inode stays F_SEAL_SEAL.
#include "guest_util.hpp"

namespace guest
{
namespace
{

class NativeInterop : public ModuleTest
{
};

TEST_F(NativeInterop, FcntlGetSeals_OnModuleMemfd_IsSealSeal)
{
	owned_fd m = make(MFD_CLOEXEC | MFD_ALLOW_SEALING);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_SEAL);
}

TEST_F(NativeInterop, FcntlAddSeals_OnModuleMemfd_EPERM)
{
	owned_fd m = make(MFD_CLOEXEC | MFD_ALLOW_SEALING);
	EXPECT_ERRNO(fcntl(m.get(), F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	EXPECT_EQ(ioctl(m.get(), MEMFD_COMPAT_IOC_GET_SEALS, 0), 0);
	EXPECT_EQ(pwrite(m.get(), "w", 1, 0), 1); // not sealed by the attempt
}

TEST_F(NativeInterop, ModuleSeals_InvisibleToFcntlGetSeals)
{
	owned_fd m = make(MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ASSERT_EQ(ioctl(m.get(), MEMFD_COMPAT_IOC_ADD_SEALS, F_SEAL_WRITE), 0);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_SEAL);
	EXPECT_ERRNO(pwrite(m.get(), "w", 1, 0), EPERM); // the module enforces
}

TEST_F(NativeInterop, SealIoctls_OnReopenedModuleMemfd_Work)
{
	owned_fd m = make(MFD_CLOEXEC | MFD_ALLOW_SEALING);
	owned_fd r{open(proc_path(m.get()).c_str(), O_RDWR | O_CLOEXEC)};
	ASSERT_TRUE(r) << std::strerror(errno);
	EXPECT_EQ(ioctl(r.get(), MEMFD_COMPAT_IOC_GET_SEALS, 0), 0);
	ASSERT_EQ(ioctl(r.get(), MEMFD_COMPAT_IOC_ADD_SEALS, F_SEAL_GROW), 0);
	EXPECT_EQ(ioctl(m.get(), MEMFD_COMPAT_IOC_GET_SEALS, 0), F_SEAL_GROW);
}

} // namespace
} // namespace guest
