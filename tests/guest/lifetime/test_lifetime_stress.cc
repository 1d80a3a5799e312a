// Races on shared memfds: threads create and replace them, write,
// truncate, fallocate, map/mprotect/mremap/unmap, seal, re-open through
// /proc, pass them over SCM_RIGHTS, fork and close, all at once, for
// MEMFD_STRESS_SECONDS (default 4) per backend. Afterwards: no sealed file
// ever changed, no errno outside the documented set, memory is back.
//
// A module memfd's seals are the kernel's own (SHMEM_I(inode)->seals);
// there is no second copy that could disagree. So seals are added through
// the backend's route and through plain fcntl on the same files at once,
// and every reader agrees at every moment: the backend's F_GET_SEALS, plain
// fcntl in this process, in a forked child and in a receiver of the fd
// (seals only grow, so a later read holds every bit of an earlier one).
// For module backends the module's refcnt is back to its baseline.
#include "../guest_util.hpp"
#include "lifetime_util.hpp"

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

namespace {

using namespace guest;
using steady = std::chrono::steady_clock;

constexpr int kSlots = 8;
constexpr std::size_t kSize = 32 * 1024;

std::uint64_t checksum(int fd)
{
	std::string s(kSize, '\0');
	const ssize_t n = pread(fd, s.data(), s.size(), 0);
	std::uint64_t h = 1469598103934665603ull + static_cast<std::uint64_t>(n);
	for (ssize_t i = 0; i < n; i++)
		h = (h ^ static_cast<unsigned char>(s[i])) * 1099511628211ull;
	return h + (static_cast<std::uint64_t>(file_size(fd)) << 32);
}

class Pool {
public:
	explicit Pool(backend b) : be_(b)
	{
		for (int &fd : slots_)
			fd = fresh();
	}
	~Pool()
	{
		for (int fd : slots_)
			close(fd);
	}

	// A private dup of a random slot: valid however slots change.
	int take(std::mt19937 &rng)
	{
		std::lock_guard<std::mutex> g(lock_);
		return fcntl(slots_[rng() % kSlots], F_DUPFD_CLOEXEC, 0);
	}

	void replace(std::mt19937 &rng)
	{
		int fd = fresh();
		if (fd < 0)
			return error("create", errno);
		{
			std::lock_guard<std::mutex> g(lock_);
			std::swap(slots_[rng() % kSlots], fd);
		}
		close(fd);
	}

	// Seals @fd against writes and remembers its content: through the
	// backend's route, or through plain fcntl, which writes the same seals.
	void seal(int fd, bool plain_fcntl)
	{
		constexpr unsigned seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
		if (plain_fcntl ? fcntl(fd, F_ADD_SEALS, seals) : add_seals(be_, fd, seals)) {
			if (errno != EBUSY && errno != EPERM)
				error("add seals", errno);
			return;
		}
		// every reader sees the seal at once
		if ((get_seals(be_, fd) & seals) != seals ||
		    (fcntl(fd, F_GET_SEALS) & seals) != seals)
			error("seals not seen by every reader right after sealing", 0);
		struct stat st {};
		fstat(fd, &st);
		const std::uint64_t sum = checksum(fd);
		std::lock_guard<std::mutex> g(lock_);
		sealed_.emplace(st.st_ino, sum); // first seal wins, later equal
	}

	// Every sealed file still in a slot has the content it was sealed with.
	void verify()
	{
		std::lock_guard<std::mutex> g(lock_);
		for (int fd : slots_) {
			struct stat st {};
			fstat(fd, &st);
			auto it = sealed_.find(st.st_ino);
			if (it != sealed_.end() && checksum(fd) != it->second)
				changed_++;
		}
	}

	// Two reads of the seals, the backend's then plain fcntl's: the
	// later one holds every bit of the earlier. -1 (errno set) on error.
	int consistent_seals(int fd)
	{
		const int first = get_seals(be_, fd);
		const int second = fcntl(fd, F_GET_SEALS);
		if (first < 0 || second < 0) {
			error("F_GET_SEALS", errno);
			return -1;
		}
		if (first & ~second)
			error("the backend's F_GET_SEALS and fcntl's disagree", 0);
		return second;
	}

	void error(const char *what, int err)
	{
		std::lock_guard<std::mutex> g(lock_);
		unexpected_.insert(std::string(what) + ": " + std::strerror(err));
	}

	backend be() const { return be_; }
	int changed() const { return changed_; }
	std::set<std::string> unexpected() const { return unexpected_; }

private:
	int fresh()
	{
		const int fd = create(be_, "race", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (fd >= 0 && ftruncate(fd, kSize) != 0)
			error("ftruncate(new)", errno);
		return fd;
	}

	backend be_;
	int slots_[kSlots];
	std::mutex lock_;
	std::map<ino_t, std::uint64_t> sealed_;
	std::set<std::string> unexpected_;
	int changed_ = 0;
};

// Each operation gets a private fd and may fail only as the seals explain.
void operate(Pool &pool, std::mt19937 &rng, int op)
{
	const int fd = pool.take(rng);
	if (fd < 0)
		return pool.error("dup", errno);
	char buf[256];
	std::memset(buf, static_cast<int>(rng() & 0xff), sizeof(buf));
	switch (op) {
	case 0:
		if (pwrite(fd, buf, sizeof(buf), rng() % kSize) < 0 && errno != EPERM)
			pool.error("pwrite", errno);
		break;
	case 1:
		if (ftruncate(fd, (rng() & 1) ? kSize / 2 : kSize) < 0 &&
		    errno != EPERM)
			pool.error("ftruncate", errno);
		break;
	case 2:
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (rng() % 8) * 4096, 4096) < 0 && errno != EPERM)
			pool.error("fallocate", errno);
		break;
	case 3: {
		void *p = mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED,
			       fd, 0);
		if (p == MAP_FAILED) {
			if (errno != EPERM)
				pool.error("mmap", errno);
			p = mmap(nullptr, 8192, PROT_READ, MAP_SHARED, fd, 0);
			if (p == MAP_FAILED) {
				// 6.1's native refusal, and while a seal is added
				if (errno != EPERM)
					pool.error("mmap(RO)", errno);
				break;
			}
			if (mprotect(p, 8192, PROT_READ | PROT_WRITE) == 0)
				pool.error("mprotect on a sealed file", 0);
			else if (errno != EACCES)
				pool.error("mprotect", errno);
		} else {
			// the file may have shrunk: only touch the first page,
			// which the truncations above always keep
			static_cast<volatile char *>(p)[rng() % 4096] = 'm';
			void *q = mremap(p, 8192, 16384, MREMAP_MAYMOVE);
			if (q != MAP_FAILED)
				p = q;
			munmap(p, q != MAP_FAILED ? 16384 : 8192);
			break;
		}
		munmap(p, 8192);
		break;
	}
	case 4:
		pool.seal(fd, rng() & 1);
		pool.consistent_seals(fd);
		break;
	case 5: {
		const int r = open(proc_path(fd).c_str(), O_RDWR | O_CLOEXEC);
		if (r < 0)
			pool.error("reopen", errno);
		else if (pwrite(r, buf, 16, 0) < 0 && errno != EPERM)
			pool.error("pwrite(reopened)", errno);
		close(r);
		break;
	}
	case 6: {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv))
			break;
		// sometimes close the socket with the fd still in flight
		const int before = pool.consistent_seals(fd);
		if (send_fd(sv[0], fd) == 0 && (rng() & 1)) {
			const int got = recv_fd(sv[1]);
			// the receiver reads the same seals with plain fcntl
			const int seen = got < 0 ? -1 : fcntl(got, F_GET_SEALS);
			if (seen < 0)
				pool.error("receive and get seals", errno);
			else if (before >= 0 && (before & ~seen))
				pool.error("a received fd lost seals", 0);
			close(got);
		}
		close(sv[0]);
		close(sv[1]);
		break;
	}
	case 7: {
		// a child's plain fcntl sees the seals, and they explain its EPERM
		const int before = pool.consistent_seals(fd);
		const pid_t pid = fork();
		if (pid == 0) {
			const int seen = fcntl(fd, F_GET_SEALS);
			if (seen < 0 || (before >= 0 && (before & ~seen)))
				_exit(2);
			if (pwrite(fd, "child", 5, 0) == 5)
				_exit(0);
			const bool sealed = errno == EPERM &&
					    (fcntl(fd, F_GET_SEALS) &
					     (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE));
			_exit(sealed ? 0 : 1);
		}
		int status = 0;
		if (pid > 0 && waitpid(pid, &status, 0) == pid &&
		    !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
			pool.error("child pwrite", 0);
		break;
	}
	default:
		pool.replace(rng);
	}
	close(fd);
}

class LifetimeStress : public BackendTest {};
INSTANTIATE_BACKENDS(LifetimeStress);

TEST_P(LifetimeStress, EverythingAtOnce_SealsHoldAndMemoryReturns)
{
	const char *v = std::getenv("MEMFD_STRESS_SECONDS");
	const double seconds = v ? std::atof(v) : 4.0;
	const long shmem_before = lifetime::meminfo_kb("Shmem");
	// our own references: guest_util's device() and the library's
	if (is_module(be())) {
		ASSERT_GE(memfd_compat_get_backend(), 0);
	}
	const long refs_before = lifetime::settled_refcnt();
	std::atomic<long> ops{0};
	int changed = 0;
	std::set<std::string> unexpected;
	{
		Pool pool(be());
		std::atomic<bool> stop{false};
		std::vector<std::thread> threads;
		for (int t = 0; t < 9; t++) {
			threads.emplace_back([&, t] {
				std::mt19937 rng(std::random_device{}() + t);
				while (!stop) {
					operate(pool, rng, t == 8 ? static_cast<int>(rng() % 9) : t);
					ops++;
				}
			});
		}
		const auto end = steady::now() + std::chrono::duration<double>(seconds);
		while (steady::now() < end) {
			std::this_thread::sleep_for(std::chrono::milliseconds(20));
			pool.verify();
		}
		stop = true;
		for (auto &t : threads)
			t.join();
		pool.verify();
		changed = pool.changed();
		unexpected = pool.unexpected();
	}
	std::printf("[ %s ] %ld operations\n", to_string(be()), ops.load());
	EXPECT_EQ(changed, 0) << "a sealed file changed";
	for (const auto &u : unexpected)
		ADD_FAILURE() << "unexpected: " << u;
	// the pool is closed: everything it held must be gone (slack for
	// the LRU and for other tests' leftovers)
	EXPECT_LT(lifetime::meminfo_kb("Shmem") - shmem_before, 2048);
	// nothing of the pool, the children or the sockets holds the module
	if (is_module(be())) {
		EXPECT_EQ(lifetime::refcnt_back_to(refs_before), refs_before);
	}
}

} // namespace
