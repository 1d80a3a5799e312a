// The C++ interface: RAII ownership and error_code vs throwing overloads.
#include "host_util.hpp"

#include <memfd_compat/memfd_compat.hpp>

#include <sys/mman.h>

#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

namespace
{

namespace mc = memfd_compat;
using host::BackendGuard;
using host::fd_is_closed;
using host::fd_is_open;

static_assert(!std::is_copy_constructible_v<mc::memfd>);
static_assert(!std::is_copy_assignable_v<mc::memfd>);
static_assert(std::is_nothrow_move_constructible_v<mc::memfd>);
static_assert(std::is_nothrow_move_assignable_v<mc::memfd>);
static_assert(!std::is_convertible_v<mc::memfd, bool>); // explicit only
static_assert(!std::is_copy_constructible_v<mc::mapping>);
static_assert(std::is_nothrow_move_constructible_v<mc::mapping>);

class CxxApi : public ::testing::Test
{
protected:
	BackendGuard guard_{MEMFD_COMPAT_BACKEND_NATIVE};
};

TEST_F(CxxApi, Memfd_DefaultIsEmpty)
{
	mc::memfd m;
	EXPECT_FALSE(m);
	EXPECT_EQ(m.get(), -1);
}

TEST_F(CxxApi, Memfd_ClosesOnDestruction)
{
	int fd;
	{
		mc::memfd m = mc::create("raii");
		ASSERT_TRUE(m);
		fd = m.get();
		EXPECT_TRUE(fd_is_open(fd));
	}
	EXPECT_TRUE(fd_is_closed(fd));
}

TEST_F(CxxApi, Memfd_MoveConstructTransfersOwnership)
{
	mc::memfd a = mc::create("move");
	const int fd = a.get();
	mc::memfd b{std::move(a)};
	EXPECT_FALSE(a); // NOLINT(bugprone-use-after-move): moved-from is empty
	EXPECT_EQ(a.get(), -1);
	EXPECT_EQ(b.get(), fd);
	EXPECT_TRUE(fd_is_open(fd));
}

TEST_F(CxxApi, Memfd_MoveAssignClosesPreviousFd)
{
	mc::memfd a = mc::create("a");
	mc::memfd b = mc::create("b");
	const int fa = a.get();
	const int fb = b.get();
	b = std::move(a);
	EXPECT_TRUE(fd_is_closed(fb));
	EXPECT_EQ(b.get(), fa);
	EXPECT_TRUE(fd_is_open(fa));
}

TEST_F(CxxApi, Memfd_SelfMoveAssignKeepsFd)
{
	mc::memfd a = mc::create("self");
	const int fd = a.get();
	mc::memfd &alias = a;
	a = std::move(alias);
	EXPECT_EQ(a.get(), fd);
	EXPECT_TRUE(fd_is_open(fd));
}

TEST_F(CxxApi, Memfd_ReleaseGivesUpOwnership)
{
	int fd;
	{
		mc::memfd m = mc::create("release");
		fd = m.release();
		EXPECT_FALSE(m);
	}
	EXPECT_TRUE(fd_is_open(fd));
	close(fd);
}

TEST_F(CxxApi, Memfd_ResetClosesAndAdopts)
{
	mc::memfd m = mc::create("reset");
	const int old = m.get();
	const int other = host::raw_memfd_create("other", MFD_CLOEXEC);
	m.reset(other);
	EXPECT_TRUE(fd_is_closed(old));
	EXPECT_EQ(m.get(), other);
	m.reset();
	EXPECT_TRUE(fd_is_closed(other));
	EXPECT_FALSE(m);
}

TEST_F(CxxApi, Create_DefaultFlagsAreCloexec)
{
	mc::memfd m = mc::create("cloexec");
	EXPECT_EQ(fcntl(m.get(), F_GETFD), FD_CLOEXEC);
}

TEST_F(CxxApi, Create_ErrorCode_SuccessClearsEc)
{
	std::error_code ec = std::make_error_code(std::errc::io_error);
	mc::memfd m = mc::create("ec", mc::flags::cloexec, ec);
	EXPECT_FALSE(ec);
	EXPECT_TRUE(m);
}

TEST_F(CxxApi, Create_ErrorCode_NameTooLong_EINVAL)
{
	std::error_code ec;
	mc::memfd m = mc::create(std::string(250, 'n'), mc::flags::cloexec, ec);
	EXPECT_FALSE(m);
	EXPECT_EQ(ec, std::error_code(EINVAL, std::system_category()));
}

TEST_F(CxxApi, Create_ErrorCode_EmbeddedNul_EINVAL)
{
	std::error_code ec;
	mc::memfd m = mc::create(std::string_view("a\0b", 3), mc::flags::cloexec, ec);
	EXPECT_FALSE(m);
	EXPECT_EQ(ec, std::errc::invalid_argument);
}

TEST_F(CxxApi, Create_Throwing_UnknownFlag_SystemErrorEINVAL)
{
	try {
		(void)mc::create("bad", static_cast<mc::flags>(0x40));
		FAIL() << "no exception";
	} catch (const std::system_error &e) {
		EXPECT_EQ(e.code(), std::error_code(EINVAL, std::system_category()));
	}
}

TEST_F(CxxApi, Create_NameIsNotNulTerminatedView)
{
	const char buf[] = "abcdef";
	mc::memfd m = mc::create(std::string_view(buf, 3));
	char link[64] = {};
	ASSERT_GT(readlink(("/proc/self/fd/" + std::to_string(m.get())).c_str(), link,
	                   sizeof(link) - 1),
	          0);
	EXPECT_STREQ(link, "/memfd:abc (deleted)");
}

TEST_F(CxxApi, Seals_AddAndGet_Typed)
{
	mc::memfd m = mc::create("seals", mc::flags::cloexec | mc::flags::allow_sealing);
	EXPECT_EQ(mc::get_seals(m), mc::seal::none);
	mc::add_seals(m, mc::seal::grow | mc::seal::shrink);
	EXPECT_EQ(mc::get_seals(m), mc::seal::grow | mc::seal::shrink);
	EXPECT_EQ(mc::get_seals(m.get()), mc::seal::grow | mc::seal::shrink);
}

TEST_F(CxxApi, Seals_ErrorCode_WithoutAllowSealing_EPERM)
{
	mc::memfd m = mc::create("nosealing");
	std::error_code ec;
	mc::add_seals(m, mc::seal::write, ec);
	EXPECT_EQ(ec, std::error_code(EPERM, std::system_category()));
	EXPECT_EQ(mc::get_seals(m, ec), mc::seal::seal);
	EXPECT_FALSE(ec);
}

TEST_F(CxxApi, Seals_Throwing_AfterSealSeal_SystemErrorEPERM)
{
	mc::memfd m = mc::create("sealed", mc::flags::allow_sealing);
	mc::add_seals(m, mc::seal::seal);
	EXPECT_THROW(mc::add_seals(m, mc::seal::grow), std::system_error);
	try {
		mc::add_seals(m, mc::seal::grow);
	} catch (const std::system_error &e) {
		EXPECT_EQ(e.code().value(), EPERM);
	}
}

TEST_F(CxxApi, GetSeals_ErrorCode_BadFd_EBADFAndNone)
{
	std::error_code ec;
	EXPECT_EQ(mc::get_seals(-1, ec), mc::seal::none);
	EXPECT_EQ(ec, std::error_code(EBADF, std::system_category()));
	EXPECT_THROW((void)mc::get_seals(-1), std::system_error);
}

TEST_F(CxxApi, Query_WithoutDevice_ErrorCodeENODEV)
{
	if (host::device_present())
		GTEST_SKIP() << "device present";
	std::error_code ec;
	(void)mc::query(ec);
	EXPECT_EQ(ec, std::error_code(ENODEV, std::system_category()));
	EXPECT_THROW((void)mc::query(), std::system_error);
}

TEST_F(CxxApi, Mapping_SharedWritesVisibleThroughRead)
{
	mc::memfd m = mc::create("map");
	ASSERT_EQ(ftruncate(m.get(), 4096), 0);
	{
		mc::mapping map = mc::mapping::map(m.get(), 4096, PROT_READ | PROT_WRITE,
		                                   MAP_SHARED);
		ASSERT_TRUE(map);
		EXPECT_EQ(map.size(), 4096U);
		std::memcpy(map.data(), "hello", 5);
		EXPECT_EQ(map.bytes().size(), 4096U);
	}
	char buf[5];
	ASSERT_EQ(pread(m.get(), buf, 5, 0), 5);
	EXPECT_EQ(std::memcmp(buf, "hello", 5), 0);
}

TEST_F(CxxApi, Mapping_MoveAndResetUnmap)
{
	mc::memfd m = mc::create("map2");
	ASSERT_EQ(ftruncate(m.get(), 4096), 0);
	mc::mapping a = mc::mapping::map(m.get(), 4096, PROT_READ, MAP_SHARED);
	void *addr = a.data();
	mc::mapping b = std::move(a);
	EXPECT_FALSE(a); // NOLINT(bugprone-use-after-move)
	EXPECT_EQ(b.data(), addr);
	b.reset();
	EXPECT_FALSE(b);
	// The range is unmapped: msync on it fails with ENOMEM.
	errno = 0;
	EXPECT_EQ(msync(addr, 4096, MS_ASYNC), -1);
	EXPECT_EQ(errno, ENOMEM);
}

TEST_F(CxxApi, Mapping_ErrorCode_BadFd_EBADF)
{
	std::error_code ec;
	mc::mapping map = mc::mapping::map(-1, 4096, PROT_READ, MAP_SHARED, 0, ec);
	EXPECT_FALSE(map);
	EXPECT_EQ(ec, std::error_code(EBADF, std::system_category()));
}

} // namespace
