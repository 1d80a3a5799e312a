// Issue "foundation": MEMFD_COMPAT_IOC_QUERY.
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

TEST_F(Query, Query_ApiVersionIs1)
{
	EXPECT_EQ(query().api_version, 1U);
}

TEST_F(Query, Query_SupportedFlags_BasicSetAndNothingUnknown)
{
	const memfd_compat_info info = query();
	EXPECT_EQ(info.supported_flags & (MFD_CLOEXEC | MFD_ALLOW_SEALING),
	          MFD_CLOEXEC | MFD_ALLOW_SEALING);
	EXPECT_EQ(info.supported_flags & ~known_flags, 0U);
}

TEST_F(Query, Query_SupportedSeals_BasicSetAndNothingUnknown)
{
	const memfd_compat_info info = query();
	constexpr unsigned basic = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW |
	                           F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
	EXPECT_EQ(info.supported_seals & basic, basic);
	EXPECT_EQ(info.supported_seals & ~known_seals, 0U);
}

TEST_F(Query, Query_ReservedZeroed)
{
	const memfd_compat_info info = query();
	for (unsigned r : info.reserved)
		EXPECT_EQ(r, 0U);
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
