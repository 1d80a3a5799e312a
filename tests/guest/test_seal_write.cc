// F_SEAL_WRITE blocks every path that changes the data, in three parts:
//
// 1. Each path on its own (SealWrite): write, pwrite, writev, splice,
//    sendfile, copy_file_range, fallocate, MADV_REMOVE, shared writable
//    mappings and mprotect upgrades.
// 2. io_uring writes (SealIoUring), which honour F_SEAL_WRITE and
//    F_SEAL_GROW like write(2).
// 3. Atomicity under concurrency (SealWriteStress): threads hammer every
//    path that can change a memfd's content while another thread adds
//    F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE. Once the seal call returns
//    success, the content must never change again, and every failure
//    must carry an errno the seals explain. Every backend, native the
//    reference, for MEMFD_STRESS_SECONDS (default 4) each.
//
// Pinned pages and the write seal are in test_pins.cc, test_pins_fuse.cc
// and test_seal_isolate.cc; F_SEAL_FUTURE_WRITE in test_seal_future_write.cc.
#include "guest_util.hpp"

#include <linux/falloc.h>
#include "uring_util.hpp"

#include <liburing.h>
#include <sys/sendfile.h>
#include <sys/uio.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

// --- 1. each path

namespace guest
{
namespace
{

class SealWrite : public BackendTest
{
protected:
	// A page of 'x', sealed with F_SEAL_WRITE.
	owned_fd make_sealed()
	{
		owned_fd m = make_with(std::string(page_size(), 'x'));
		EXPECT_EQ(add(m.get(), F_SEAL_WRITE), 0) << std::strerror(errno);
		return m;
	}
	void expect_unchanged(int fd)
	{
		EXPECT_EQ(pread_str(fd, page_size(), 0), std::string(page_size(), 'x'));
	}
};
INSTANTIATE_BACKENDS(SealWrite);

TEST_P(SealWrite, Write_EPERM)
{
	owned_fd m = make_sealed();
	EXPECT_ERRNO(write(m.get(), "y", 1), EPERM);
	expect_unchanged(m.get());
}

TEST_P(SealWrite, Pwrite_EPERM)
{
	owned_fd m = make_sealed();
	EXPECT_ERRNO(pwrite(m.get(), "y", 1, 10), EPERM);
	EXPECT_ERRNO(pwrite(m.get(), "y", 1, 1 << 20), EPERM);
	expect_unchanged(m.get());
}

TEST_P(SealWrite, Writev_EPERM)
{
	owned_fd m = make_sealed();
	char a[] = "ab", b[] = "cd";
	iovec iov[] = {{a, 2}, {b, 2}};
	EXPECT_ERRNO(writev(m.get(), iov, 2), EPERM);
	EXPECT_ERRNO(pwritev(m.get(), iov, 2, 0), EPERM);
	expect_unchanged(m.get());
}

TEST_P(SealWrite, SpliceIntoFile_EPERM)
{
	owned_fd m = make_sealed();
	int p[2];
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	ASSERT_EQ(write(p[1], "spl", 3), 3);
	loff_t off = 0;
	EXPECT_ERRNO(splice(p[0], nullptr, m.get(), &off, 3, 0), EPERM);
	close(p[0]);
	close(p[1]);
	expect_unchanged(m.get());
}

TEST_P(SealWrite, SendfileIntoFile_EPERM)
{
	owned_fd src{native_create("src", MFD_CLOEXEC)};
	ASSERT_EQ(pwrite(src.get(), "snd", 3, 0), 3);
	owned_fd m = make_sealed();
	off_t off = 0;
	EXPECT_ERRNO(sendfile(m.get(), src.get(), &off, 3), EPERM);
	expect_unchanged(m.get());
}

TEST_P(SealWrite, CopyFileRangeIntoFile_EPERM)
{
	owned_fd src = make_with("cfr");
	owned_fd m = make_sealed();
	loff_t in = 0, out = 0;
	EXPECT_ERRNO(copy_file_range(src.get(), &in, m.get(), &out, 3, 0), EPERM);
	expect_unchanged(m.get());
}

TEST_P(SealWrite, CopyFileRangeOutOfFile_Ok)
{
	owned_fd m = make_sealed();
	owned_fd dst = make();
	loff_t in = 0, out = 0;
	EXPECT_EQ(copy_file_range(m.get(), &in, dst.get(), &out, 3, 0), 3);
	EXPECT_EQ(pread_str(dst.get(), 3, 0), "xxx");
}

TEST_P(SealWrite, FallocatePunchHole_EPERM)
{
	owned_fd m = make_sealed();
	EXPECT_ERRNO(fallocate(m.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
	                       page_size()),
	             EPERM);
	expect_unchanged(m.get());
}

TEST_P(SealWrite, Ftruncate_NotBlockedByWriteSealAlone)
{
	// Upstream: size changes are the business of SHRINK and GROW only.
	owned_fd m = make_sealed();
	EXPECT_EQ(ftruncate(m.get(), 2 * page_size()), 0);
	EXPECT_EQ(ftruncate(m.get(), page_size()), 0);
}

TEST_P(SealWrite, MmapSharedWritable_EPERM)
{
	owned_fd m = make_sealed();
	EXPECT_EQ(mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, m.get(),
	               0),
	          MAP_FAILED);
	EXPECT_EQ(errno, EPERM);
}

TEST_P(SealWrite, MmapSharedReadOnly_Ok)
{
	SKIP_NATIVE_UNLESS(native_allows_readonly_shared_map_under_write_seal(),
	                   "read-only MAP_SHARED of a write-sealed memfd (6.7)");
	owned_fd m = make_sealed();
	void *p = mmap(nullptr, page_size(), PROT_READ, MAP_SHARED, m.get(), 0);
	ASSERT_NE(p, MAP_FAILED) << std::strerror(errno);
	EXPECT_EQ(static_cast<char *>(p)[0], 'x');
	munmap(p, page_size());
}

TEST_P(SealWrite, MprotectWriteOnReadOnlySharedMapping_EACCES)
{
	SKIP_NATIVE_UNLESS(native_allows_readonly_shared_map_under_write_seal(),
	                   "read-only MAP_SHARED of a write-sealed memfd (6.7)");
	owned_fd m = make_sealed();
	void *p = mmap(nullptr, page_size(), PROT_READ, MAP_SHARED, m.get(), 0);
	ASSERT_NE(p, MAP_FAILED) << std::strerror(errno);
	EXPECT_ERRNO(mprotect(p, page_size(), PROT_READ | PROT_WRITE), EACCES);
	munmap(p, page_size());
}

TEST_P(SealWrite, MadviseRemoveOnReadOnlySharedMapping_EACCES)
{
	SKIP_NATIVE_UNLESS(native_allows_readonly_shared_map_under_write_seal(),
	                   "read-only MAP_SHARED of a write-sealed memfd (6.7)");
	owned_fd m = make_sealed();
	void *p = mmap(nullptr, page_size(), PROT_READ, MAP_SHARED, m.get(), 0);
	ASSERT_NE(p, MAP_FAILED) << std::strerror(errno);
	EXPECT_ERRNO(madvise(p, page_size(), MADV_REMOVE), EACCES);
	munmap(p, page_size());
	expect_unchanged(m.get());
}

TEST_P(SealWrite, MmapPrivateWritable_CowLeavesFileUnchanged)
{
	owned_fd m = make_sealed();
	void *p = mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE, m.get(),
	               0);
	ASSERT_NE(p, MAP_FAILED) << std::strerror(errno);
	static_cast<char *>(p)[0] = 'p';
	EXPECT_EQ(static_cast<char *>(p)[0], 'p');
	munmap(p, page_size());
	expect_unchanged(m.get());
}

TEST_P(SealWrite, MprotectWriteOnPrivateMapping_Ok)
{
	owned_fd m = make_sealed();
	void *p = mmap(nullptr, page_size(), PROT_READ, MAP_PRIVATE, m.get(), 0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_EQ(mprotect(p, page_size(), PROT_READ | PROT_WRITE), 0);
	static_cast<char *>(p)[0] = 'p';
	munmap(p, page_size());
	expect_unchanged(m.get());
}

TEST_P(SealWrite, AddWhileSharedWritableMapping_EBUSYAndNothingApplied)
{
	owned_fd m = make_with("mapped");
	void *p = mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, m.get(),
	               0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_ERRNO(add(m.get(), F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW), EBUSY);
	EXPECT_EQ(get(m.get()), 0);
	static_cast<char *>(p)[0] = 'M'; // the mapping still writes
	EXPECT_EQ(pread_str(m.get(), 1, 0), "M");
	munmap(p, page_size());
}

TEST_P(SealWrite, AddAfterMunmap_Ok)
{
	owned_fd m = make_with("mapped");
	void *p = mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, m.get(),
	               0);
	ASSERT_NE(p, MAP_FAILED);
	static_cast<char *>(p)[0] = 'M';
	ASSERT_EQ(munmap(p, page_size()), 0);
	EXPECT_EQ(add(m.get(), F_SEAL_WRITE), 0) << std::strerror(errno);
	EXPECT_EQ(pread_str(m.get(), 6, 0), "Mapped");
}

TEST_P(SealWrite, AddWhileMappingInForkedChild_EBUSY)
{
	owned_fd m = make_with("mapped");
	void *p = mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, m.get(),
	               0);
	ASSERT_NE(p, MAP_FAILED);
	int go[2];
	ASSERT_EQ(pipe2(go, O_CLOEXEC), 0);
	const pid_t pid = fork();
	if (pid == 0) { // holds the inherited mapping until told to exit
		close(go[1]);
		char c;
		(void)!read(go[0], &c, 1);
		_exit(0);
	}
	ASSERT_EQ(munmap(p, page_size()), 0);
	EXPECT_ERRNO(add(m.get(), F_SEAL_WRITE), EBUSY);
	close(go[1]);
	int status = 0;
	waitpid(pid, &status, 0);
	close(go[0]);
	EXPECT_EQ(add(m.get(), F_SEAL_WRITE), 0);
}

TEST_P(SealWrite, WriteJustBeforeSeal_SealGranted)
{
	// Freshly written pages sit in per-CPU LRU batches with an extra
	// reference; that must not be mistaken for a pin.
	owned_fd m = make();
	const std::string data(16 * page_size(), 'w');
	ASSERT_EQ(pwrite(m.get(), data.data(), data.size(), 0),
	          static_cast<ssize_t>(data.size()));
	EXPECT_EQ(add(m.get(), F_SEAL_WRITE), 0) << std::strerror(errno);
}

TEST_P(SealWrite, ReadOnlyFdPathsStillRead)
{
	owned_fd m = make_sealed();
	owned_fd r{open(proc_path(m.get()).c_str(), O_RDONLY | O_CLOEXEC)};
	ASSERT_TRUE(r);
	EXPECT_EQ(pread_str(r.get(), 3, 0), "xxx");
}

} // namespace
} // namespace guest

// --- 2. io_uring

namespace guest
{
namespace
{

class SealIoUring : public BackendTest
{
protected:
	void SetUp() override
	{
		BackendTest::SetUp();
		if (IsSkipped() || HasFatalFailure())
			return;
		const int ret = io_uring_queue_init(4, &ring_, 0);
		if (ret < 0)
			GTEST_SKIP() << "io_uring unavailable: " << std::strerror(-ret);
		ready_ = true;
	}
	void TearDown() override
	{
		if (ready_)
			io_uring_queue_exit(&ring_);
	}

	// Submits the one prepared request and returns its completion's res
	// (bytes or -errno).
	int complete()
	{
		return uring_complete(&ring_);
	}

	// One IORING_OP_WRITE.
	int uring_write(int fd, const char *data, unsigned len, off_t off)
	{
		io_uring_prep_write(io_uring_get_sqe(&ring_), fd, data, len, off);
		return complete();
	}

	// One IORING_OP_WRITEV.
	int uring_writev(int fd, const iovec *iov, unsigned n, off_t off)
	{
		io_uring_prep_writev(io_uring_get_sqe(&ring_), fd, iov, n, off);
		return complete();
	}

	io_uring ring_{};
	bool ready_ = false;
};
INSTANTIATE_BACKENDS(SealIoUring);

TEST_P(SealIoUring, Write_Unsealed_Ok)
{
	owned_fd m = make_with("uring");
	EXPECT_EQ(uring_write(m.get(), "URING", 5, 0), 5);
	EXPECT_EQ(pread_str(m.get(), 5, 0), "URING");
}

TEST_P(SealIoUring, Write_AfterSealWrite_EPERM)
{
	owned_fd m = make_with("uring");
	ASSERT_EQ(add(m.get(), F_SEAL_WRITE), 0);
	EXPECT_EQ(uring_write(m.get(), "URING", 5, 0), -EPERM);
	EXPECT_EQ(pread_str(m.get(), 5, 0), "uring");
}

TEST_P(SealIoUring, Writev_AfterSealFutureWrite_EPERM)
{
	owned_fd m = make_with("uring");
	ASSERT_EQ(add(m.get(), F_SEAL_FUTURE_WRITE), 0);
	char a[] = "UR";
	iovec iov[] = {{a, 2}};
	EXPECT_EQ(uring_writev(m.get(), iov, 1, 0), -EPERM);
	EXPECT_EQ(pread_str(m.get(), 5, 0), "uring");
}

TEST_P(SealIoUring, WritePastEof_AfterSealGrow_EPERM)
{
	owned_fd m = make_with("uring");
	ASSERT_EQ(add(m.get(), F_SEAL_GROW), 0);
	EXPECT_EQ(uring_write(m.get(), "more", 4, 5), -EPERM);
	EXPECT_EQ(file_size(m.get()), 5);
}

} // namespace
} // namespace guest

// --- 3. under concurrency

namespace {

using namespace guest;
using steady = std::chrono::steady_clock;

constexpr std::size_t kMapped = 64 * 1024;   // what the mapping paths touch
constexpr std::size_t kMaxSize = 128 * 1024; // what ftruncate toggles to
constexpr unsigned kMapperPauseUs = 400;
constexpr auto kSealPatience = std::chrono::seconds(20);

double stress_seconds()
{
	const char *v = std::getenv("MEMFD_STRESS_SECONDS");
	return v ? std::atof(v) : 4.0;
}

std::uint64_t checksum(int fd)
{
	std::string s(kMaxSize, '\0');
	const ssize_t n = pread(fd, s.data(), s.size(), 0);
	std::uint64_t h = 1469598103934665603ull ^ static_cast<std::uint64_t>(n);
	for (ssize_t i = 0; i < n; i++)
		h = (h ^ static_cast<unsigned char>(s[i])) * 1099511628211ull;
	return h ^ static_cast<std::uint64_t>(file_size(fd)) << 1;
}

class Hammer {
public:
	explicit Hammer(int fd) : fd_(fd) {}

	// Records a failed call; errnos outside @allowed are reported.
	void failed(const char *what, int err, std::initializer_list<int> allowed)
	{
		for (int a : allowed)
			if (a == err)
				return;
		std::lock_guard<std::mutex> g(lock_);
		unexpected_.insert(std::string(what) + ": " + std::strerror(err));
	}

	// Runs @op in a loop on a new thread; @pause_us > 0 sleeps up to
	// that long between calls (mapping threads: the seal can only be
	// granted in moments when no writable mapping exists).
	void run(const std::function<void(std::mt19937 &)> &op,
		 unsigned pause_us = 0)
	{
		threads_.emplace_back([this, op, pause_us] {
			std::mt19937 rng(std::random_device{}());
			while (!stop_.load(std::memory_order_relaxed)) {
				op(rng);
				ops_.fetch_add(1, std::memory_order_relaxed);
				if (pause_us)
					std::this_thread::sleep_for(
						std::chrono::microseconds(
							rng() % pause_us));
			}
		});
	}

	void stop()
	{
		stop_ = true;
		for (auto &t : threads_)
			t.join();
		threads_.clear();
	}

	int fd() const { return fd_; }
	long ops() const { return ops_; }
	std::set<std::string> unexpected() const { return unexpected_; }

private:
	int fd_;
	std::atomic<bool> stop_{false};
	std::atomic<long> ops_{0};
	std::vector<std::thread> threads_;
	std::mutex lock_;
	std::set<std::string> unexpected_;
};

void start_writers(Hammer &h)
{
	const int fd = h.fd();
	h.run([&h, fd](std::mt19937 &rng) {
		char buf[512];
		std::memset(buf, static_cast<int>(rng() & 0xff), sizeof(buf));
		const off_t off = static_cast<off_t>(rng() % (kMapped - sizeof(buf)));
		if (pwrite(fd, buf, sizeof(buf), off) < 0)
			h.failed("pwrite", errno, {EPERM});
	});
	h.run([&h, fd](std::mt19937 &rng) {
		char a[64], b[64];
		std::memset(a, 'v', sizeof(a));
		std::memset(b, static_cast<int>(rng() & 0xff), sizeof(b));
		iovec iov[2] = {{a, sizeof(a)}, {b, sizeof(b)}};
		if (pwritev(fd, iov, 2, static_cast<off_t>(rng() % 4096)) < 0)
			h.failed("pwritev", errno, {EPERM});
	});
	h.run([&h, fd](std::mt19937 &rng) {
		const off_t size = (rng() & 1) ? kMapped : kMaxSize;
		if (ftruncate(fd, size) < 0)
			h.failed("ftruncate", errno, {EPERM});
	});
	h.run([&h, fd](std::mt19937 &rng) {
		const off_t off = static_cast<off_t>((rng() % 16) * 4096);
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      off, 4096) < 0)
			h.failed("fallocate(PUNCH_HOLE)", errno, {EPERM});
	});
}

void start_mappers(Hammer &h)
{
	const int fd = h.fd();
	h.run([&h, fd](std::mt19937 &rng) {
		void *p = mmap(nullptr, kMapped, PROT_READ | PROT_WRITE,
			       MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			return h.failed("mmap(RW, SHARED)", errno, {EPERM});
		static_cast<char *>(p)[rng() % kMapped] = 'm';
		if (madvise(static_cast<char *>(p) + 4096 * (rng() % 8), 4096,
			    MADV_REMOVE) < 0)
			h.failed("madvise(REMOVE)", errno, {EPERM});
		munmap(p, kMapped);
	}, kMapperPauseUs);
	h.run([&h, fd](std::mt19937 &rng) {
		void *p = mmap(nullptr, kMapped, PROT_READ, MAP_SHARED, fd, 0);
		// upstream refuses even this while a write seal is being added
		if (p == MAP_FAILED)
			return h.failed("mmap(RO, SHARED)", errno, {EPERM});
		if (mprotect(p, kMapped, PROT_READ | PROT_WRITE) == 0)
			static_cast<char *>(p)[rng() % kMapped] = 'p';
		else
			h.failed("mprotect(RW)", errno, {EACCES});
		munmap(p, kMapped);
	}, kMapperPauseUs);
	h.run([&h, fd](std::mt19937 &rng) {
		void *p = mmap(nullptr, 8192, PROT_READ | PROT_WRITE,
			       MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			return h.failed("mmap(RW, SHARED)", errno, {EPERM});
		void *q = mremap(p, 8192, kMapped, MREMAP_MAYMOVE);
		if (q == MAP_FAILED) {
			h.failed("mremap", errno, {});
			munmap(p, 8192);
			return;
		}
		static_cast<char *>(q)[rng() % kMapped] = 'r';
		munmap(q, kMapped);
	}, kMapperPauseUs);
}

void start_io_uring(Hammer &h)
{
	const int fd = h.fd();
	h.run([&h, fd](std::mt19937 &rng) {
		thread_local io_uring ring{};
		thread_local bool ready = io_uring_queue_init(4, &ring, 0) == 0;
		if (!ready)
			return h.failed("io_uring_queue_init", ENOSYS, {});
		char buf[256];
		std::memset(buf, 'u', sizeof(buf));
		io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		io_uring_prep_write(sqe, fd, buf, sizeof(buf), rng() % 8192);
		io_uring_submit(&ring);
		io_uring_cqe *cqe = nullptr;
		if (io_uring_wait_cqe(&ring, &cqe) == 0) {
			if (cqe->res < 0)
				h.failed("io_uring write", -cqe->res, {EPERM});
			io_uring_cqe_seen(&ring, cqe);
		}
	});
}

class SealWriteStress : public BackendTest {};

TEST_P(SealWriteStress, ContentNeverChangesAfterWriteSealReturns)
{
	constexpr unsigned kSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
	const auto deadline = steady::now() +
		std::chrono::duration<double>(stress_seconds());
	int rounds = 0;
	long ops = 0, busy = 0;

	while (rounds == 0 || steady::now() < deadline) {
		owned_fd m = make();
		ASSERT_EQ(ftruncate(m.get(), kMapped), 0);
		Hammer h(m.get());
		start_writers(h);
		start_mappers(h);
		start_io_uring(h);

		// let the hammers run, then seal while they keep going
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
		const auto give_up = steady::now() + kSealPatience;
		while (add(m.get(), kSeals) != 0) {
			ASSERT_EQ(errno, EBUSY) << std::strerror(errno);
			ASSERT_LT(steady::now(), give_up)
				<< "never found a moment without writable mappings";
			busy++;
			std::this_thread::sleep_for(std::chrono::microseconds(200));
		}
		const std::uint64_t sealed = checksum(m.get());
		for (int i = 0; i < 20; i++) {
			std::this_thread::sleep_for(std::chrono::milliseconds(5));
			ASSERT_EQ(checksum(m.get()), sealed)
				<< "content changed after the seal, round "
				<< rounds << ", check " << i;
		}
		h.stop();
		EXPECT_EQ(checksum(m.get()), sealed);
		EXPECT_EQ(get(m.get()) & kSeals, kSeals);
		for (const auto &u : h.unexpected())
			ADD_FAILURE() << "unexpected error: " << u;
		ops += h.ops();
		rounds++;
	}
	std::printf("[ %s ] %d rounds, %ld operations, %ld EBUSY retries\n",
		    to_string(be()), rounds, ops, busy);
	RecordProperty("rounds", rounds);
}

INSTANTIATE_BACKENDS(SealWriteStress);

} // namespace
