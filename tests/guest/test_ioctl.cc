// The ioctls of /dev/memfd. MEMFD_COMPAT_IOC_ADD_SEALS is fcntl(F_ADD_SEALS)
// for the descriptor it names: every argument gets bad values here, and
// where fcntl has the same check, fcntl on the same descriptor is the spec.
// Ioctl numbers outside their object, and API version 1's seal ioctls on
// the memfd itself, give ENOTTY.
#include "guest_util.hpp"

#include <linux/magic.h>
#include <sys/socket.h>
#include <sys/vfs.h>

#include <climits>

namespace guest
{
namespace
{

constexpr unsigned long unknown_cmd = _IO(MEMFD_COMPAT_IOC_MAGIC, 0x7f);
// API version 1: ADD_SEALS and GET_SEALS, ioctls on the memfd itself.
constexpr unsigned long v1_add_seals = _IO(MEMFD_COMPAT_IOC_MAGIC, 0x02);
constexpr unsigned long v1_get_seals = _IO(MEMFD_COMPAT_IOC_MAGIC, 0x03);

class Ioctl : public ModuleTest
{
};

TEST_F(Ioctl, UnknownCommand_OnDevice_ENOTTY)
{
	EXPECT_ERRNO(ioctl(device(), unknown_cmd, 0), ENOTTY);
	EXPECT_ERRNO(ioctl(device(), _IO('X', 1), 0), ENOTTY);
	for (unsigned nr = 0x05; nr < 0x20; ++nr) {
		SCOPED_TRACE(::testing::Message() << "nr " << nr);
		EXPECT_ERRNO(ioctl(device(), _IO(MEMFD_COMPAT_IOC_MAGIC, nr), 0), ENOTTY);
	}
}

// ADD_SEALS's number with another size or direction is another command.
TEST_F(Ioctl, AddSealsNumberWithOtherSizeOrDirection_OnDevice_ENOTTY)
{
	memfd_compat_seal_args args{};
	owned_fd m = make();
	args.fd = m.get();
	args.seals = F_SEAL_GROW;
	for (unsigned long cmd :
	     {static_cast<unsigned long>(_IO(MEMFD_COMPAT_IOC_MAGIC, 0x04)),
	      static_cast<unsigned long>(_IOR(MEMFD_COMPAT_IOC_MAGIC, 0x04,
	                                      memfd_compat_seal_args)),
	      static_cast<unsigned long>(_IOWR(MEMFD_COMPAT_IOC_MAGIC, 0x04,
	                                       memfd_compat_seal_args)),
	      static_cast<unsigned long>(_IOW(MEMFD_COMPAT_IOC_MAGIC, 0x04, __u32)),
	      static_cast<unsigned long>(_IOW(MEMFD_COMPAT_IOC_MAGIC, 0x04, __u64[5]))}) {
		SCOPED_TRACE(::testing::Message() << "cmd 0x" << std::hex << cmd);
		EXPECT_ERRNO(ioctl(device(), cmd, &args), ENOTTY);
	}
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), 0);
}

TEST_F(Ioctl, UnknownCommand_OnModuleMemfd_ENOTTY)
{
	owned_fd m = make();
	EXPECT_ERRNO(ioctl(m.get(), unknown_cmd, 0), ENOTTY);
}

TEST_F(Ioctl, Version1SealIoctls_OnDevice_ENOTTY)
{
	EXPECT_ERRNO(ioctl(device(), v1_get_seals, 0), ENOTTY);
	EXPECT_ERRNO(ioctl(device(), v1_add_seals, F_SEAL_SEAL), ENOTTY);
}

TEST_F(Ioctl, Version1SealIoctls_OnModuleMemfd_ENOTTYAndNothingChanges)
{
	owned_fd m = make();
	EXPECT_ERRNO(ioctl(m.get(), v1_get_seals, 0), ENOTTY);
	EXPECT_ERRNO(ioctl(m.get(), v1_add_seals, F_SEAL_WRITE), ENOTTY);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), 0);
	EXPECT_EQ(pwrite(m.get(), "w", 1, 0), 1);
}

TEST_F(Ioctl, Version1SealIoctls_OnNativeMemfd_ENOTTY)
{
	owned_fd m{native_create("native", MFD_CLOEXEC | MFD_ALLOW_SEALING)};
	ASSERT_TRUE(m);
	EXPECT_ERRNO(ioctl(m.get(), v1_get_seals, 0), ENOTTY);
	EXPECT_ERRNO(ioctl(m.get(), v1_add_seals, F_SEAL_WRITE), ENOTTY);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), 0);
}

// A module memfd is a shmem file: the device's commands mean nothing there.
TEST_F(Ioctl, DeviceCommands_OnModuleMemfd_ENOTTY)
{
	owned_fd m = make();
	memfd_compat_create_args create{};
	create.name = reinterpret_cast<std::uintptr_t>("nested");
	EXPECT_ERRNO(ioctl(m.get(), MEMFD_COMPAT_IOC_CREATE, &create), ENOTTY);
	memfd_compat_info info{};
	EXPECT_ERRNO(ioctl(m.get(), MEMFD_COMPAT_IOC_QUERY, &info), ENOTTY);
	memfd_compat_seal_args seal{};
	seal.fd = m.get();
	seal.seals = F_SEAL_WRITE;
	EXPECT_ERRNO(ioctl(m.get(), MEMFD_COMPAT_IOC_ADD_SEALS, &seal), ENOTTY);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), 0);
}

// MEMFD_COMPAT_IOC_ADD_SEALS, argument by argument.
class AddSealsIoctl : public ModuleTest
{
protected:
	// A page of which @args's last @outside bytes lie in the next,
	// unmapped page.
	struct straddling {
		char *area = nullptr;
		memfd_compat_seal_args *args = nullptr;
	};
	straddling straddle(std::size_t outside)
	{
		const std::size_t ps = page_size();
		straddling s;
		s.area = static_cast<char *>(mmap(nullptr, 2 * ps, PROT_READ | PROT_WRITE,
		                                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
		EXPECT_NE(s.area, MAP_FAILED);
		EXPECT_EQ(munmap(s.area + ps, ps), 0);
		s.args = reinterpret_cast<memfd_compat_seal_args *>(
		        s.area + ps - (sizeof(memfd_compat_seal_args) - outside));
		return s;
	}

	// ioctl and fcntl(F_ADD_SEALS) on @fd both fail with @err.
	void expect_like_fcntl(int fd, unsigned seals, int err)
	{
		SCOPED_TRACE(::testing::Message()
		             << "fd " << fd << " seals 0x" << std::hex << seals);
		EXPECT_ERRNO(module_add_seals(fd, seals), err);
		EXPECT_ERRNO(fcntl(fd, F_ADD_SEALS, seals), err);
	}

	// ioctl and fcntl on @fd give the same failure; returns that errno.
	int expect_same_failure(int fd, unsigned seals)
	{
		SCOPED_TRACE(::testing::Message()
		             << "fd " << fd << " seals 0x" << std::hex << seals);
		const long by_fcntl = outcome_of([&] { return fcntl(fd, F_ADD_SEALS, seals); });
		const long by_ioctl = outcome_of([&] { return module_add_seals(fd, seals); });
		EXPECT_LT(by_fcntl, 0);
		EXPECT_EQ(by_ioctl, by_fcntl) << "ioctl: " << std::strerror(static_cast<int>(-by_ioctl))
		                              << ", fcntl: " << std::strerror(static_cast<int>(-by_fcntl));
		return static_cast<int>(-by_fcntl);
	}

	// A descriptor open for writing that is not a memfd: the ioctl fails
	// as fcntl does, with EPERM on a regular shmem file (tmpfs: its seal
	// field holds F_SEAL_SEAL), else EINVAL (no seals at all; device nodes
	// on tmpfs or devtmpfs have no shmem mapping).
	void expect_not_sealable(int fd)
	{
		struct statfs sfs {
		};
		ASSERT_EQ(fstatfs(fd, &sfs), 0);
		struct stat st {
		};
		ASSERT_EQ(fstat(fd, &st), 0);
		const bool shmem = sfs.f_type == TMPFS_MAGIC && S_ISREG(st.st_mode);
		const int err = expect_same_failure(fd, F_SEAL_WRITE);
		EXPECT_EQ(err, shmem ? EPERM : EINVAL)
		        << "fd " << fd << " on file system 0x" << std::hex << sfs.f_type
		        << ", mode 0" << std::oct << st.st_mode;
		EXPECT_EQ(expect_same_failure(fd, 0), err);
	}
};

TEST_F(AddSealsIoctl, ReturnsZero_SealVisibleToFcntl)
{
	owned_fd m = make();
	errno = 0;
	EXPECT_EQ(module_add_seals(m.get(), F_SEAL_GROW), 0) << std::strerror(errno);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_GROW);
	EXPECT_ERRNO(pwrite(m.get(), "g", 1, 0), EPERM);
}

TEST_F(AddSealsIoctl, ArgsInReadOnlyPage_Ok)
{
	owned_fd m = make();
	void *page = mmap(nullptr, page_size(), PROT_READ | PROT_WRITE,
	                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(page, MAP_FAILED);
	auto *args = static_cast<memfd_compat_seal_args *>(page);
	args->fd = m.get();
	args->seals = F_SEAL_SHRINK;
	ASSERT_EQ(mprotect(page, page_size(), PROT_READ), 0);
	EXPECT_EQ(module_add_seals_raw(args), 0) << std::strerror(errno);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_SHRINK);
	munmap(page, page_size());
}

TEST_F(AddSealsIoctl, NullArgs_EFAULT)
{
	EXPECT_ERRNO(module_add_seals_raw(nullptr), EFAULT);
}

TEST_F(AddSealsIoctl, UnmappedArgs_EFAULT)
{
	void *page = mmap(nullptr, page_size(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(page, MAP_FAILED);
	EXPECT_ERRNO(module_add_seals_raw(page), EFAULT);
	ASSERT_EQ(munmap(page, page_size()), 0);
	EXPECT_ERRNO(module_add_seals_raw(page), EFAULT);
}

TEST_F(AddSealsIoctl, KernelAddressAsArgs_EFAULT)
{
	EXPECT_ERRNO(module_add_seals_raw(reinterpret_cast<void *>(0xffff800000000000ULL)),
	             EFAULT);
	EXPECT_ERRNO(module_add_seals_raw(reinterpret_cast<void *>(0xffffffff81000000ULL)),
	             EFAULT);
}

// A valid fd and seals, the struct's tail in an unmapped page: EFAULT,
// and nothing of it applied.
TEST_F(AddSealsIoctl, ArgsRunningIntoUnmappedPage_EFAULTAndNothingApplied)
{
	owned_fd m = make();
	for (std::size_t outside : {std::size_t{4}, std::size_t{12},
	                            sizeof(memfd_compat_seal_args) - 8}) {
		SCOPED_TRACE(::testing::Message() << outside << " bytes outside");
		straddling s = straddle(outside);
		ASSERT_NE(s.area, MAP_FAILED);
		s.args->fd = m.get();
		s.args->seals = F_SEAL_WRITE; // both fields are in the mapped page
		EXPECT_ERRNO(module_add_seals_raw(s.args), EFAULT);
		munmap(s.area, page_size());
	}
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), 0);
	EXPECT_EQ(pwrite(m.get(), "w", 1, 0), 1);
}

// Every flag but MEMFD_COMPAT_SEAL_ISOLATE_PINS (test_seal_isolate.cc).
TEST_F(AddSealsIoctl, UnknownFlags_EINVALAndNothingApplied)
{
	owned_fd m = make();
	for (unsigned bit = 0; bit < 32; ++bit) {
		if ((1U << bit) == MEMFD_COMPAT_SEAL_ISOLATE_PINS)
			continue;
		memfd_compat_seal_args args{};
		args.fd = m.get();
		args.seals = F_SEAL_GROW;
		args.flags = 1U << bit;
		SCOPED_TRACE(::testing::Message() << "flags 0x" << std::hex << args.flags);
		EXPECT_ERRNO(module_add_seals_raw(&args), EINVAL);
	}
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), 0);
}

TEST_F(AddSealsIoctl, ReservedNonzero_EINVALAndNothingApplied)
{
	owned_fd m = make();
	constexpr int n = sizeof(memfd_compat_seal_args::reserved) / sizeof(__u32);
	static_assert(n == 5);
	for (int i = 0; i < n; ++i) {
		for (__u32 v : {1U, 0x80000000U, 0xffffffffU}) {
			memfd_compat_seal_args args{};
			args.fd = m.get();
			args.seals = F_SEAL_GROW;
			args.reserved[i] = v;
			SCOPED_TRACE(::testing::Message()
			             << "reserved[" << i << "] = 0x" << std::hex << v);
			EXPECT_ERRNO(module_add_seals_raw(&args), EINVAL);
		}
	}
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), 0);
}

TEST_F(AddSealsIoctl, NegativeFd_EBADF)
{
	for (int fd : {-1, -2, -100, INT_MIN}) {
		SCOPED_TRACE(::testing::Message() << "fd " << fd);
		expect_like_fcntl(fd, F_SEAL_GROW, EBADF);
	}
}

TEST_F(AddSealsIoctl, ClosedOrHugeFd_EBADF)
{
	int closed;
	{
		owned_fd m = make();
		closed = m.get();
	}
	expect_like_fcntl(closed, F_SEAL_GROW, EBADF);
	expect_like_fcntl(INT_MAX, F_SEAL_GROW, EBADF);
	expect_like_fcntl(1 << 20, F_SEAL_GROW, EBADF);
}

TEST_F(AddSealsIoctl, OPathFd_EBADFAndNothingApplied)
{
	owned_fd m = make();
	owned_fd p{open(proc_path(m.get()).c_str(), O_PATH | O_CLOEXEC)};
	ASSERT_TRUE(p) << std::strerror(errno);
	expect_like_fcntl(p.get(), F_SEAL_GROW, EBADF);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), 0);
}

TEST_F(AddSealsIoctl, ReadOnlyReopen_EPERMAndNothingApplied)
{
	owned_fd m = make();
	owned_fd r{open(proc_path(m.get()).c_str(), O_RDONLY | O_CLOEXEC)};
	ASSERT_TRUE(r) << std::strerror(errno);
	expect_like_fcntl(r.get(), F_SEAL_GROW, EPERM);
	expect_like_fcntl(r.get(), 0, EPERM);
	// as fcntl: the descriptor is checked before the seal bits
	expect_like_fcntl(r.get(), 0x40, EPERM);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), 0);
	EXPECT_EQ(fcntl(r.get(), F_GET_SEALS), 0); // reading is allowed
}

TEST_F(AddSealsIoctl, WriteOnlyReopen_Ok)
{
	owned_fd m = make();
	owned_fd w{open(proc_path(m.get()).c_str(), O_WRONLY | O_CLOEXEC)};
	ASSERT_TRUE(w) << std::strerror(errno);
	EXPECT_EQ(module_add_seals(w.get(), F_SEAL_SHRINK), 0) << std::strerror(errno);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_SHRINK);
}

TEST_F(AddSealsIoctl, UnknownSealBits_EINVALAndNothingApplied)
{
	owned_fd m = make();
	for (unsigned bit = 6; bit < 32; ++bit) {
		SCOPED_TRACE(::testing::Message() << "bit " << bit);
		expect_like_fcntl(m.get(), (1U << bit) | F_SEAL_GROW, EINVAL);
	}
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), 0);
}

TEST_F(AddSealsIoctl, Zero_OkAndNothingApplied)
{
	owned_fd m = make();
	EXPECT_EQ(module_add_seals(m.get(), 0), 0) << std::strerror(errno);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), 0);
}

TEST_F(AddSealsIoctl, WithoutAllowSealing_EPERM)
{
	owned_fd m = make(MFD_CLOEXEC);
	expect_like_fcntl(m.get(), F_SEAL_GROW, EPERM);
	expect_like_fcntl(m.get(), 0, EPERM);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_SEAL);
}

TEST_F(AddSealsIoctl, AfterSealSeal_EPERM)
{
	owned_fd m = make();
	ASSERT_EQ(module_add_seals(m.get(), F_SEAL_SEAL), 0);
	expect_like_fcntl(m.get(), F_SEAL_GROW, EPERM);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_SEAL);
}

// Descriptors that are not memfds. The pipe's read end and a directory
// are not open for writing: EPERM, before anything else, as fcntl.
TEST_F(AddSealsIoctl, Pipe_LikeFcntl)
{
	int p[2];
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	owned_fd r{p[0]}, w{p[1]};
	expect_like_fcntl(r.get(), F_SEAL_WRITE, EPERM);
	expect_like_fcntl(w.get(), F_SEAL_WRITE, EINVAL);
	expect_like_fcntl(w.get(), 0, EINVAL);
	expect_not_sealable(w.get());
	// the pipe still works
	ASSERT_EQ(write(w.get(), "p", 1), 1);
	char c = 0;
	EXPECT_EQ(read(r.get(), &c, 1), 1);
	EXPECT_EQ(c, 'p');
}

TEST_F(AddSealsIoctl, Socket_LikeFcntl)
{
	int s[2];
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s), 0);
	owned_fd a{s[0]}, b{s[1]};
	expect_like_fcntl(a.get(), F_SEAL_WRITE, EINVAL);
}

TEST_F(AddSealsIoctl, CharacterDevices_LikeFcntl)
{
	expect_not_sealable(device());
	owned_fd null{open("/dev/null", O_RDWR | O_CLOEXEC)};
	ASSERT_TRUE(null);
	expect_not_sealable(null.get());
}

TEST_F(AddSealsIoctl, Directory_LikeFcntl)
{
	owned_fd d{open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
	ASSERT_TRUE(d);
	expect_like_fcntl(d.get(), F_SEAL_WRITE, EPERM);
}

// A regular file: on tmpfs (shmem) its seal field holds F_SEAL_SEAL, so
// fcntl gives EPERM; elsewhere it has no seals, EINVAL.
TEST_F(AddSealsIoctl, RegularFile_LikeFcntl)
{
	owned_fd f{temp_file()};
	ASSERT_TRUE(f);
	expect_not_sealable(f.get());
	EXPECT_EQ(pwrite(f.get(), "f", 1, 0), 1);

	owned_fd proc{open("/proc/self/comm", O_RDWR | O_CLOEXEC)};
	ASSERT_TRUE(proc) << std::strerror(errno);
	expect_like_fcntl(proc.get(), F_SEAL_WRITE, EINVAL);
}

// Native memfds get seals through the ioctl as through fcntl.
TEST_F(AddSealsIoctl, NativeMemfd_LikeFcntl)
{
	owned_fd m{native_create("native", MFD_CLOEXEC | MFD_ALLOW_SEALING)};
	ASSERT_TRUE(m);
	EXPECT_EQ(module_add_seals(m.get(), F_SEAL_SHRINK | F_SEAL_GROW), 0)
	        << std::strerror(errno);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW);
	EXPECT_ERRNO(ftruncate(m.get(), 4096), EPERM);
	expect_like_fcntl(m.get(), 0x40, EINVAL);

	ASSERT_EQ(ftruncate(m.get(), 0), 0);
	void *p = mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, m.get(), 0);
	ASSERT_NE(p, MAP_FAILED);
	expect_like_fcntl(m.get(), F_SEAL_WRITE, EBUSY);
	munmap(p, page_size());
	EXPECT_EQ(module_add_seals(m.get(), F_SEAL_WRITE | F_SEAL_SEAL), 0);
	expect_like_fcntl(m.get(), F_SEAL_GROW, EPERM);

	owned_fd unsealable{native_create("native", MFD_CLOEXEC)};
	ASSERT_TRUE(unsealable);
	expect_like_fcntl(unsealable.get(), F_SEAL_GROW, EPERM);
}

// A native hugetlbfs memfd has seals too (fcntl accepts them); the ioctl
// must answer as fcntl does.
TEST_F(AddSealsIoctl, NativeHugetlbMemfd_LikeFcntl)
{
	owned_fd a{native_create("huge", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB)};
	owned_fd b{native_create("huge", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB)};
	if (!a || !b)
		GTEST_SKIP() << "no native MFD_HUGETLB memfd: " << std::strerror(errno);
	const long by_fcntl = outcome_of([&] { return fcntl(a.get(), F_ADD_SEALS, F_SEAL_GROW); });
	const long by_ioctl = outcome_of([&] { return module_add_seals(b.get(), F_SEAL_GROW); });
	EXPECT_EQ(by_fcntl, 0) << std::strerror(static_cast<int>(-by_fcntl));
	EXPECT_EQ(by_ioctl, by_fcntl) << "ioctl: " << std::strerror(static_cast<int>(-by_ioctl));
	EXPECT_EQ(fcntl(b.get(), F_GET_SEALS), fcntl(a.get(), F_GET_SEALS));
}

} // namespace
} // namespace guest
