// The scenario of the original memfd sealing work: a direct read from a
// FUSE file whose server blocks is in flight into a memfd mapping while
// the memfd gets F_SEAL_WRITE. Either the seal fails with EBUSY, or the
// read's data never lands in the sealed file.
#include "guest_util.hpp"
#include "slow_fuse.hpp"

#include <thread>

namespace {

using namespace guest;

class PinsFuseDirectIo : public BackendTest {};

TEST_P(PinsFuseDirectIo, DirectReadInFlight_SealBusyOrDataNeverLands)
{
	if (access("/dev/fuse", R_OK | W_OK) != 0)
		GTEST_SKIP() << "no /dev/fuse in this guest";
	const char *dir = "/tmp/slowfs";
	mkdir(dir, 0755);
	SlowFs fs;
	ASSERT_TRUE(fs.mount(dir)) << "FUSE mount failed";

	constexpr std::size_t kLen = 64 * 1024;
	owned_fd m = make();
	ASSERT_EQ(ftruncate(m.get(), kLen), 0);
	char *p = static_cast<char *>(mmap(nullptr, kLen, PROT_READ | PROT_WRITE,
					   MAP_SHARED, m.get(), 0));
	ASSERT_NE(p, MAP_FAILED);
	std::memset(p, 'a', kLen);

	const int src = open("/tmp/slowfs/slow", O_RDONLY | O_DIRECT);
	ASSERT_GE(src, 0) << std::strerror(errno);
	ssize_t got = -2;
	std::thread reader([&] { got = read(src, p, kLen); });
	fs.wait_for_read(); // the destination pages are referenced by now
	ASSERT_EQ(munmap(p, kLen), 0);

	const int sealed = add(m.get(), F_SEAL_WRITE);
	const int seal_errno = errno;
	fs.release();
	reader.join();
	close(src);
	EXPECT_EQ(got, static_cast<ssize_t>(kLen));

	if (sealed == 0) {
		EXPECT_EQ(pread_str(m.get(), kLen, 0), std::string(kLen, 'a'))
			<< "data landed in a write-sealed file";
	} else {
		EXPECT_EQ(seal_errno, EBUSY);
		// the read is done, the references are gone
		EXPECT_EQ(add(m.get(), F_SEAL_WRITE), 0) << std::strerror(errno);
	}
}

INSTANTIATE_BACKENDS(PinsFuseDirectIo);

} // namespace
