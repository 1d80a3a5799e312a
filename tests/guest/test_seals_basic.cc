// Adding and reading seals.
#include "guest_util.hpp"

namespace guest
{
namespace
{

class Seals : public BackendTest
{
};
INSTANTIATE_BACKENDS(Seals);

TEST_P(Seals, GetSeals_WithoutAllowSealing_IsSealSeal)
{
	owned_fd m = make(MFD_CLOEXEC);
	EXPECT_EQ(get(m.get()), F_SEAL_SEAL);
}

TEST_P(Seals, AddSeals_WithoutAllowSealing_EPERM)
{
	owned_fd m = make(MFD_CLOEXEC);
	EXPECT_ERRNO(add(m.get(), F_SEAL_WRITE), EPERM);
	EXPECT_ERRNO(add(m.get(), F_SEAL_SEAL), EPERM);
	EXPECT_EQ(get(m.get()), F_SEAL_SEAL);
}

TEST_P(Seals, GetSeals_WithAllowSealing_StartsEmpty)
{
	owned_fd m = make(MFD_CLOEXEC | MFD_ALLOW_SEALING);
	EXPECT_EQ(get(m.get()), 0);
}

TEST_P(Seals, AddSeals_EachKnownSeal_Ok)
{
	for (unsigned s : {F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE, F_SEAL_FUTURE_WRITE,
	                   F_SEAL_SEAL}) {
		owned_fd m = make();
		EXPECT_EQ(add(m.get(), s), 0)
		        << "seal " << s << ": " << std::strerror(errno);
		EXPECT_EQ(get(m.get()), static_cast<int>(s));
	}
}

TEST_P(Seals, AddSeals_UnknownBits_EINVAL)
{
	owned_fd m = make();
	EXPECT_ERRNO(add(m.get(), 0x40), EINVAL);
	EXPECT_ERRNO(add(m.get(), 0x80000000U), EINVAL);
	EXPECT_ERRNO(add(m.get(), F_SEAL_GROW | 0x100), EINVAL);
	EXPECT_EQ(get(m.get()), 0); // nothing of a rejected call applied
}

TEST_P(Seals, AddSeals_Zero_OkAndNoChange)
{
	owned_fd m = make();
	EXPECT_EQ(add(m.get(), 0), 0);
	EXPECT_EQ(get(m.get()), 0);
}

TEST_P(Seals, AddSeals_AreCumulativeAndMonotonic)
{
	owned_fd m = make();
	ASSERT_EQ(add(m.get(), F_SEAL_GROW), 0);
	ASSERT_EQ(add(m.get(), F_SEAL_SHRINK), 0);
	ASSERT_EQ(add(m.get(), F_SEAL_GROW), 0); // again: no-op, no error
	EXPECT_EQ(get(m.get()), F_SEAL_GROW | F_SEAL_SHRINK);
}

TEST_P(Seals, AddSeals_AfterSealSeal_EPERM)
{
	owned_fd m = make();
	ASSERT_EQ(add(m.get(), F_SEAL_GROW | F_SEAL_SEAL), 0);
	EXPECT_ERRNO(add(m.get(), F_SEAL_SHRINK), EPERM);
	EXPECT_ERRNO(add(m.get(), F_SEAL_GROW), EPERM); // even a present one
	EXPECT_EQ(get(m.get()), F_SEAL_GROW | F_SEAL_SEAL);
}

TEST_P(Seals, AddSeals_ReadOnlyReopenedFd_EPERM)
{
	owned_fd m = make();
	owned_fd r{open(proc_path(m.get()).c_str(), O_RDONLY | O_CLOEXEC)};
	ASSERT_TRUE(r) << std::strerror(errno);
	EXPECT_ERRNO(add(r.get(), F_SEAL_GROW), EPERM);
	EXPECT_EQ(get(r.get()), 0); // reading the seals is allowed
	EXPECT_EQ(get(m.get()), 0);
}

TEST_P(Seals, AddSeals_BadFd_EBADF)
{
	EXPECT_ERRNO(add(-1, F_SEAL_GROW), EBADF);
	EXPECT_ERRNO(get(-1), EBADF);
}

TEST_P(Seals, Sealed_ReadStillWorks)
{
	owned_fd m = make_with("readable");
	ASSERT_EQ(add(m.get(), F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE),
	          0);
	EXPECT_EQ(pread_str(m.get(), 8, 0), "readable");
}

} // namespace
} // namespace guest
