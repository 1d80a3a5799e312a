// MEMFD_COMPAT_IOC_QUERY.
#include "guest_util.hpp"

namespace guest
{
namespace
{

constexpr unsigned known_flags =
        MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC;
constexpr unsigned known_seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW |
                                 F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_EXEC;

class Query : public ModuleTest
{
protected:
	memfd_compat_info query()
	{
		memfd_compat_info info;
		std::memset(&info, 0xa5, sizeof(info)); // the module must zero it
		EXPECT_EQ(ioctl(device(), MEMFD_COMPAT_IOC_QUERY, &info), 0)
		        << std::strerror(errno);
		return info;
	}
};

TEST_F(Query, Query_ApiVersionIs2)
{
	EXPECT_EQ(query().api_version, 2U);
	EXPECT_EQ(query().api_version, static_cast<unsigned>(MEMFD_COMPAT_API_VERSION));
}

TEST_F(Query, Query_SupportedFlags_BasicSetAndNothingUnknown)
{
	const memfd_compat_info info = query();
	EXPECT_EQ(info.supported_flags & (MFD_CLOEXEC | MFD_ALLOW_SEALING),
	          MFD_CLOEXEC | MFD_ALLOW_SEALING);
	EXPECT_EQ(info.supported_flags & ~known_flags, 0U);
}

// Every seal, F_SEAL_EXEC included, on every kernel.
TEST_F(Query, Query_SupportedSeals_AllSix)
{
	EXPECT_EQ(query().supported_seals, known_seals);
	EXPECT_EQ(known_seals, 0x3fU);
}

// fcntl_seals is what the running kernel's own fcntl(F_ADD_SEALS) accepts,
// probed on a native memfd: 0x3f from Linux 6.3, 0x1f before.
TEST_F(Query, Query_FcntlSeals_WhatTheKernelsFcntlAccepts)
{
	const memfd_compat_info info = query();
	owned_fd probe{native_create("probe", MFD_CLOEXEC | MFD_ALLOW_SEALING)};
	ASSERT_TRUE(probe);
	errno = 0;
	const int ret = fcntl(probe.get(), F_ADD_SEALS, F_SEAL_EXEC);
	ASSERT_TRUE(ret == 0 || errno == EINVAL) << std::strerror(errno);
	const unsigned expected = ret == 0 ? 0x3fU : 0x1fU;
	EXPECT_EQ(info.fcntl_seals, expected);
	EXPECT_EQ(info.fcntl_seals, fcntl_seals());
	EXPECT_EQ(info.fcntl_seals & ~info.supported_seals, 0U);
}

// Each bit of fcntl_seals is accepted by fcntl on a module memfd; each
// other supported bit is refused by fcntl (EINVAL) and accepted by the
// ioctl.
TEST_F(Query, Query_FcntlSeals_HoldOnModuleMemfds)
{
	const memfd_compat_info info = query();
	for (unsigned bit = 1; bit <= 0x20; bit <<= 1) {
		SCOPED_TRACE(::testing::Message() << "seal 0x" << std::hex << bit);
		owned_fd m = make();
		if (info.fcntl_seals & bit) {
			EXPECT_EQ(fcntl(m.get(), F_ADD_SEALS, bit), 0) << std::strerror(errno);
		} else {
			EXPECT_ERRNO(fcntl(m.get(), F_ADD_SEALS, bit), EINVAL);
			EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), 0);
			EXPECT_EQ(module_add_seals(m.get(), bit), 0) << std::strerror(errno);
		}
		EXPECT_EQ(fcntl(m.get(), F_GET_SEALS) & bit, bit);
	}
}

TEST_F(Query, Query_ReservedZeroed)
{
	const memfd_compat_info info = query();
	static_assert(sizeof(info.reserved) == 3 * sizeof(__u32));
	static_assert(sizeof(info) == 8 * sizeof(__u32), "ABI: the size of API 2");
	for (unsigned r : info.reserved)
		EXPECT_EQ(r, 0U);
}

// seal_flags (reserved before) lists the ADD_SEALS flags: exactly one.
TEST_F(Query, Query_SealFlags_IsolatePins)
{
	EXPECT_EQ(query().seal_flags, MEMFD_COMPAT_SEAL_ISOLATE_PINS);
	EXPECT_EQ(MEMFD_COMPAT_SEAL_ISOLATE_PINS, 0x1U);
}

TEST_F(Query, Query_SupportedFlagsAreAccepted)
{
	const memfd_compat_info info = query();
	for (unsigned flag :
	     {MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_NOEXEC_SEAL, MFD_EXEC}) {
		if (!(info.supported_flags & flag))
			continue;
		owned_fd m{module_create("flag", flag)};
		EXPECT_TRUE(m) << "flag 0x" << std::hex << flag << ": "
		               << std::strerror(errno);
	}
}

TEST_F(Query, Query_BadPointer_EFAULT)
{
	EXPECT_ERRNO(ioctl(device(), MEMFD_COMPAT_IOC_QUERY, nullptr), EFAULT);
}

} // namespace
} // namespace guest
