// A write seal is refused while pages of the file carry references taken
// before it (io_uring fixed buffers, vmsplice), and granted once they are
// gone. Run against every backend: module_lib and module_fcntl seal through
// the kernel's own fcntl path, module_ioctl through the module's, and the
// native memfd is the reference. Each path waits about 150 ms, as
// upstream's memfd_wait_for_pins(), before EBUSY.
#include "guest_util.hpp"
#include "lifetime/lifetime_util.hpp"

#include <liburing.h>
#include <sys/uio.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace {

using namespace guest;
using steady = std::chrono::steady_clock;

constexpr std::size_t kMiB = 1024 * 1024;

class Pins : public BackendTest {
protected:
	// A memfd of @size bytes, filled through a shared writable mapping
	// which is returned in @map (caller unmaps).
	owned_fd make_mapped(std::size_t size, char **map)
	{
		owned_fd m = make();
		EXPECT_EQ(ftruncate(m.get(), static_cast<off_t>(size)), 0);
		void *p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			       m.get(), 0);
		EXPECT_NE(p, MAP_FAILED) << std::strerror(errno);
		*map = static_cast<char *>(p);
		if (p != MAP_FAILED)
			std::memset(p, 'a', size);
		return m;
	}

	// ADD_SEALS(F_SEAL_WRITE) expected to fail with EBUSY after the
	// upstream wait (about 150 ms; bounded, not forever); returns the time
	// it took in milliseconds.
	double seal_write_busy(int fd)
	{
		const auto t0 = steady::now();
		EXPECT_ERRNO(add(fd, F_SEAL_WRITE), EBUSY);
		const std::chrono::duration<double, std::milli> ms =
			steady::now() - t0;
		std::printf("[ %s ] EBUSY after %.1f ms\n", to_string(be()),
			    ms.count());
		EXPECT_GE(ms.count(), 100.0);
		EXPECT_LT(ms.count(), 5000.0);
		EXPECT_EQ(get(fd) & F_SEAL_WRITE, 0) << "no seal of a failed call";
		return ms.count();
	}
};

TEST_P(Pins, IoUringFixedBuffer_WriteSealBusyUntilUnregistered)
{
	char *p = nullptr;
	owned_fd m = make_mapped(64 * 1024, &p);
	ASSERT_NE(p, MAP_FAILED);

	io_uring ring{};
	ASSERT_EQ(io_uring_queue_init(4, &ring, 0), 0);
	iovec iov{p, 64 * 1024};
	ASSERT_EQ(io_uring_register_buffers(&ring, &iov, 1), 0);
	ASSERT_EQ(munmap(p, 64 * 1024), 0);

	const double ms = seal_write_busy(m.get());
	RecordProperty("ebusy_wait_ms", static_cast<int>(ms));

	ASSERT_EQ(io_uring_unregister_buffers(&ring), 0);
	EXPECT_EQ(add(m.get(), F_SEAL_WRITE), 0) << std::strerror(errno);

	// After the seal, no fixed buffer can be registered over the file:
	// only read-only shared mappings exist and registration needs write.
	void *ro = mmap(nullptr, 64 * 1024, PROT_READ, MAP_SHARED, m.get(), 0);
	ASSERT_NE(ro, MAP_FAILED) << std::strerror(errno);
	iov = {ro, 64 * 1024};
	EXPECT_EQ(io_uring_register_buffers(&ring, &iov, 1), -EFAULT);
	EXPECT_EQ(pread_str(m.get(), 4, 0), "aaaa");
	munmap(ro, 64 * 1024);
	io_uring_queue_exit(&ring);
}

TEST_P(Pins, Vmsplice_WriteSealBusyUntilPipeDrained)
{
	char *p = nullptr;
	owned_fd m = make_mapped(16 * 1024, &p);
	ASSERT_NE(p, MAP_FAILED);
	int pfd[2];
	ASSERT_EQ(pipe(pfd), 0);
	iovec iov{p, 16 * 1024};
	ASSERT_EQ(vmsplice(pfd[1], &iov, 1, 0), 16 * 1024);
	ASSERT_EQ(munmap(p, 16 * 1024), 0);

	seal_write_busy(m.get());
	EXPECT_EQ(get(m.get()) & F_SEAL_WRITE, 0);

	std::string drained(16 * 1024, '\0');
	ASSERT_EQ(read(pfd[0], drained.data(), drained.size()), 16 * 1024);
	EXPECT_EQ(add(m.get(), F_SEAL_WRITE), 0) << std::strerror(errno);
	close(pfd[0]);
	close(pfd[1]);
}

// Pages just written sit in per-CPU LRU batches holding a reference each;
// writing and sealing at once must still succeed.
TEST_P(Pins, FreshlyWrittenPages_SealImmediately)
{
	owned_fd m = make();
	const std::string data(256 * 1024, 'w');
	ASSERT_EQ(pwrite(m.get(), data.data(), data.size(), 0),
		  static_cast<ssize_t>(data.size()));
	EXPECT_EQ(add(m.get(), F_SEAL_WRITE), 0) << std::strerror(errno);
}

// Read-only mappings hold references too; they are not pins.
TEST_P(Pins, ReadOnlyPrivateMappingIsNotAPin)
{
	owned_fd m = make_with(std::string(8192, 'r'));
	void *p = mmap(nullptr, 8192, PROT_READ, MAP_PRIVATE, m.get(), 0);
	ASSERT_NE(p, MAP_FAILED);
	volatile char c = static_cast<char *>(p)[4096];
	(void)c;
	EXPECT_EQ(add(m.get(), F_SEAL_WRITE), 0) << std::strerror(errno);
	munmap(p, 8192);
}

std::string read_file(const char *path)
{
	std::ifstream in(path);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

// Turns on huge pages for shmem (and so for memfds) while alive.
class ShmemHugePages {
public:
	static constexpr const char *kPath =
		"/sys/kernel/mm/transparent_hugepage/shmem_enabled";

	ShmemHugePages()
	{
		const std::string cur = read_file(kPath);
		const auto l = cur.find('['), r = cur.find(']');
		if (l == std::string::npos || r == std::string::npos)
			return;
		saved_ = cur.substr(l + 1, r - l - 1);
		ok_ = write("always");
	}
	~ShmemHugePages()
	{
		if (ok_)
			write(saved_);
	}
	bool ok() const { return ok_; }

private:
	static bool write(const std::string &v)
	{
		std::ofstream out(kPath);
		out << v << std::flush;
		return static_cast<bool>(out);
	}
	std::string saved_;
	bool ok_ = false;
};

// One reference on the last page of a 2 MiB folio must be found: the
// check may not look at head pages only.
TEST_P(Pins, HugeFolioWithPinnedTailPage_WriteSealBusy)
{
	ShmemHugePages huge;
	if (!huge.ok())
		GTEST_SKIP() << "kernel without shmem transparent huge pages";

	// up to three tries, memory compacted before each: a guest
	// fragmented by the suites before may have no free 2 MiB block
	char *p = nullptr;
	owned_fd m;
	long huge_kb = 0;
	for (int attempt = 0; attempt < 3 && huge_kb < 2048; attempt++) {
		if (p && p != MAP_FAILED)
			munmap(p, 4 * kMiB);
		m = owned_fd{};
		compact_memory();
		const long before = lifetime::meminfo_kb("ShmemHugePages");
		m = make_mapped(4 * kMiB, &p);
		ASSERT_NE(p, MAP_FAILED);
		huge_kb = lifetime::meminfo_kb("ShmemHugePages") - before;
	}
	ASSERT_GE(huge_kb, 2048)
		<< "the memfd is not backed by huge pages; the test would "
		   "prove nothing";

	int pfd[2];
	ASSERT_EQ(pipe(pfd), 0);
	iovec iov{p + 2 * kMiB - 4096, 4096};
	ASSERT_EQ(vmsplice(pfd[1], &iov, 1, 0), 4096);
	ASSERT_EQ(munmap(p, 4 * kMiB), 0);

	seal_write_busy(m.get());

	char page[4096];
	ASSERT_EQ(read(pfd[0], page, sizeof(page)), 4096);
	EXPECT_EQ(add(m.get(), F_SEAL_WRITE), 0) << std::strerror(errno);
	close(pfd[0]);
	close(pfd[1]);
}

INSTANTIATE_BACKENDS(Pins);

// Fills a fresh memfd of @b with @size bytes and times its write seal, in
// milliseconds; -1 (with a test failure) if the seal failed.
double timed_write_seal(backend b, std::size_t size)
{
	const std::string chunk(kMiB, 'z');
	owned_fd m{create(b, "large", MFD_CLOEXEC | MFD_ALLOW_SEALING)};
	EXPECT_GE(m.get(), 0) << std::strerror(errno);
	for (std::size_t off = 0; off < size; off += kMiB)
		if (pwrite(m.get(), chunk.data(), kMiB, static_cast<off_t>(off)) !=
		    static_cast<ssize_t>(kMiB))
			ADD_FAILURE() << "pwrite: " << std::strerror(errno);
	const auto t0 = steady::now();
	if (add_seals(b, m.get(), F_SEAL_WRITE) != 0) {
		ADD_FAILURE() << to_string(b) << ": " << std::strerror(errno);
		return -1;
	}
	return std::chrono::duration<double, std::milli>(steady::now() - t0).count();
}

// A big file with no pins seals without waiting: every route is timed
// beside native on the same size in the same guest (the benchmark suite
// gives the careful ratio; this only guards against a scan that waits).
// A route that seems to wait is timed once more, with native again: a
// scan that waits does so every time, while an emulator's pause on a
// busy host (tens of ms, seen under TCG) does not repeat on cue.
TEST(PinsLargeFile, LargeUnpinnedFile_SealsPromptly)
{
	SKIP_WITHOUT_MODULE();
	constexpr std::size_t kSize = 256 * kMiB;
	constexpr backend routes[] = {backend::module_lib, backend::module_fcntl,
				      backend::module_ioctl};
	const double native_ms = timed_write_seal(backend::native, kSize);
	RecordProperty("native_ms", static_cast<int>(native_ms));
	for (const backend b : routes) {
		double base = native_ms;
		double ms = timed_write_seal(b, kSize);
		// the pin wait alone is 150 ms; a clean file must never reach it
		if (ms >= base + 100.0) {
			std::printf("[ seal 256 MiB ] %s took %.1f ms against native "
				    "%.1f ms: timing both again\n",
				    to_string(b), ms, base);
			base = timed_write_seal(backend::native, kSize);
			ms = timed_write_seal(b, kSize);
		}
		std::printf("[ seal 256 MiB ] native %.1f ms, %s %.1f ms, "
			    "ratio %.2f (emulated guest)\n",
			    base, to_string(b), ms, base > 0 ? ms / base : 0.0);
		RecordProperty(std::string(to_string(b)) + "_ms",
			       static_cast<int>(ms));
		EXPECT_LT(ms, base + 100.0) << to_string(b);
	}
}

} // namespace
