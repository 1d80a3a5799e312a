// backend=native must behave exactly like the raw memfd_create() system
// call and fcntl(F_ADD_SEALS / F_GET_SEALS) of the running kernel.
#include "host_util.hpp"

#include <sys/mman.h>

#include <string>

namespace
{

using host::BackendGuard;
using host::result_of;

constexpr unsigned mfd_exec = MEMFD_COMPAT_MFD_EXEC;
constexpr unsigned mfd_noexec_seal = MEMFD_COMPAT_MFD_NOEXEC_SEAL;

// Same outcome (success, or the same errno) as the raw system call.
void expect_create_matches_syscall(const char *name, unsigned flags)
{
	SCOPED_TRACE(::testing::Message() << "flags=0x" << std::hex << flags);
	BackendGuard g{MEMFD_COMPAT_BACKEND_NATIVE};
	const int raw = result_of([&] { return host::raw_memfd_create(name, flags); });
	const int lib = result_of([&] { return memfd_compat_create(name, flags); });
	if (raw >= 0 && lib >= 0) {
		EXPECT_EQ(fcntl(lib, F_GET_SEALS), fcntl(raw, F_GET_SEALS));
		EXPECT_EQ(fcntl(lib, F_GETFD), fcntl(raw, F_GETFD));
		close(raw);
		close(lib);
		return;
	}
	EXPECT_EQ(lib, raw);
	if (raw >= 0)
		close(raw);
	if (lib >= 0)
		close(lib);
}

TEST(NativeBackend, Create_EveryFlagCombination_MatchesSyscall)
{
	for (unsigned flags = 0; flags < 0x20; ++flags)
		expect_create_matches_syscall("flags", flags);
}

TEST(NativeBackend, Create_UnknownFlags_EINVAL_LikeSyscall)
{
	expect_create_matches_syscall("unknown", 0x40);
	expect_create_matches_syscall("unknown", 0x80000000U);
	BackendGuard g{MEMFD_COMPAT_BACKEND_NATIVE};
	errno = 0;
	EXPECT_EQ(memfd_compat_create("unknown", 0x40), -1);
	EXPECT_EQ(errno, EINVAL);
}

TEST(NativeBackend, Create_Name249Ok_Name250EINVAL)
{
	BackendGuard g{MEMFD_COMPAT_BACKEND_NATIVE};
	const std::string ok(MEMFD_COMPAT_NAME_MAX, 'a');
	const std::string too_long(MEMFD_COMPAT_NAME_MAX + 1, 'a');
	const int fd = memfd_compat_create(ok.c_str(), MEMFD_COMPAT_MFD_CLOEXEC);
	EXPECT_GE(fd, 0);
	close(fd);
	errno = 0;
	EXPECT_EQ(memfd_compat_create(too_long.c_str(), MEMFD_COMPAT_MFD_CLOEXEC), -1);
	EXPECT_EQ(errno, EINVAL);
	expect_create_matches_syscall(too_long.c_str(), 0);
}

TEST(NativeBackend, Create_BadNamePointer_EFAULT)
{
	BackendGuard g{MEMFD_COMPAT_BACKEND_NATIVE};
	void *page = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(page, MAP_FAILED);
	errno = 0;
	EXPECT_EQ(memfd_compat_create(static_cast<const char *>(page), 0), -1);
	EXPECT_EQ(errno, EFAULT);
	munmap(page, 4096);
}

TEST(NativeBackend, Create_EmptyName_Ok)
{
	expect_create_matches_syscall("", MEMFD_COMPAT_MFD_CLOEXEC);
}

TEST(NativeBackend, Create_HugetlbWithSize_MatchesSyscall)
{
	// 2 MiB pages (log2 = 21); EINVAL or ENOENT without hugetlb pages.
	expect_create_matches_syscall(
	        "huge", MEMFD_COMPAT_MFD_HUGETLB | (21U << MEMFD_COMPAT_MFD_HUGE_SHIFT));
}

TEST(NativeBackend, Create_ExecAndNoexecTogether_MatchesSyscall)
{
	expect_create_matches_syscall("both", mfd_exec | mfd_noexec_seal);
}

TEST(NativeBackend, Create_IsNativeMemfd)
{
	BackendGuard g{MEMFD_COMPAT_BACKEND_NATIVE};
	const int fd = memfd_compat_create("native", MEMFD_COMPAT_MFD_ALLOW_SEALING);
	ASSERT_GE(fd, 0);
	char link[256] = {};
	ASSERT_GT(readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), link,
	                   sizeof(link) - 1),
	          0);
	EXPECT_STREQ(link, "/memfd:native (deleted)");
	EXPECT_EQ(fcntl(fd, F_GETFD), 0); // no MFD_CLOEXEC given
	close(fd);
}

class NativeSeals : public ::testing::Test
{
protected:
	void SetUp() override
	{
		fd_ = host::raw_memfd_create("seals", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		ASSERT_GE(fd_, 0);
	}
	void TearDown() override { close(fd_); }
	int fd_ = -1;
};

TEST_F(NativeSeals, GetSeals_MatchesFcntl)
{
	EXPECT_EQ(memfd_compat_get_seals(fd_), 0);
	ASSERT_EQ(fcntl(fd_, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK), 0);
	EXPECT_EQ(memfd_compat_get_seals(fd_), fcntl(fd_, F_GET_SEALS));
	EXPECT_EQ(memfd_compat_get_seals(fd_), F_SEAL_GROW | F_SEAL_SHRINK);
}

TEST_F(NativeSeals, AddSeals_VisibleToFcntl)
{
	ASSERT_EQ(memfd_compat_add_seals(fd_, MEMFD_COMPAT_SEAL_WRITE), 0);
	EXPECT_EQ(fcntl(fd_, F_GET_SEALS), F_SEAL_WRITE);
	errno = 0;
	EXPECT_EQ(write(fd_, "x", 1), -1);
	EXPECT_EQ(errno, EPERM);
}

TEST_F(NativeSeals, AddSeals_UnknownBits_EINVAL)
{
	errno = 0;
	EXPECT_EQ(memfd_compat_add_seals(fd_, 0x4000), -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_EQ(memfd_compat_get_seals(fd_), 0);
}

TEST_F(NativeSeals, AddSeals_AfterSealSeal_EPERM)
{
	ASSERT_EQ(memfd_compat_add_seals(fd_, MEMFD_COMPAT_SEAL_SEAL), 0);
	errno = 0;
	EXPECT_EQ(memfd_compat_add_seals(fd_, MEMFD_COMPAT_SEAL_GROW), -1);
	EXPECT_EQ(errno, EPERM);
}

TEST_F(NativeSeals, AddSeals_WriteWithSharedWritableMapping_EBUSY)
{
	ASSERT_EQ(ftruncate(fd_, 4096), 0);
	void *p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
	ASSERT_NE(p, MAP_FAILED);
	errno = 0;
	EXPECT_EQ(memfd_compat_add_seals(fd_, MEMFD_COMPAT_SEAL_WRITE |
	                                              MEMFD_COMPAT_SEAL_SHRINK),
	          -1);
	EXPECT_EQ(errno, EBUSY);
	EXPECT_EQ(memfd_compat_get_seals(fd_), 0);
	munmap(p, 4096);
}

TEST(NativeSealsNoSealing, AddSeals_WithoutAllowSealing_EPERM)
{
	BackendGuard g{MEMFD_COMPAT_BACKEND_NATIVE};
	const int fd = memfd_compat_create("nosealing", MEMFD_COMPAT_MFD_CLOEXEC);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(memfd_compat_get_seals(fd), F_SEAL_SEAL);
	errno = 0;
	EXPECT_EQ(memfd_compat_add_seals(fd, MEMFD_COMPAT_SEAL_WRITE), -1);
	EXPECT_EQ(errno, EPERM);
	close(fd);
}

} // namespace
