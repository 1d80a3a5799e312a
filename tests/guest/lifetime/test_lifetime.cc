// Module lifetime: rmmod is refused while anything can still reach a
// module memfd (an fd, a mapping, an fd in flight in a UNIX socket, a
// /proc re-open) and succeeds once all are gone; load/unload cycles leave
// nothing behind. A binary of its own: it unloads and reloads the module
// under the other suites' feet. Runs in the guest as root with the module
// loaded from MEMFD_KO (default /lib/modules/memfd_compat.ko).
#include <memfd_compat/uapi.h>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "../guest_util.hpp"

namespace {

const char *ko_path()
{
	const char *p = std::getenv("MEMFD_KO");
	return p ? p : "/lib/modules/memfd_compat.ko";
}

int unload()
{
	return static_cast<int>(syscall(SYS_delete_module, "memfd_compat",
					O_NONBLOCK));
}

int load()
{
	const int fd = open(ko_path(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	const int ret = static_cast<int>(syscall(SYS_finit_module, fd, "", 0));
	const int err = errno;
	close(fd);
	errno = err;
	return ret;
}

bool loaded()
{
	return access("/sys/module/memfd_compat", F_OK) == 0;
}

// Creates a module memfd without keeping /dev/memfd open (an open device
// pins the module too).
int create(unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING)
{
	const int dev = open(MEMFD_COMPAT_DEVICE, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -1;
	memfd_compat_create_args args{};
	args.name = reinterpret_cast<std::uintptr_t>("lifetime");
	args.flags = flags;
	const int fd = ioctl(dev, MEMFD_COMPAT_IOC_CREATE, &args);
	close(dev);
	return fd;
}

class Lifetime : public ::testing::Test {
protected:
	void SetUp() override
	{
		if (!loaded()) {
			ASSERT_EQ(load(), 0) << std::strerror(errno);
		}
	}
	// Leave the module loaded for whatever runs next.
	void TearDown() override
	{
		if (!loaded()) {
			EXPECT_EQ(load(), 0) << std::strerror(errno);
		}
	}

	void expect_unload_refused()
	{
		errno = 0;
		EXPECT_EQ(unload(), -1);
		EXPECT_EQ(errno, EWOULDBLOCK) << std::strerror(errno);
		EXPECT_TRUE(loaded());
	}

	void expect_unload_ok()
	{
		EXPECT_EQ(unload(), 0) << std::strerror(errno);
		EXPECT_FALSE(loaded());
	}
};

TEST_F(Lifetime, OpenMemfd_RmmodRefusedUntilClosed)
{
	const int fd = create();
	ASSERT_GE(fd, 0) << std::strerror(errno);
	expect_unload_refused();
	close(fd);
	expect_unload_ok();
}

TEST_F(Lifetime, MappingWithoutFd_RmmodRefusedUntilUnmapped)
{
	const int fd = create();
	ASSERT_GE(fd, 0);
	ASSERT_EQ(ftruncate(fd, 8192), 0);
	void *p = mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(p, MAP_FAILED);
	close(fd);
	static_cast<char *>(p)[0] = 'x';
	expect_unload_refused();
	ASSERT_EQ(munmap(p, 8192), 0);
	expect_unload_ok();
}

TEST_F(Lifetime, FdInFlightInUnixSocket_RmmodRefusedUntilReceived)
{
	int sv[2];
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	int fd = create();
	ASSERT_GE(fd, 0);

	ASSERT_EQ(guest::send_fd(sv[0], fd), 0);
	close(fd);

	expect_unload_refused(); // only the socket queue holds the file

	fd = guest::recv_fd(sv[1]);
	ASSERT_GE(fd, 0);
	close(fd);
	close(sv[0]);
	close(sv[1]);
	expect_unload_ok();
}

TEST_F(Lifetime, ProcReopenOnly_RmmodRefusedUntilClosed)
{
	const int fd = create();
	ASSERT_GE(fd, 0);
	const std::string path = "/proc/self/fd/" + std::to_string(fd);
	const int again = open(path.c_str(), O_RDWR | O_CLOEXEC);
	ASSERT_GE(again, 0) << std::strerror(errno);
	close(fd);
	expect_unload_refused();
	// the re-opened file still carries the seal state
	EXPECT_EQ(ioctl(again, MEMFD_COMPAT_IOC_ADD_SEALS, 0x8UL /* WRITE */), 0);
	EXPECT_EQ(write(again, "x", 1), -1);
	EXPECT_EQ(errno, EPERM);
	close(again);
	expect_unload_ok();
}

TEST_F(Lifetime, OpenDevice_RmmodRefusedUntilClosed)
{
	const int dev = open(MEMFD_COMPAT_DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_GE(dev, 0);
	expect_unload_refused();
	close(dev);
	expect_unload_ok();
}

// 100 cycles, each creating, using, sealing and freeing memfds.
TEST_F(Lifetime, LoadUnload100Times_WithMemfdsInBetween)
{
	for (int i = 0; i < 100; i++) {
		if (!loaded()) {
			ASSERT_EQ(load(), 0) << "cycle " << i << ": "
					     << std::strerror(errno);
		}
		for (int j = 0; j < 4; j++) {
			const int fd = create();
			ASSERT_GE(fd, 0) << "cycle " << i;
			ASSERT_EQ(pwrite(fd, "data", 4, 4096 * j), 4);
			void *p = mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0);
			ASSERT_NE(p, MAP_FAILED);
			munmap(p, 4096);
			EXPECT_EQ(ioctl(fd, MEMFD_COMPAT_IOC_ADD_SEALS, 0xfUL), 0);
			close(fd);
		}
		ASSERT_EQ(unload(), 0) << "cycle " << i << ": "
				       << std::strerror(errno);
	}
}

} // namespace
