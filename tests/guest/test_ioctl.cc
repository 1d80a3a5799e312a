// Issue "foundation": ioctl commands outside their object give ENOTTY.
#include "guest_util.hpp"

#include <sys/socket.h>

namespace guest
{
namespace
{

constexpr unsigned long unknown_cmd = _IO(MEMFD_COMPAT_IOC_MAGIC, 0x7f);

class Ioctl : public ModuleTest
{
};

TEST_F(Ioctl, UnknownCommand_OnDevice_ENOTTY)
{
	EXPECT_ERRNO(ioctl(device(), unknown_cmd, 0), ENOTTY);
	EXPECT_ERRNO(ioctl(device(), _IO('X', 1), 0), ENOTTY);
}

TEST_F(Ioctl, UnknownCommand_OnModuleMemfd_ENOTTY)
{
	owned_fd m = make();
	EXPECT_ERRNO(ioctl(m.get(), unknown_cmd, 0), ENOTTY);
}

TEST_F(Ioctl, CreateCommand_OnModuleMemfd_ENOTTY)
{
	owned_fd m = make();
	memfd_compat_create_args args{};
	args.name = reinterpret_cast<std::uintptr_t>("nested");
	EXPECT_ERRNO(ioctl(m.get(), MEMFD_COMPAT_IOC_CREATE, &args), ENOTTY);
}

TEST_F(Ioctl, SealCommands_OnDevice_ENOTTY)
{
	EXPECT_ERRNO(ioctl(device(), MEMFD_COMPAT_IOC_GET_SEALS, 0), ENOTTY);
	EXPECT_ERRNO(ioctl(device(), MEMFD_COMPAT_IOC_ADD_SEALS, F_SEAL_SEAL), ENOTTY);
}

// These need no module: the seal ioctls on anything else give ENOTTY,
// which is what the library's fallback to fcntl() relies on.
void expect_seal_ioctls_enotty(int fd)
{
	EXPECT_ERRNO(ioctl(fd, MEMFD_COMPAT_IOC_GET_SEALS, 0), ENOTTY);
	EXPECT_ERRNO(ioctl(fd, MEMFD_COMPAT_IOC_ADD_SEALS, F_SEAL_SEAL), ENOTTY);
}

TEST(SealIoctlElsewhere, SealIoctls_OnNativeMemfd_ENOTTY)
{
	owned_fd m{native_create("native", MFD_CLOEXEC | MFD_ALLOW_SEALING)};
	ASSERT_TRUE(m);
	expect_seal_ioctls_enotty(m.get());
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), 0); // nothing was added
}

TEST(SealIoctlElsewhere, SealIoctls_OnRegularFile_ENOTTY)
{
	owned_fd f{temp_file()};
	ASSERT_TRUE(f);
	expect_seal_ioctls_enotty(f.get());
}

TEST(SealIoctlElsewhere, SealIoctls_OnPipe_ENOTTY)
{
	int p[2];
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	expect_seal_ioctls_enotty(p[0]);
	expect_seal_ioctls_enotty(p[1]);
	close(p[0]);
	close(p[1]);
}

} // namespace
} // namespace guest
