// Creating memfds, names, flags and argument checks.
#include "guest_util.hpp"

#include <climits>

namespace guest
{
namespace
{

class Create : public BackendTest
{
};
INSTANTIATE_BACKENDS(Create);

TEST_P(Create, ReturnsReadWriteRegularFile)
{
	owned_fd m = make(MFD_CLOEXEC, "plain");
	ASSERT_TRUE(m);
	EXPECT_EQ(fcntl(m.get(), F_GETFL) & O_ACCMODE, O_RDWR);
	struct stat st {
	};
	ASSERT_EQ(fstat(m.get(), &st), 0);
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(st.st_size, 0);
}

TEST_P(Create, DefaultModeIs0777)
{
	owned_fd m = make(MFD_CLOEXEC, "mode");
	struct stat st {
	};
	ASSERT_EQ(fstat(m.get(), &st), 0);
	EXPECT_EQ(st.st_mode & 07777, 0777U);
}

TEST_P(Create, Readlink_ShowsMemfdNameDeleted)
{
	owned_fd m = make(MFD_CLOEXEC, "hello-name");
	char buf[PATH_MAX] = {};
	ASSERT_GT(readlink(proc_path(m.get()).c_str(), buf, sizeof(buf) - 1), 0);
	EXPECT_STREQ(buf, "/memfd:hello-name (deleted)");
}

TEST_P(Create, Cloexec_SetsFdCloexec)
{
	owned_fd m = make(MFD_CLOEXEC);
	EXPECT_EQ(fcntl(m.get(), F_GETFD), FD_CLOEXEC);
}

TEST_P(Create, WithoutCloexec_FdCloexecClear)
{
	owned_fd m = make(0);
	EXPECT_EQ(fcntl(m.get(), F_GETFD), 0);
}

TEST_P(Create, AllowSealing_Accepted)
{
	owned_fd m = make(MFD_ALLOW_SEALING);
	EXPECT_TRUE(m);
	EXPECT_EQ(get(m.get()), 0);
}

TEST_P(Create, UnknownFlags_EINVAL)
{
	for (unsigned bit = 0x20; bit < (1U << 26); bit <<= 1) {
		SCOPED_TRACE(::testing::Message() << "flag bit 0x" << std::hex << bit);
		EXPECT_ERRNO(create(be(), "bad", bit), EINVAL);
	}
	EXPECT_ERRNO(create(be(), "bad", 0x80000000U), EINVAL);
}

TEST_P(Create, HugeSizeWithoutHugetlb_EINVAL)
{
	EXPECT_ERRNO(create(be(), "huge", 21U << 26), EINVAL);
}

TEST_P(Create, ExecAndNoexecSeal_EINVAL)
{
	SKIP_NATIVE_UNLESS(native_has_seal_exec(), "MFD_EXEC/MFD_NOEXEC_SEAL");
	EXPECT_ERRNO(create(be(), "both", MFD_EXEC | MFD_NOEXEC_SEAL), EINVAL);
}

TEST_P(Create, Name249Bytes_Ok)
{
	const std::string name(MEMFD_COMPAT_NAME_MAX, 'n');
	owned_fd m{create(be(), name.c_str(), MFD_CLOEXEC)};
	ASSERT_TRUE(m) << std::strerror(errno);
	char buf[PATH_MAX] = {};
	ASSERT_GT(readlink(proc_path(m.get()).c_str(), buf, sizeof(buf) - 1), 0);
	EXPECT_EQ(std::string(buf), "/memfd:" + name + " (deleted)");
}

TEST_P(Create, NameTooLong_EINVAL)
{
	const std::string name(MEMFD_COMPAT_NAME_MAX + 1, 'n');
	EXPECT_ERRNO(create(be(), name.c_str(), MFD_CLOEXEC), EINVAL);
	const std::string much_longer(8192, 'n');
	EXPECT_ERRNO(create(be(), much_longer.c_str(), MFD_CLOEXEC), EINVAL);
}

TEST_P(Create, NullName_EFAULT)
{
	EXPECT_ERRNO(create(be(), nullptr, MFD_CLOEXEC), EFAULT);
}

TEST_P(Create, BadNamePointer_EFAULT)
{
	void *page =
	        mmap(nullptr, page_size(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(page, MAP_FAILED);
	EXPECT_ERRNO(create(be(), static_cast<const char *>(page), MFD_CLOEXEC), EFAULT);
	munmap(page, page_size());
}

TEST_P(Create, NameRunningIntoUnmappedPage_EFAULT)
{
	// 10 bytes without a NUL at the end of a page, the next page unmapped.
	const std::size_t ps = page_size();
	char *area = static_cast<char *>(mmap(nullptr, 2 * ps, PROT_READ | PROT_WRITE,
	                                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	ASSERT_NE(area, MAP_FAILED);
	ASSERT_EQ(munmap(area + ps, ps), 0);
	std::memset(area + ps - 10, 'x', 10);
	EXPECT_ERRNO(create(be(), area + ps - 10, MFD_CLOEXEC), EFAULT);
	munmap(area, ps);
}

TEST_P(Create, EmptyName_Ok)
{
	owned_fd m{create(be(), "", MFD_CLOEXEC)};
	ASSERT_TRUE(m) << std::strerror(errno);
	char buf[PATH_MAX] = {};
	ASSERT_GT(readlink(proc_path(m.get()).c_str(), buf, sizeof(buf) - 1), 0);
	EXPECT_STREQ(buf, "/memfd: (deleted)");
}

TEST_P(Create, ManyAtOnce_DistinctFiles)
{
	owned_fd a = make();
	owned_fd b = make();
	struct stat sa {
	}, sb{};
	ASSERT_EQ(fstat(a.get(), &sa), 0);
	ASSERT_EQ(fstat(b.get(), &sb), 0);
	EXPECT_NE(sa.st_ino, sb.st_ino);
	ASSERT_EQ(pwrite(a.get(), "a", 1, 0), 1);
	EXPECT_EQ(file_size(b.get()), 0);
}

// Module only: the raw ioctl interface.
class CreateIoctl : public ModuleTest
{
};

TEST_F(CreateIoctl, ReturnsNewFd)
{
	memfd_compat_create_args args{};
	args.name = reinterpret_cast<std::uintptr_t>("raw");
	args.flags = MFD_CLOEXEC;
	const int fd = ioctl(device(), MEMFD_COMPAT_IOC_CREATE, &args);
	ASSERT_GE(fd, 0) << std::strerror(errno);
	owned_fd m{fd};
	EXPECT_NE(fd, device());
	// without MFD_ALLOW_SEALING, as natively: the kernel's fcntl sees SEAL
	EXPECT_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_SEAL);
	EXPECT_ERRNO(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
}

TEST_F(CreateIoctl, ReservedFieldNonzero_EINVAL)
{
	for (int i = 0; i < 5; ++i) {
		memfd_compat_create_args args{};
		args.name = reinterpret_cast<std::uintptr_t>("reserved");
		args.flags = MFD_CLOEXEC;
		args.reserved[i] = 1;
		SCOPED_TRACE(::testing::Message() << "reserved[" << i << "]");
		EXPECT_ERRNO(ioctl(device(), MEMFD_COMPAT_IOC_CREATE, &args), EINVAL);
	}
}

TEST_F(CreateIoctl, KernelAddressAsName_EFAULT)
{
	memfd_compat_create_args args{};
	args.name = 0xffff800000000000ULL; // kernel half: never a user pointer
	args.flags = MFD_CLOEXEC;
	EXPECT_ERRNO(ioctl(device(), MEMFD_COMPAT_IOC_CREATE, &args), EFAULT);
}

TEST_F(CreateIoctl, BadArgsPointer_EFAULT)
{
	EXPECT_ERRNO(ioctl(device(), MEMFD_COMPAT_IOC_CREATE, nullptr), EFAULT);
}

} // namespace
} // namespace guest
