// Seal atomicity under concurrency: threads hammer every path that can
// change a memfd's content while another thread adds
// F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE. Once ADD_SEALS returns success,
// the content must never change again, and every failure must carry an
// errno the seals explain. Runs against both backends (native is the
// reference) for MEMFD_STRESS_SECONDS (default 4) each.
#include "guest_util.hpp"

#include <liburing.h>
#include <sys/uio.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

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

class SealStressTest : public BackendTest {};

TEST_P(SealStressTest, ContentNeverChangesAfterWriteSealReturns)
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

INSTANTIATE_BACKENDS(SealStressTest);

} // namespace
