// The last close of a memfd against path walks through /proc/self/fd that
// started before it: re-opens and chmods of a descriptor another thread is
// closing. The module tears the seal state down at the last close; an open
// or chmod that loses the race must fail cleanly (ENOENT, or EIO on the
// module) without keeping a module reference, and one that wins must get
// a working memfd. The kernel log and the final rmmod catch the rest.
#include "guest_util.hpp"

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace {

using namespace guest;

// References on the module: one per open module memfd or /dev/memfd.
long module_refcnt()
{
	std::ifstream in("/sys/module/memfd_compat/refcnt");
	long n = -1;
	in >> n;
	return n;
}

class LastCloseRace : public BackendTest
{
protected:
	void unexpected(const char *what, int err)
	{
		std::lock_guard<std::mutex> g(lock_);
		unexpected_.insert(std::string(what) + ": " + std::strerror(err));
	}

	// ENOENT: the descriptor was gone before the walk; EIO: the walk
	// reached the inode after the module's teardown.
	bool lost_race(int err) const
	{
		return err == ENOENT || (err == EIO && !is_native());
	}

	std::mutex lock_;
	std::set<std::string> unexpected_;
};
INSTANTIATE_BACKENDS(LastCloseRace);

TEST_P(LastCloseRace, ReopenAndChmodDuringLastClose_WorkOrFailCleanly)
{
	const char *v = std::getenv("MEMFD_STRESS_SECONDS");
	const double seconds = v ? std::atof(v) : 3.0;
	std::atomic<int> current{-1};
	std::atomic<bool> seen{false}, stop{false};
	std::atomic<long> created{0}, reopened{0}, chmodded{0}, eio{0};
	const std::string page(4096, 'p');
	const long refs_before = module_refcnt();

	std::vector<std::thread> threads;
	threads.emplace_back([&] {
		for (unsigned i = 0; !stop; i++) {
			const int fd = create(be(), "last-close",
					      MFD_CLOEXEC | MFD_ALLOW_SEALING);
			if (fd < 0) {
				unexpected("create", errno);
				return;
			}
			if (pwrite(fd, page.data(), page.size(), 0) != 4096)
				unexpected("pwrite", errno);
			if ((i & 1) && add(fd, F_SEAL_SHRINK | F_SEAL_GROW))
				unexpected("add seals", errno);
			// close just as a walk starts; every fourth time let
			// it get further first, so that both outcomes occur
			seen = false;
			current = fd;
			while (!seen && !stop)
				;
			if (i % 4 == 0)
				std::this_thread::sleep_for(std::chrono::microseconds(200));
			current = -1;
			close(fd);
			created++;
		}
	});
	for (int t = 0; t < 2; t++) {
		threads.emplace_back([&] {
			while (!stop) {
				const int n = current;
				if (n < 0)
					continue;
				seen = true;
				const int r = open(proc_path(n).c_str(), O_RDWR | O_CLOEXEC);
				if (r < 0) {
					if (!lost_race(errno))
						unexpected("reopen", errno);
					eio += errno == EIO;
					continue;
				}
				// whatever memfd now has that number: it must work
				if (get(r) < 0)
					unexpected("get seals of the reopened fd", errno);
				if (pwrite(r, "x", 1, 0) != 1)
					unexpected("pwrite to the reopened fd", errno);
				close(r);
				reopened++;
			}
		});
	}
	threads.emplace_back([&] {
		for (unsigned i = 0; !stop; i++) {
			const int n = current;
			if (n < 0)
				continue;
			seen = true;
			if (chmod(proc_path(n).c_str(), (i & 1) ? 0700 : 0600) == 0)
				chmodded++;
			else if (!lost_race(errno))
				unexpected("chmod", errno);
			else
				eio += errno == EIO;
		}
	});

	std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
	stop = true;
	for (auto &t : threads)
		t.join();

	std::printf("%s: %ld memfds closed under %ld re-opens and %ld chmods; "
		    "%ld walks lost with EIO\n", to_string(be()), created.load(),
		    reopened.load(), chmodded.load(), eio.load());
	EXPECT_TRUE(unexpected_.empty())
		<< ::testing::PrintToString(unexpected_);
	EXPECT_GT(created.load(), 100);
	EXPECT_GT(reopened.load(), 0);
	EXPECT_GT(chmodded.load(), 0);
	// an open that lost the race must not keep a module reference
	// (it did when teardown swapped the inode's file operations)
	if (!is_native()) {
		EXPECT_EQ(module_refcnt(), refs_before);
	}
}

} // namespace
