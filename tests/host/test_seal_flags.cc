// Typed seals and flags: values and bitwise operators.
#include <memfd_compat/memfd_compat.hpp>

#include <fcntl.h>
#include <linux/memfd.h>

#include <gtest/gtest.h>

namespace
{

namespace mc = memfd_compat;
using mc::flags;
using mc::seal;

static_assert(mc::to_underlying(seal::seal) == F_SEAL_SEAL);
static_assert(mc::to_underlying(seal::shrink) == F_SEAL_SHRINK);
static_assert(mc::to_underlying(seal::grow) == F_SEAL_GROW);
static_assert(mc::to_underlying(seal::write) == F_SEAL_WRITE);
static_assert(mc::to_underlying(seal::future_write) == F_SEAL_FUTURE_WRITE);
static_assert(mc::to_underlying(seal::exec) == 0x20);
static_assert(mc::to_underlying(flags::cloexec) == MFD_CLOEXEC);
static_assert(mc::to_underlying(flags::allow_sealing) == MFD_ALLOW_SEALING);
static_assert(mc::to_underlying(flags::hugetlb) == MFD_HUGETLB);
static_assert(mc::to_underlying(flags::noexec_seal) == 0x8);
static_assert(mc::to_underlying(flags::exec) == 0x10);
static_assert((seal::grow | seal::shrink) == seal(F_SEAL_GROW | F_SEAL_SHRINK));

TEST(SealFlags, Or_CombinesBits)
{
	constexpr seal s = seal::write | seal::grow | seal::shrink;
	EXPECT_EQ(mc::to_underlying(s),
	          unsigned(F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK));
}

TEST(SealFlags, And_MasksBits)
{
	constexpr seal s = seal::write | seal::grow;
	EXPECT_EQ(s & seal::grow, seal::grow);
	EXPECT_EQ(s & seal::shrink, seal::none);
}

TEST(SealFlags, XorAndNot_ToggleAndClear)
{
	seal s = seal::write | seal::grow;
	s ^= seal::grow;
	EXPECT_EQ(s, seal::write);
	s = (seal::write | seal::grow) & ~seal::write;
	EXPECT_EQ(s, seal::grow);
}

TEST(SealFlags, CompoundAssignment)
{
	seal s = seal::none;
	s |= seal::seal;
	s |= seal::exec;
	EXPECT_EQ(mc::to_underlying(s), 0x21U);
	s &= seal::exec;
	EXPECT_EQ(s, seal::exec);
}

TEST(SealFlags, AnyAndAll)
{
	constexpr seal s = seal::write | seal::grow;
	EXPECT_TRUE(mc::any(s));
	EXPECT_FALSE(mc::any(seal::none));
	EXPECT_TRUE(mc::any(s, seal::grow | seal::shrink));
	EXPECT_FALSE(mc::any(s, seal::shrink));
	EXPECT_TRUE(mc::all(s, seal::grow));
	EXPECT_FALSE(mc::all(s, seal::grow | seal::shrink));
}

TEST(CreateFlags, Or_CombinesBits)
{
	constexpr flags f = flags::cloexec | flags::allow_sealing;
	EXPECT_EQ(mc::to_underlying(f), unsigned(MFD_CLOEXEC | MFD_ALLOW_SEALING));
	EXPECT_TRUE(mc::all(f, flags::cloexec));
	EXPECT_FALSE(mc::any(f, flags::hugetlb));
}

} // namespace
