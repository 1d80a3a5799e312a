// udmabuf, an in-kernel receiver of memfds that is not ours: UDMABUF_CREATE
// (drivers/dma-buf/udmabuf.c) turns a range of a memfd into a dma-buf. It
// takes only shmem (or hugetlbfs) files whose seals, read through the
// kernel's own memfd_fcntl(F_GET_SEALS), include F_SEAL_SHRINK and exclude
// F_SEAL_WRITE and F_SEAL_FUTURE_WRITE (else EINVAL), with offset and size
// page-aligned and size non-zero (else EINVAL), and pins the pages.
//
// A module memfd must be taken and refused exactly as a native memfd with
// the same seals: every case runs on the four backends and compares with a
// native memfd made alike (the reference). Debian builds udmabuf into 6.12
// (/dev/udmabuf) and not into 6.1: there every case is skipped, visibly.
#include "guest_util.hpp"

#include <linux/udmabuf.h>

namespace guest
{
namespace
{

constexpr std::size_t kPages = 4;

int udmabuf_device()
{
	static const int fd = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	return fd;
}

// UDMABUF_CREATE of [@offset, @offset + @size) of @memfd: the dma-buf fd,
// or -1 with errno.
int create_dmabuf(int memfd, std::uint64_t offset, std::uint64_t size)
{
	udmabuf_create args{};
	args.memfd = static_cast<std::uint32_t>(memfd);
	args.flags = UDMABUF_FLAGS_CLOEXEC;
	args.offset = offset;
	args.size = size;
	return ioctl(udmabuf_device(), UDMABUF_CREATE, &args);
}

// The outcome of a call: 0 for success, else its errno. (Call it with the
// result already stored: the order in which arguments are evaluated is
// unspecified, so errno could be read before the call.)
int outcome(int ret, int err)
{
	return ret >= 0 ? 0 : err;
}

std::string page_pattern(std::size_t page)
{
	return std::string(page_size(), static_cast<char>('A' + page));
}

class Udmabuf : public BackendTest
{
protected:
	void SetUp() override
	{
		BackendTest::SetUp();
		if (IsSkipped() || HasFatalFailure())
			return;
		if (udmabuf_device() < 0)
			GTEST_SKIP() << "/dev/udmabuf: " << std::strerror(errno)
				     << ": the running kernel has no udmabuf (CONFIG_UDMABUF; "
					"Debian builds it into 6.12, not into 6.1)";
	}

	// A sealable memfd of backend @b, kPages pages, page i filled with
	// 'A' + i, then sealed with @seals (through @b's route).
	owned_fd filled(backend b, unsigned seals,
			unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING)
	{
		owned_fd m{create(b, "udmabuf", flags)};
		EXPECT_TRUE(m) << "create: " << std::strerror(errno);
		if (!m)
			return m;
		for (std::size_t i = 0; i < kPages; i++) {
			const std::string p = page_pattern(i);
			EXPECT_EQ(pwrite(m.get(), p.data(), p.size(),
					 static_cast<off_t>(i * page_size())),
				  static_cast<ssize_t>(p.size()));
		}
		if (seals) {
			EXPECT_EQ(add_seals(b, m.get(), seals), 0)
				<< "seals " << seals << ": " << std::strerror(errno);
		}
		return m;
	}

	// UDMABUF_CREATE on this backend's memfd and on a native one made
	// alike: both must give @want (0 or an errno).
	void expect_create(unsigned seals, std::uint64_t offset, std::uint64_t size,
			   int want, unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING)
	{
		SCOPED_TRACE("seals " + std::to_string(seals) + ", offset " +
			     std::to_string(offset) + ", size " + std::to_string(size));
		owned_fd native = filled(backend::native, seals, flags);
		owned_fd ours = filled(be(), seals, flags);
		ASSERT_TRUE(native && ours);
		ASSERT_EQ(fcntl(ours.get(), F_GET_SEALS), fcntl(native.get(), F_GET_SEALS))
			<< "the kernel's seal field differs before the call";
		errno = 0;
		owned_fd ref{create_dmabuf(native.get(), offset, size)};
		const int native_outcome = outcome(ref.get(), errno);
		errno = 0;
		owned_fd buf{create_dmabuf(ours.get(), offset, size)};
		const int our_outcome = outcome(buf.get(), errno);
		EXPECT_EQ(our_outcome, native_outcome)
			<< to_string(be()) << ": " << std::strerror(our_outcome)
			<< ", native: " << std::strerror(native_outcome);
		EXPECT_EQ(our_outcome, want) << std::strerror(our_outcome);
	}
};
INSTANTIATE_BACKENDS(Udmabuf);

TEST_P(Udmabuf, ShrinkSealed_CreateSucceedsAndMapsTheMemfdsPages)
{
	owned_fd m = filled(be(), F_SEAL_SHRINK);
	ASSERT_TRUE(m);
	const std::size_t len = kPages * page_size();
	owned_fd buf{create_dmabuf(m.get(), 0, len)};
	ASSERT_TRUE(buf) << "UDMABUF_CREATE: " << std::strerror(errno);

	auto *p = static_cast<char *>(mmap(nullptr, len, PROT_READ, MAP_SHARED, buf.get(), 0));
	ASSERT_NE(p, MAP_FAILED) << "mmap of the dma-buf: " << std::strerror(errno);
	for (std::size_t i = 0; i < kPages; i++)
		EXPECT_EQ(std::string(p + i * page_size(), page_size()), page_pattern(i))
			<< "page " << i;
	// the same pages, not a copy: a later write to the memfd shows
	ASSERT_EQ(pwrite(m.get(), "written later", 13, static_cast<off_t>(page_size())), 13);
	EXPECT_EQ(std::string(p + page_size(), 13), "written later");
	ASSERT_EQ(munmap(p, len), 0);
}

TEST_P(Udmabuf, RangeOfTheMemfd_MapsThosePages)
{
	owned_fd m = filled(be(), F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_TRUE(m);
	owned_fd buf{create_dmabuf(m.get(), 2 * page_size(), page_size())};
	ASSERT_TRUE(buf) << "UDMABUF_CREATE: " << std::strerror(errno);
	auto *p = static_cast<char *>(
		mmap(nullptr, page_size(), PROT_READ, MAP_SHARED, buf.get(), 0));
	ASSERT_NE(p, MAP_FAILED) << std::strerror(errno);
	EXPECT_EQ(std::string(p, page_size()), page_pattern(2));
	munmap(p, page_size());
}

TEST_P(Udmabuf, Shrink_AsNative)
{
	expect_create(F_SEAL_SHRINK, 0, kPages * page_size(), 0);
}

TEST_P(Udmabuf, ShrinkGrowSeal_AsNative)
{
	expect_create(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL, 0, kPages * page_size(), 0);
}

// F_SEAL_EXEC is neither wanted nor denied (MFD_NOEXEC_SEAL sets it).
TEST_P(Udmabuf, NoexecSealedAndShrink_AsNative)
{
	if (!native_has_seal_exec())
		GTEST_SKIP() << "the native reference lacks MFD_NOEXEC_SEAL";
	expect_create(F_SEAL_SHRINK, 0, kPages * page_size(), 0,
		      MFD_CLOEXEC | MFD_NOEXEC_SEAL);
}

TEST_P(Udmabuf, Unsealed_RefusedAsNative)
{
	expect_create(0, 0, kPages * page_size(), EINVAL);
}

TEST_P(Udmabuf, GrowOnly_RefusedAsNative)
{
	expect_create(F_SEAL_GROW, 0, kPages * page_size(), EINVAL);
}

TEST_P(Udmabuf, ShrinkAndWrite_RefusedAsNative)
{
	expect_create(F_SEAL_SHRINK | F_SEAL_WRITE, 0, kPages * page_size(), EINVAL);
}

TEST_P(Udmabuf, ShrinkAndFutureWrite_RefusedAsNative)
{
	expect_create(F_SEAL_SHRINK | F_SEAL_FUTURE_WRITE, 0, kPages * page_size(), EINVAL);
}

// Without MFD_ALLOW_SEALING the field holds only F_SEAL_SEAL.
TEST_P(Udmabuf, NotSealable_RefusedAsNative)
{
	expect_create(0, 0, kPages * page_size(), EINVAL, MFD_CLOEXEC);
}

TEST_P(Udmabuf, UnalignedSizeOrOffset_RefusedAsNative)
{
	expect_create(F_SEAL_SHRINK, 0, page_size() + 1, EINVAL);
	expect_create(F_SEAL_SHRINK, 1, page_size(), EINVAL);
	expect_create(F_SEAL_SHRINK, 0, 0, EINVAL);
}

// The dma-buf pins the memfd's pages: a later F_SEAL_WRITE waits for the
// pins to go, as upstream does, then fails with EBUSY.
TEST_P(Udmabuf, WriteSealWhileTheDmabufPinsThePages_BusyAsNative)
{
	owned_fd m = filled(be(), F_SEAL_SHRINK);
	owned_fd native = filled(backend::native, F_SEAL_SHRINK);
	ASSERT_TRUE(m && native);
	owned_fd buf{create_dmabuf(m.get(), 0, kPages * page_size())};
	owned_fd ref{create_dmabuf(native.get(), 0, kPages * page_size())};
	ASSERT_TRUE(buf && ref) << std::strerror(errno);
	const int native_ret = fcntl(native.get(), F_ADD_SEALS, F_SEAL_WRITE);
	const int native_outcome = outcome(native_ret, errno);
	const int our_ret = add(m.get(), F_SEAL_WRITE);
	const int our_outcome = outcome(our_ret, errno);
	EXPECT_EQ(our_outcome, native_outcome) << std::strerror(our_outcome);
	EXPECT_EQ(our_outcome, EBUSY) << std::strerror(our_outcome);
	EXPECT_EQ(get(m.get()), F_SEAL_SHRINK);
	// once the dma-buf is gone, the seal is granted
	buf.reset();
	EXPECT_EQ(add(m.get(), F_SEAL_WRITE), 0) << std::strerror(errno);
}

} // namespace
} // namespace guest
