// Issue 17: MEMFD_COMPAT_SEAL_ISOLATE_PINS, a write seal that no pinning
// process can block. Through the library (memfd_compat_add_seals2, and
// the C++ overload), on module memfds and on native ones (the ioctl seals
// either), beside the default seal of the same call with flags 0, which
// waits about 150 ms and fails with EBUSY.
//
// Every pin source of test_pins.cc and test_pins_fuse.cc: an io_uring fixed
// buffer, vmsplice into a pipe, a FUSE O_DIRECT read in flight; and a
// shmem THP tail page, which is not copied (the seal waits, then EBUSY).
// After an isolating seal the file holds its content as of the seal for
// every reader (read, an old and a new mapping, splice, sendfile), the
// pinner still sees and writes its own page, and Shmem and the memory
// cgroup's usage come back once the pinner lets go.
#include "guest_util.hpp"
#include "slow_fuse.hpp"

#include "uring_util.hpp"

#include <liburing.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/uio.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

namespace guest
{
namespace
{

using steady = std::chrono::steady_clock;

constexpr std::size_t kMiB = 1024 * 1024;
constexpr unsigned kIsolate = MEMFD_COMPAT_SEAL_ISOLATE_PINS;
// Generous for TCG: the copy of a few pages takes well under a millisecond
// natively; the default seal needs 150 ms before it gives up.
constexpr double kPromptMs = 100.0;
// The default seal sleeps between its four scans (10, 20, 40, 80 ms): four
// voluntary context switches at least. An emulator's pause on a busy host
// can make a prompt seal slow, but it adds no sleep of the caller's.
constexpr long kWaitSleeps = 4;

// Voluntary context switches of the calling thread so far.
long voluntary_switches()
{
	rusage ru{};
	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_nvcsw;
}

enum class origin { module, native };

std::string origin_name(const ::testing::TestParamInfo<origin> &i)
{
	return i.param == origin::module ? "module" : "native";
}

std::string slurp(const char *path)
{
	std::ifstream in(path);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

long meminfo_kb(const char *key)
{
	std::istringstream in(slurp("/proc/meminfo"));
	std::string k, unit;
	long v = 0;
	while (in >> k >> v) {
		std::getline(in, unit);
		if (k == std::string(key) + ":")
			return v;
	}
	return -1;
}

double ms_since(steady::time_point t0)
{
	return std::chrono::duration<double, std::milli>(steady::now() - t0).count();
}

// The file's first @len bytes, read in four ways a receiver would.
std::string by_read(int fd, std::size_t len)
{
	return pread_str(fd, len, 0);
}

std::string by_mmap(int fd, std::size_t len)
{
	// through a read-only re-open: a shared mapping of it may not write
	owned_fd ro{open(proc_path(fd).c_str(), O_RDONLY | O_CLOEXEC)};
	if (!ro)
		return "open: " + std::string(std::strerror(errno));
	void *p = mmap(nullptr, len, PROT_READ, MAP_SHARED, ro.get(), 0);
	if (p == MAP_FAILED)
		return "mmap: " + std::string(std::strerror(errno));
	std::string s(static_cast<const char *>(p), len);
	munmap(p, len);
	return s;
}

std::string by_splice(int fd, std::size_t len)
{
	int pfd[2];
	if (pipe(pfd) != 0)
		return "pipe";
	fcntl(pfd[1], F_SETPIPE_SZ, static_cast<int>(std::max(len, kMiB)));
	std::string s;
	loff_t off = 0;
	while (s.size() < len) {
		const ssize_t n = splice(fd, &off, pfd[1], nullptr,
		                         std::min<std::size_t>(len - s.size(), 65536), 0);
		if (n <= 0)
			break;
		std::string chunk(static_cast<std::size_t>(n), '\0');
		if (read(pfd[0], chunk.data(), chunk.size()) != n)
			break;
		s += chunk;
	}
	close(pfd[0]);
	close(pfd[1]);
	return s;
}

std::string by_sendfile(int fd, std::size_t len)
{
	owned_fd out{temp_file()};
	off_t off = 0;
	std::size_t done = 0;
	while (done < len) {
		const ssize_t n = sendfile(out.get(), fd, &off, len - done);
		if (n <= 0)
			break;
		done += static_cast<std::size_t>(n);
	}
	return pread_str(out.get(), done, 0);
}

// Expects the file's first bytes to be @want for every reader.
void expect_file_is(int fd, const std::string &want)
{
	const std::size_t len = want.size();
	EXPECT_TRUE(by_read(fd, len) == want) << "read() sees other data";
	EXPECT_TRUE(by_mmap(fd, len) == want) << "a new mapping sees other data";
	EXPECT_TRUE(by_splice(fd, len) == want) << "splice() sees other data";
	EXPECT_TRUE(by_sendfile(fd, len) == want) << "sendfile() sees other data";
}

class SealIsolate : public ::testing::TestWithParam<origin>
{
protected:
	void SetUp() override { SKIP_WITHOUT_MODULE(); }

	owned_fd make()
	{
		const unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
		const int fd = GetParam() == origin::module ? library_create("iso", flags)
		                                            : native_create("iso", flags);
		EXPECT_GE(fd, 0) << std::strerror(errno);
		return owned_fd{fd};
	}

	// A memfd of @size bytes of 'a', written through a shared writable
	// mapping returned in *@map (the caller unmaps it).
	owned_fd make_mapped(std::size_t size, char **map)
	{
		owned_fd m = make();
		EXPECT_EQ(ftruncate(m.get(), static_cast<off_t>(size)), 0);
		void *p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, m.get(), 0);
		EXPECT_NE(p, MAP_FAILED) << std::strerror(errno);
		*map = p == MAP_FAILED ? nullptr : static_cast<char *>(p);
		if (*map)
			std::memset(p, 'a', size);
		return m;
	}

	// The default seal of the same call (flags 0): EBUSY after the wait.
	static void expect_default_busy(int fd)
	{
		const long sw0 = voluntary_switches();
		const auto t0 = steady::now();
		EXPECT_ERRNO(memfd_compat_add_seals2(fd, F_SEAL_WRITE, 0), EBUSY);
		const double ms = ms_since(t0);
		const long sleeps = voluntary_switches() - sw0;
		std::printf("[ default ] EBUSY after %.1f ms, %ld sleeps\n", ms, sleeps);
		EXPECT_GE(ms, 100.0);
		EXPECT_GE(sleeps, kWaitSleeps) << "the wait the isolating seal is told from";
		EXPECT_EQ(memfd_compat_get_seals(fd) & F_SEAL_WRITE, 0);
	}

	// The isolating seal: succeeds at once.
	static void expect_isolating_seal(int fd)
	{
		const long sw0 = voluntary_switches();
		const auto t0 = steady::now();
		EXPECT_EQ(memfd_compat_add_seals2(fd, F_SEAL_WRITE, kIsolate), 0)
		        << std::strerror(errno);
		const double ms = ms_since(t0);
		const long sleeps = voluntary_switches() - sw0;
		std::printf("[ isolate ] sealed in %.1f ms, %ld sleeps\n", ms, sleeps);
		// slow and sleeping as the default seal does: it waited
		EXPECT_TRUE(ms < kPromptMs || sleeps < kWaitSleeps)
		        << ms << " ms and " << sleeps << " sleeps: the seal waited for the pins";
		EXPECT_EQ(memfd_compat_get_seals(fd) & F_SEAL_WRITE, F_SEAL_WRITE);
	}
};

INSTANTIATE_TEST_SUITE_P(Origins, SealIsolate,
                         ::testing::Values(origin::module, origin::native), origin_name);

// A ring with one fixed buffer over the first @len bytes of a memfd.
class FixedBuffer
{
public:
	FixedBuffer(char *p, std::size_t len) : p_(p), len_(len)
	{
		if (io_uring_queue_init(4, &ring_, 0) != 0)
			return;
		ready_ = true;
		iovec iov{p, len};
		registered_ = io_uring_register_buffers(&ring_, &iov, 1) == 0;
	}
	~FixedBuffer()
	{
		if (ready_)
			io_uring_queue_exit(&ring_);
	}
	bool ok() const { return registered_; }

	// READ_FIXED: @fd's bytes land in the buffer (the pinner writes).
	int fill_from(int fd)
	{
		io_uring_sqe *sqe = io_uring_get_sqe(&ring_);
		io_uring_prep_read_fixed(sqe, fd, p_, static_cast<unsigned>(len_), 0, 0);
		return complete();
	}
	// WRITE_FIXED: the buffer's bytes go to @fd (what the pinner sees).
	int copy_to(int fd)
	{
		io_uring_sqe *sqe = io_uring_get_sqe(&ring_);
		io_uring_prep_write_fixed(sqe, fd, p_, static_cast<unsigned>(len_), 0, 0);
		return complete();
	}
	int unregister()
	{
		registered_ = false;
		return io_uring_unregister_buffers(&ring_);
	}

private:
	int complete()
	{
		return uring_complete(&ring_);
	}

	io_uring ring_{};
	char *p_;
	std::size_t len_;
	bool ready_ = false;
	bool registered_ = false;
};

// A temporary file holding @data.
owned_fd temp_with(const std::string &data)
{
	owned_fd f{temp_file()};
	EXPECT_EQ(pwrite(f.get(), data.data(), data.size(), 0),
	          static_cast<ssize_t>(data.size()));
	return f;
}

TEST_P(SealIsolate, IoUringFixedBuffer_SealsAtOnce_PinnerWritesMissTheFile)
{
	constexpr std::size_t kLen = 64 * 1024;
	const std::string as(kLen, 'a');
	char *p = nullptr;
	owned_fd m = make_mapped(kLen, &p);
	ASSERT_NE(p, nullptr);
	FixedBuffer buf(p, kLen);
	ASSERT_TRUE(buf.ok()) << "io_uring fixed buffer registration failed";
	ASSERT_EQ(munmap(p, kLen), 0);

	// a reader's mapping from before the seal, its pages faulted in
	owned_fd ro{open(proc_path(m.get()).c_str(), O_RDONLY | O_CLOEXEC)};
	ASSERT_TRUE(ro);
	const char *old_map = static_cast<const char *>(
	        mmap(nullptr, kLen, PROT_READ, MAP_SHARED, ro.get(), 0));
	ASSERT_NE(old_map, MAP_FAILED) << std::strerror(errno);
	ASSERT_EQ(std::string(old_map, kLen), as);

	expect_default_busy(m.get());
	expect_isolating_seal(m.get());
	if (HasFailure())
		return;

	// the pinner still sees its page, with the content of the seal...
	owned_fd seen{temp_file()};
	ASSERT_EQ(buf.copy_to(seen.get()), static_cast<int>(kLen));
	EXPECT_TRUE(pread_str(seen.get(), kLen, 0) == as);
	// ...and writes it: the write lands in its own page, not the file
	owned_fd src = temp_with(std::string(kLen, 'Z'));
	ASSERT_EQ(buf.fill_from(src.get()), static_cast<int>(kLen));
	ASSERT_EQ(buf.copy_to(seen.get()), static_cast<int>(kLen));
	EXPECT_TRUE(pread_str(seen.get(), kLen, 0) == std::string(kLen, 'Z'))
	        << "the pinner lost its own write";

	expect_file_is(m.get(), as);
	EXPECT_TRUE(std::string(old_map, kLen) == as)
	        << "a mapping from before the seal still shows the pinned page";
	munmap(const_cast<char *>(old_map), kLen);
	ASSERT_EQ(buf.unregister(), 0);
	expect_file_is(m.get(), as);
}

TEST_P(SealIsolate, Vmsplice_SealsAtOnce_PipeDeliversWhatWasSpliced)
{
	constexpr std::size_t kLen = 16 * 1024;
	char *p = nullptr;
	owned_fd m = make_mapped(kLen, &p);
	ASSERT_NE(p, nullptr);
	for (std::size_t i = 0; i < kLen; i++)
		p[i] = static_cast<char>('a' + i / 4096);
	const std::string content(p, kLen);
	int pfd[2];
	ASSERT_EQ(pipe(pfd), 0);
	iovec iov{p, kLen};
	ASSERT_EQ(vmsplice(pfd[1], &iov, 1, 0), static_cast<ssize_t>(kLen));
	ASSERT_EQ(munmap(p, kLen), 0);

	expect_default_busy(m.get());
	expect_isolating_seal(m.get());
	expect_file_is(m.get(), content);

	std::string drained(kLen, '\0');
	EXPECT_EQ(read(pfd[0], drained.data(), kLen), static_cast<ssize_t>(kLen));
	EXPECT_TRUE(drained == content) << "the pipe lost what was vmspliced";
	close(pfd[0]);
	close(pfd[1]);
	expect_file_is(m.get(), content);
}

TEST_P(SealIsolate, FuseDirectReadInFlight_SealsAtOnce_DataNeverLands)
{
	if (access("/dev/fuse", R_OK | W_OK) != 0)
		GTEST_SKIP() << "no /dev/fuse in this guest";
	const char *dir = "/tmp/slowfs-iso";
	mkdir(dir, 0755);
	SlowFs fs;
	ASSERT_TRUE(fs.mount(dir)) << "FUSE mount failed";

	constexpr std::size_t kLen = 64 * 1024;
	char *p = nullptr;
	owned_fd m = make_mapped(kLen, &p);
	ASSERT_NE(p, nullptr);
	const int src = open("/tmp/slowfs-iso/slow", O_RDONLY | O_DIRECT);
	ASSERT_GE(src, 0) << std::strerror(errno);
	ssize_t got = -2;
	std::thread reader([&] { got = read(src, p, kLen); });
	fs.wait_for_read(); // the destination pages are pinned by now
	// (the read completes into them after the seal: their only mapping
	// must go first, a writable shared mapping refuses any write seal)
	ASSERT_EQ(munmap(p, kLen), 0);
	expect_default_busy(m.get());
	expect_isolating_seal(m.get());
	fs.release();
	reader.join();
	close(src);
	EXPECT_EQ(got, static_cast<ssize_t>(kLen)) << "the direct read did not complete";
	expect_file_is(m.get(), std::string(kLen, 'a'));
}

// Shmem THP: a pinned tail page makes its whole 2 MiB folio pinned, and a
// large folio is not copied (neither kernel's page cache replacement takes
// one, split_huge_page is not exported): the isolating seal waits as the
// default one and fails with EBUSY, then succeeds once the pin is gone.
TEST_P(SealIsolate, HugeFolioWithPinnedTailPage_FallsBackToWaitThenEbusy)
{
	constexpr const char *kPath = "/sys/kernel/mm/transparent_hugepage/shmem_enabled";
	const std::string cur = slurp(kPath);
	const auto l = cur.find('['), r = cur.find(']');
	if (l == std::string::npos || r == std::string::npos)
		GTEST_SKIP() << "kernel without shmem transparent huge pages "
		                "(PREEMPT_RT kernels have none)";
	const std::string saved = cur.substr(l + 1, r - l - 1);
	const auto set_thp = [&](const std::string &v) {
		std::ofstream out(kPath);
		out << v << std::flush;
		return static_cast<bool>(out);
	};
	ASSERT_TRUE(set_thp("always"));

	// up to three tries, memory compacted before each: a guest
	// fragmented by the suites before may have no free 2 MiB block
	char *p = nullptr;
	owned_fd m;
	long huge_kb = 0;
	for (int attempt = 0; attempt < 3 && huge_kb < 2048; attempt++) {
		if (p)
			munmap(p, 4 * kMiB);
		m = owned_fd{};
		compact_memory();
		const long before = meminfo_kb("ShmemHugePages");
		m = make_mapped(4 * kMiB, &p);
		if (!p)
			break;
		huge_kb = meminfo_kb("ShmemHugePages") - before;
	}
	set_thp(saved);
	ASSERT_NE(p, nullptr);
	ASSERT_GE(huge_kb, 2048)
	        << "the memfd is not backed by huge pages; the test would prove nothing";
	int pfd[2];
	ASSERT_EQ(pipe(pfd), 0);
	iovec iov{p + 2 * kMiB - 4096, 4096};
	ASSERT_EQ(vmsplice(pfd[1], &iov, 1, 0), 4096);
	ASSERT_EQ(munmap(p, 4 * kMiB), 0);

	const auto t0 = steady::now();
	EXPECT_ERRNO(memfd_compat_add_seals2(m.get(), F_SEAL_WRITE, kIsolate), EBUSY);
	const double ms = ms_since(t0);
	std::printf("[ isolate, THP ] EBUSY after %.1f ms\n", ms);
	EXPECT_GE(ms, 100.0) << "the fallback must wait as the default seal does";
	EXPECT_EQ(memfd_compat_get_seals(m.get()) & F_SEAL_WRITE, 0);

	char page[4096];
	ASSERT_EQ(read(pfd[0], page, sizeof(page)), 4096);
	close(pfd[0]);
	close(pfd[1]);
	EXPECT_EQ(memfd_compat_add_seals2(m.get(), F_SEAL_WRITE, kIsolate), 0)
	        << std::strerror(errno);
	expect_file_is(m.get(), std::string(4 * kMiB, 'a'));
}

// With nothing pinned the flag changes nothing: the seal is the kernel's.
TEST_P(SealIsolate, NothingPinned_SealsLikeTheDefault)
{
	owned_fd m = make();
	const std::string data(256 * 1024, 'w');
	ASSERT_EQ(pwrite(m.get(), data.data(), data.size(), 0),
	          static_cast<ssize_t>(data.size()));
	EXPECT_EQ(memfd_compat_add_seals2(m.get(), F_SEAL_WRITE | F_SEAL_SHRINK, kIsolate), 0)
	        << std::strerror(errno);
	EXPECT_EQ(memfd_compat_get_seals(m.get()), F_SEAL_WRITE | F_SEAL_SHRINK);
	EXPECT_ERRNO(pwrite(m.get(), "x", 1, 0), EPERM);
	expect_file_is(m.get(), data);
}

// Without F_SEAL_WRITE among the seals the flag is accepted and idle.
TEST_P(SealIsolate, FlagWithoutWriteSeal_Accepted)
{
	owned_fd m = make();
	EXPECT_EQ(memfd_compat_add_seals2(m.get(), F_SEAL_GROW, kIsolate), 0)
	        << std::strerror(errno);
	EXPECT_EQ(memfd_compat_get_seals(m.get()), F_SEAL_GROW);
}

// A write seal that exists already is not re-done; a shared writable
// mapping still refuses the seal (EBUSY), flag or not.
TEST_P(SealIsolate, WritableSharedMapping_StillEbusy)
{
	char *p = nullptr;
	owned_fd m = make_mapped(8192, &p);
	ASSERT_NE(p, nullptr);
	EXPECT_ERRNO(memfd_compat_add_seals2(m.get(), F_SEAL_WRITE, kIsolate), EBUSY);
	munmap(p, 8192);
	EXPECT_EQ(memfd_compat_add_seals2(m.get(), F_SEAL_WRITE, kIsolate), 0);
	EXPECT_EQ(memfd_compat_add_seals2(m.get(), F_SEAL_WRITE, kIsolate), 0);
}

TEST_P(SealIsolate, UnknownFlags_EINVAL_NothingApplied)
{
	owned_fd m = make();
	for (unsigned bit = 0; bit < 32; ++bit) {
		const unsigned flag = 1U << bit;
		if (flag == kIsolate)
			continue;
		SCOPED_TRACE(::testing::Message() << "flags 0x" << std::hex << flag);
		EXPECT_ERRNO(memfd_compat_add_seals2(m.get(), F_SEAL_GROW, flag), EINVAL);
		EXPECT_ERRNO(memfd_compat_add_seals2(m.get(), F_SEAL_GROW, flag | kIsolate),
		             EINVAL);
	}
	EXPECT_EQ(memfd_compat_get_seals(m.get()), 0);
}

// The C++ overload is the same call.
TEST_P(SealIsolate, CxxOverload)
{
	owned_fd m = make();
	std::error_code ec;
	memfd_compat::add_seals(m, memfd_compat::seal::grow, memfd_compat::seal_flags::isolate_pins,
	                        ec);
	EXPECT_FALSE(ec) << ec.message();
	memfd_compat::add_seals(m, memfd_compat::seal::shrink,
	                        static_cast<memfd_compat::seal_flags>(0x80), ec);
	EXPECT_EQ(ec, std::errc::invalid_argument);
	EXPECT_THROW(memfd_compat::add_seals(m, memfd_compat::seal::shrink,
	                                     static_cast<memfd_compat::seal_flags>(0x80)),
	             std::system_error);
	EXPECT_EQ(memfd_compat::get_seals(m), memfd_compat::seal::grow);
}

// hugetlb memfds have only huge folios: the flag is refused, EOPNOTSUPP,
// before anything is applied; the default seal works as before.
TEST(SealIsolateHugetlb, Flag_EOPNOTSUPP)
{
	SKIP_WITHOUT_MODULE();
	memfd_compat_info info{};
	ASSERT_EQ(memfd_compat_query(&info), 0);
	if (!(info.supported_flags & MFD_HUGETLB))
		GTEST_SKIP() << "module without MFD_HUGETLB on this kernel";
	owned_fd m{library_create("iso-huge", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB)};
	if (!m && errno == ENODEV)
		GTEST_SKIP() << "no default huge page size in this guest";
	ASSERT_TRUE(m) << std::strerror(errno);
	EXPECT_ERRNO(memfd_compat_add_seals2(m.get(), F_SEAL_WRITE, kIsolate), EOPNOTSUPP);
	EXPECT_ERRNO(memfd_compat_add_seals2(m.get(), F_SEAL_GROW, kIsolate), EOPNOTSUPP);
	EXPECT_EQ(memfd_compat_get_seals(m.get()), 0);
	EXPECT_EQ(memfd_compat_add_seals2(m.get(), F_SEAL_WRITE, 0), 0) << std::strerror(errno);
}

TEST(SealIsolateQuery, ReportsTheFlag)
{
	SKIP_WITHOUT_MODULE();
	memfd_compat_info info{};
	ASSERT_EQ(memfd_compat_query(&info), 0) << std::strerror(errno);
	EXPECT_EQ(info.seal_flags, kIsolate);
	EXPECT_EQ(memfd_compat::query().seal_flags, kIsolate);
}

// The memory the copies take is accounted and comes back: Shmem (the
// file's pages: the copies replace the originals there) and the memory
// cgroup's usage (the pinned originals stay charged until freed). Run in
// a child in a cgroup of its own, where the guest has cgroup2 with the
// memory controller.
TEST(SealIsolateAccounting, ShmemAndMemcgBackToBaseline)
{
	SKIP_WITHOUT_MODULE();
	const std::string root = "/sys/fs/cgroup";
	const std::string controllers = slurp((root + "/cgroup.controllers").c_str());
	if (controllers.find("memory") == std::string::npos)
		GTEST_SKIP() << "no cgroup2 memory controller mounted at " << root;
	{
		std::ofstream sub(root + "/cgroup.subtree_control");
		sub << "+memory" << std::flush;
	}
	const std::string cg = root + "/memfd-isolate-test";
	mkdir(cg.c_str(), 0755);
	if (access((cg + "/memory.current").c_str(), R_OK) != 0) {
		rmdir(cg.c_str());
		GTEST_SKIP() << "memory controller not enabled for " << cg;
	}
	const auto current = [&] { return std::stol(slurp((cg + "/memory.current").c_str())); };

	constexpr std::size_t kLen = 4 * kMiB;
	constexpr long kSlack = 1024 * 1024; // per-CPU charge batches and noise
	const long shmem0 = meminfo_kb("Shmem");
	const int rc = run_in_child([&]() -> int {
		{
			std::ofstream procs(cg + "/cgroup.procs");
			procs << getpid() << std::flush;
			if (!procs)
				return 10;
		}
		const long base = current();
		owned_fd m{library_create("iso-acct", MFD_CLOEXEC | MFD_ALLOW_SEALING)};
		if (!m || ftruncate(m.get(), kLen) != 0)
			return 11;
		char *p = static_cast<char *>(
		        mmap(nullptr, kLen, PROT_READ | PROT_WRITE, MAP_SHARED, m.get(), 0));
		if (p == MAP_FAILED)
			return 12;
		std::memset(p, 'c', kLen);
		const long filled = current();
		if (filled - base < static_cast<long>(kLen) - kSlack)
			return 13; // the memfd is not charged here; proves nothing
		int ret = 0;
		{
			FixedBuffer buf(p, kLen);
			if (!buf.ok())
				return 14;
			munmap(p, kLen);
			if (memfd_compat_add_seals2(m.get(), F_SEAL_WRITE, kIsolate) != 0)
				return 15;
			// originals (pinned) and copies (the file's) both charged
			const long both = current();
			std::printf("[ memcg ] base %ld, filled +%ld, isolated +%ld KiB\n",
			            base / 1024, (filled - base) / 1024, (both - base) / 1024);
			if (both - base < 2 * static_cast<long>(kLen) - kSlack)
				ret = 16;
			const long shmem = meminfo_kb("Shmem");
			if (shmem - shmem0 < static_cast<long>(kLen / 1024) - kSlack / 1024 ||
			    shmem - shmem0 > static_cast<long>(kLen / 1024) + kSlack / 1024)
				ret = 17; // the file's pages count once
			if (buf.unregister() != 0)
				ret = 18;
		}
		// the originals are freed with the pin: back to the file alone
		const long after_unpin = current();
		if (after_unpin - base > static_cast<long>(kLen) + kSlack)
			ret = ret ? ret : 19;
		m.reset();
		const long after_close = current();
		std::printf("[ memcg ] after unpin +%ld, after close +%ld KiB\n",
		            (after_unpin - base) / 1024, (after_close - base) / 1024);
		if (after_close - base > kSlack)
			ret = ret ? ret : 20;
		return ret;
	});
	EXPECT_EQ(rc, 0) << "10-15: setup, 16: copies not charged, 17: Shmem "
	                    "wrong while isolated, 18: unregister, 19: originals "
	                    "not uncharged, 20: memcg not back to baseline";
	EXPECT_LT(std::labs(meminfo_kb("Shmem") - shmem0), kSlack / 1024)
	        << "Shmem not back to baseline";
	rmdir(cg.c_str());
}

// Stress: pins (io_uring fixed buffers, vmsplice) taken, dropped and
// written through, page faults on read-only shared mappings, truncate and
// hole punch attempts past the checked range, all racing the isolating
// seal. Every page has its own content; after the seal every reader sees
// exactly the content of before, however the pinners write.
TEST(SealIsolateStress, PinsFaultsAndTruncateRacingTheSeal)
{
	SKIP_WITHOUT_MODULE();
	const char *env = std::getenv("MEMFD_STRESS_SECONDS");
	const double seconds = env ? std::atof(env) : 3.0;
	constexpr std::size_t kPages = 64, kChurn = 8;
	const std::size_t ps = page_size(), kLen = kPages * ps;
	const std::size_t kChecked = (kPages - kChurn) * ps;
	std::string pattern(kLen, '\0');
	for (std::size_t i = 0; i < kLen; i++)
		pattern[i] = static_cast<char>(1 + (i / ps * 7 + i % 13) % 251);
	owned_fd zsrc = temp_with(std::string(kLen, 'Z'));

	std::mt19937 rng(17);
	int rounds = 0;
	double max_ms = 0;
	std::atomic<long> early_splices{0};
	const auto t_end = steady::now() + std::chrono::duration<double>(seconds);
	while (steady::now() < t_end || rounds < 3) {
		rounds++;
		owned_fd m{library_create("iso-stress", MFD_CLOEXEC | MFD_ALLOW_SEALING)};
		ASSERT_TRUE(m);
		ASSERT_EQ(pwrite(m.get(), pattern.data(), kLen, 0), static_cast<ssize_t>(kLen));
		char *w = static_cast<char *>(
		        mmap(nullptr, kLen, PROT_READ | PROT_WRITE, MAP_SHARED, m.get(), 0));
		ASSERT_NE(w, MAP_FAILED);
		// write pins, taken before the seal: some pages in fixed buffers
		const std::size_t first = rng() % (kPages - kChurn - 4);
		const std::size_t npin = 1 + rng() % 4;
		FixedBuffer buf(w + first * ps, npin * ps);
		ASSERT_TRUE(buf.ok());
		int vpipe[2];
		ASSERT_EQ(pipe(vpipe), 0);
		iovec viov{w + (rng() % (kPages - kChurn)) * ps, ps};
		ASSERT_EQ(vmsplice(vpipe[1], &viov, 1, 0), static_cast<ssize_t>(ps));
		ASSERT_EQ(munmap(w, kLen), 0);

		owned_fd ro{open(proc_path(m.get()).c_str(), O_RDONLY | O_CLOEXEC)};
		ASSERT_TRUE(ro);
		const char *r = static_cast<const char *>(
		        mmap(nullptr, kLen, PROT_READ, MAP_SHARED, ro.get(), 0));
		ASSERT_NE(r, MAP_FAILED);

		std::atomic<bool> stop{false}, sealed{false};
		std::atomic<long> bad_maps{0}, bad_splices{0};
		std::atomic<int> bad_byte{0};
		std::atomic<long> bad_page{-1};
		std::atomic<int> bad_when{-1}; // 0 before the seal returned, 1 after
		const auto first_diff = [&](const char *got, std::size_t pg) {
			for (std::size_t i = 0; i < ps; i++)
				if (got[i] != pattern[pg * ps + i])
					return static_cast<int>(static_cast<unsigned char>(got[i]));
			return -1;
		};
		std::vector<std::thread> threads;
		// faults: read every checked page through the old mapping,
		// dropping it now and then so pages refault
		for (int t = 0; t < 2; t++)
			threads.emplace_back([&, t] {
				std::mt19937 lr(static_cast<unsigned>(t + rounds));
				while (!stop.load()) {
					const std::size_t pg = lr() % (kPages - kChurn);
					const bool after_seal = sealed.load();
					if (std::memcmp(r + pg * ps, pattern.data() + pg * ps, ps) != 0) {
						bad_byte = first_diff(r + pg * ps, pg);
						bad_page = static_cast<long>(pg);
						bad_when = after_seal ? 1 : 0;
						bad_maps++;
					}
					if (lr() % 16 == 0)
						madvise(const_cast<char *>(r), kLen, MADV_DONTNEED);
				}
			});
		// zaps racing the seal: MADV_DONTNEED of the pinned pages, whose
		// TLB flush may still be owed when the seal finds them unmapped
		threads.emplace_back([&] {
			while (!stop.load())
				madvise(const_cast<char *>(r), kLen, MADV_DONTNEED);
		});
		// read pins coming and going: vmsplice from the read-only
		// mapping, drained at once. A page spliced before the seal
		// returned may be a pinned original, which the pinner then
		// writes: only a splice begun after the seal must match.
		threads.emplace_back([&] {
			int pp[2];
			if (pipe(pp) != 0)
				return;
			std::mt19937 lr(static_cast<unsigned>(rounds * 3));
			std::vector<char> sink(ps);
			while (!stop.load()) {
				const std::size_t pg = lr() % (kPages - kChurn);
				iovec iv{const_cast<char *>(r) + pg * ps, ps};
				const bool after_seal = sealed.load();
				if (vmsplice(pp[1], &iv, 1, 0) != static_cast<ssize_t>(ps) ||
				    read(pp[0], sink.data(), ps) != static_cast<ssize_t>(ps) ||
				    std::memcmp(sink.data(), pattern.data() + pg * ps, ps) == 0)
					continue;
				if (!after_seal) {
					early_splices++; // allowed, counted
					continue;
				}
				bad_byte = first_diff(sink.data(), pg);
				bad_splices++;
			}
			close(pp[0]);
			close(pp[1]);
		});
		// hole punch, rewrite, shrink and grow in the churn range (each
		// refused once the seal is in: EPERM)
		threads.emplace_back([&] {
			const off_t churn = static_cast<off_t>(kChecked);
			while (!stop.load()) {
				(void)!fallocate(m.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				                 churn, static_cast<off_t>(ps));
				(void)!pwrite(m.get(), pattern.data() + kChecked, ps, churn);
				(void)!ftruncate(m.get(), static_cast<off_t>(kLen - ps));
				(void)!ftruncate(m.get(), static_cast<off_t>(kLen));
			}
		});
		std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 20));
		const auto t0 = steady::now();
		const int ret = memfd_compat_add_seals2(m.get(), F_SEAL_WRITE, kIsolate);
		const int err = errno;
		const double ms = ms_since(t0);
		max_ms = std::max(max_ms, ms);
		sealed = ret == 0;
		// the pinner writes its fixed buffer after the seal
		const int filled = ret == 0 ? buf.fill_from(zsrc.get()) : -1;
		std::this_thread::sleep_for(std::chrono::milliseconds(5));
		stop = true;
		for (auto &t : threads)
			t.join();
		ASSERT_EQ(ret, 0) << "round " << rounds << ": " << std::strerror(err);
		EXPECT_EQ(filled, static_cast<int>(npin * ps));
		EXPECT_EQ(bad_maps.load(), 0)
		        << "round " << rounds << ": the old mapping showed other content, byte "
		        << bad_byte.load() << " in page " << bad_page.load() << " (pinned: "
		        << first << ".." << first + npin - 1 << ", vmspliced: "
		        << (static_cast<char *>(viov.iov_base) - w) / static_cast<long>(ps)
		        << "), read begun " << (bad_when.load() ? "after" : "before")
		        << " the seal returned";
		EXPECT_EQ(bad_splices.load(), 0)
		        << "round " << rounds << ": a vmsplice after the seal got other content, byte "
		        << bad_byte.load();

		const std::string now = by_read(m.get(), kChecked);
		EXPECT_TRUE(now == pattern.substr(0, kChecked))
		        << "round " << rounds << ": the file changed";
		EXPECT_TRUE(by_mmap(m.get(), kChecked) == pattern.substr(0, kChecked));
		EXPECT_TRUE(by_splice(m.get(), kChecked) == pattern.substr(0, kChecked));
		EXPECT_TRUE(std::string(r, kChecked) == pattern.substr(0, kChecked))
		        << "the old mapping shows a pinned page";
		// the pinner's view: its own write
		owned_fd seen{temp_file()};
		EXPECT_EQ(buf.copy_to(seen.get()), static_cast<int>(npin * ps));
		EXPECT_TRUE(pread_str(seen.get(), npin * ps, 0) == std::string(npin * ps, 'Z'));
		munmap(const_cast<char *>(r), kLen);
		close(vpipe[0]);
		close(vpipe[1]);
		if (HasFailure())
			break;
	}
	std::printf("[ stress ] %d rounds, slowest isolating seal %.1f ms; %ld splices begun "
	            "before a seal saw the pinner's later write\n",
	            rounds, max_ms, early_splices.load());
}

} // namespace
} // namespace guest
