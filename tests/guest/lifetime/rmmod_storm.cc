// memfd_rmmod_storm: rmmod and insmod in a loop, as fast as they go, under
// a storm of everything that reaches a module memfd.
//
//   memfd_rmmod_storm [--seconds N]      (default 60)
//
// Runs in the guest as root with memfd_compat.ko loaded from MEMFD_KO
// (default /lib/modules/memfd_compat.ko); it unloads and reloads the
// module, so it runs after every other suite. While one thread loops
// delete_module(O_NONBLOCK) + finit_module, others:
//   - create module memfds with the raw CREATE ioctl (device opened per
//     create) and through libmemfd-compat in short-lived child processes
//     (the library keeps /dev/memfd open, which pins the module, for the
//     life of its process), and send them back over a socket;
//   - re-open them through /proc/self/fd, both through a descriptor they
//     hold and through a slot another thread may be closing;
//   - chmod them through /proc/self/fd, the same two ways;
//   - mmap and munmap them, keeping some mappings past the fd's close;
//   - seal them (fcntl, and the ADD_SEALS ioctl for F_SEAL_EXEC where the
//     kernel's fcntl lacks it);
//   - pass them over UNIX sockets, to a receiver process and in-process,
//     sometimes closing the socket with the fd still in flight;
//   - close them.
// The main thread alternates busy phases with drains (no new memfds, the
// pool closed) so that the last references go while rmmod is retried:
// where memfds pin the module (6.1), rmmod can only succeed there.
// Where they do not (6.12), some memfds ("survivors") stay alive, open,
// mapped and in flight across every unload; they are checked after each
// successful unload and fully at the end.
//
// Fails (exit 1) on: any errno outside the documented set (creates may fail
// only with ENOENT/ENODEV from opening a device that is going or
// gone; rmmod only with EWOULDBLOCK; finit_module never), a check that
// does not hold, the module not loaded at the end, refcnt not back to its
// baseline, or memfds leaked (inode count or Shmem not back to the
// baseline, see kInodeSlack and kShmemSlackKb). Kernel warnings are
// vm-run's to catch. Prints the counters.
#include "lifetime_util.hpp"

#include <memfd_compat/memfd_compat.h>

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "memfd_defs.h"

namespace
{

using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Leak tolerances. Every memfd the storm creates holds at least one page
// of data, so a leaked memfd shows up in both counters: one inode and
// 4 kB of Shmem. Both are read exactly (see measure()), before the storm
// process starts and after it has exited, with nothing of ours open; what
// remains of the difference is other kernel objects that came and went
// (sysfs and devtmpfs inodes of the reloaded module, the kernel's own
// tmpfs use). Measured in 15-60 s runs on both kernels: inodes -7..+4,
// Shmem exactly equal. The slack is a little over twice that, so a
// leak of a dozen memfds, out of thousands created, fails the run.
constexpr long kInodeSlack = 12;
constexpr long kShmemSlackKb = 48;

constexpr int kSlots = 16;

// --- failures and counters

std::mutex fail_lock;
std::map<std::string, long> failures;

void fail(const std::string &what, int err = 0)
{
	std::string key = what;
	if (err)
		key += std::string(": ") + strerrorname_np(err);
	std::lock_guard<std::mutex> g(fail_lock);
	if (failures[key]++ == 0)
		std::fprintf(stderr, "storm: FAIL %s\n", key.c_str());
}

struct Counters {
	std::atomic<long> rmmod_tried{0}, rmmod_ok{0}, insmod{0};
	std::atomic<long> creates_ioctl{0}, creates_lib{0};
	std::atomic<long> create_enoent{0}, create_enodev{0};
	std::atomic<long> lib_children{0};
	std::atomic<long> reopens{0}, reopens_raced{0}, reopen_enoent{0};
	std::atomic<long> chmods{0}, chmods_raced{0}, chmod_enoent{0}, chmod_eperm{0};
	std::atomic<long> mmaps{0}, mmaps_after_close{0}, mmap_eperm{0};
	std::atomic<long> seals{0}, seal_busy_or_perm{0};
	std::atomic<long> passes_child{0}, passes_local{0}, dropped_in_flight{0};
	std::atomic<long> closes{0}, drains{0}, drains_unloaded{0};
	std::atomic<long> survivor_checks{0};
} count;

std::atomic<bool> stop{false};
// Creators start new memfds only while this is set (off during drains).
std::atomic<bool> creating{true};
std::atomic<int> creators_busy{0};
bool pins = true; // module memfds pin the module on this kernel

// --- the pool of memfds the operations work on

class Pool
{
public:
	// Puts @fd into a random slot, closing what was there.
	void put(int fd, std::mt19937 &rng)
	{
		int old;
		{
			std::lock_guard<std::mutex> g(lock_);
			int &slot = slots_[rng() % kSlots];
			old = slot;
			slot = fd;
		}
		if (old >= 0) {
			close(old);
			count.closes++;
		}
	}

	// A descriptor of our own for a random memfd of the pool, or -1.
	int take(std::mt19937 &rng)
	{
		std::lock_guard<std::mutex> g(lock_);
		const int fd = slots_[rng() % kSlots];
		return fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 0);
	}

	// The number in a random slot, which another thread may close (or
	// have closed and reused) by the time it is used; -1 if empty.
	int peek(std::mt19937 &rng)
	{
		std::lock_guard<std::mutex> g(lock_);
		return slots_[rng() % kSlots];
	}

	void close_random(std::mt19937 &rng)
	{
		int fd;
		{
			std::lock_guard<std::mutex> g(lock_);
			int &slot = slots_[rng() % kSlots];
			fd = slot;
			slot = -1;
		}
		if (fd >= 0) {
			close(fd);
			count.closes++;
		}
	}

	void close_all()
	{
		for (int i = 0; i < kSlots; i++) {
			int fd;
			{
				std::lock_guard<std::mutex> g(lock_);
				fd = slots_[i];
				slots_[i] = -1;
			}
			if (fd >= 0) {
				close(fd);
				count.closes++;
			}
		}
	}

private:
	std::mutex lock_;
	int slots_[kSlots] = {-1, -1, -1, -1, -1, -1, -1, -1,
			      -1, -1, -1, -1, -1, -1, -1, -1};
} pool;

std::string proc_path(int fd)
{
	return "/proc/self/fd/" + std::to_string(fd);
}

// open() of /dev/memfd while the module unloads (ENODEV: misc_open()
// finds the minor deregistered, or the module going and its fops
// unobtainable) or after it is gone (ENOENT: devtmpfs removed the node).
// Counts it; false for any other errno.
bool device_gone(int err)
{
	if (err == ENOENT)
		count.create_enoent++;
	else if (err == ENODEV)
		count.create_enodev++;
	else
		return false;
	return true;
}

const unsigned kCreateFlags[] = {
	MFD_CLOEXEC | MFD_ALLOW_SEALING,
	MFD_CLOEXEC | MFD_ALLOW_SEALING,
	MFD_CLOEXEC | MFD_NOEXEC_SEAL,
	MFD_CLOEXEC | MFD_EXEC | MFD_ALLOW_SEALING,
	MFD_CLOEXEC,
};

// Fills the first page (and sometimes a second) of a new memfd.
void fill(int fd, std::mt19937 &rng)
{
	static const std::string page(4096, 's');
	const int pages = 1 + static_cast<int>(rng() & 1);
	for (int i = 0; i < pages; i++)
		if (pwrite(fd, page.data(), page.size(), 4096L * i) != 4096)
			fail("pwrite to a new memfd", errno);
}

// --- creators

void ioctl_creator(unsigned seed)
{
	std::mt19937 rng(seed);
	while (!stop) {
		if (!creating) {
			std::this_thread::sleep_for(1ms);
			continue;
		}
		creators_busy++;
		if (!creating) { // a drain began in between
			creators_busy--;
			continue;
		}
		const int dev = lifetime::open_device();
		if (dev < 0) {
			if (!device_gone(errno))
				fail("open /dev/memfd", errno);
			creators_busy--;
			sched_yield();
			continue;
		}
		memfd_compat_create_args args{};
		args.name = reinterpret_cast<std::uintptr_t>("storm-ioctl");
		const unsigned flags = kCreateFlags[rng() % std::size(kCreateFlags)];
		args.flags = flags;
		// the open device pins the module: the ioctl cannot find it gone
		const int fd = ioctl(dev, MEMFD_COMPAT_IOC_CREATE, &args);
		if (fd < 0) {
			fail("CREATE ioctl on an open /dev/memfd", errno);
			close(dev);
			creators_busy--;
			continue;
		}
		count.creates_ioctl++;
		fill(fd, rng);
		if ((flags & MFD_ALLOW_SEALING) && !(flags & MFD_EXEC) && pins &&
		    (rng() & 3) == 0) {
			// F_SEAL_EXEC where only the module can add it
			memfd_compat_seal_args sa{};
			sa.fd = fd;
			sa.seals = F_SEAL_EXEC;
			if (ioctl(dev, MEMFD_COMPAT_IOC_ADD_SEALS, &sa) != 0)
				fail("ADD_SEALS(F_SEAL_EXEC) ioctl", errno);
			else
				count.seals++;
		}
		close(dev);
		if (pins && (rng() & 7) == 0) {
			// a memfd of ours pins the module, so its device is there
			const int again = lifetime::open_device();
			if (again < 0)
				fail("open /dev/memfd while holding a pinning memfd", errno);
			else
				close(again);
		}
		pool.put(fd, rng);
		creators_busy--;
	}
}

// Child side of lib_creator: up to three memfds through the library, each
// sent to @sock; an error is sent as 'E' and its errno. No allocation:
// this runs in a fork of a multi-threaded process.
[[noreturn]] void lib_child(int sock, unsigned seed)
{
	memfd_compat_set_backend(MEMFD_COMPAT_BACKEND_MODULE);
	static char page[4096];
	for (int i = 0; i < 3; i++) {
		const unsigned flags =
			(seed + i) % 3 == 0 ? MFD_CLOEXEC | MFD_NOEXEC_SEAL
					    : MFD_CLOEXEC | MFD_ALLOW_SEALING;
		const int fd = memfd_compat_create("storm-lib", flags);
		int err = fd < 0 ? errno : 0;
		if (fd >= 0 && pwrite(fd, page, sizeof(page), 0) != sizeof(page))
			err = 1000 + errno; // not a create failure
		else if (fd >= 0 && ((seed + i) & 1) &&
			 memfd_compat_add_seals(fd, F_SEAL_SHRINK | F_SEAL_EXEC) != 0)
			err = 2000 + errno;
		if (err) {
			char msg[1 + sizeof(int)] = {'E'};
			std::memcpy(msg + 1, &err, sizeof(int));
			(void)!send(sock, msg, sizeof(msg), 0);
			_exit(0);
		}
		if (lifetime::send_fd(sock, fd) != 0)
			_exit(2);
		close(fd);
	}
	_exit(0);
}

void lib_creator(unsigned seed)
{
	std::mt19937 rng(seed);
	while (!stop) {
		if (!creating) {
			std::this_thread::sleep_for(1ms);
			continue;
		}
		creators_busy++;
		if (!creating) {
			creators_busy--;
			continue;
		}
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
			fail("socketpair", errno);
			creators_busy--;
			break;
		}
		const unsigned child_seed = static_cast<unsigned>(rng());
		const pid_t pid = fork();
		if (pid == 0) {
			close(sv[0]);
			lib_child(sv[1], child_seed);
		}
		close(sv[1]);
		if (pid < 0)
			fail("fork", errno);
		count.lib_children += pid > 0;
		for (;;) {
			char buf[1 + sizeof(int)];
			int fd;
			const ssize_t n = lifetime::recv_fd_msg(sv[0], buf, sizeof(buf), &fd);
			if (n <= 0)
				break;
			if (buf[0] == 'F' && fd >= 0) {
				count.creates_lib++;
				pool.put(fd, rng);
			} else if (buf[0] == 'E' && n == static_cast<ssize_t>(sizeof(buf))) {
				int err;
				std::memcpy(&err, buf + 1, sizeof(int));
				// the library reports a missing device as ENODEV
				if (err == ENODEV)
					device_gone(err);
				else if (err >= 2000)
					fail("memfd_compat_add_seals(SHRINK|EXEC) in a child",
					     err - 2000);
				else if (err >= 1000)
					fail("pwrite in a child", err - 1000);
				else
					fail("memfd_compat_create in a child", err);
			} else {
				fail("unexpected message from a library child");
			}
		}
		close(sv[0]);
		int status = 0;
		if (pid > 0 && (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
				WEXITSTATUS(status) != 0))
			fail("library child exit status " + std::to_string(status));
		creators_busy--;
	}
}

// --- operations on the pool

void reopener(unsigned seed)
{
	std::mt19937 rng(seed);
	char buf[64];
	while (!stop) {
		if (rng() & 1) {
			// through a descriptor we hold: must work
			const int fd = pool.take(rng);
			if (fd < 0) {
				sched_yield();
				continue;
			}
			const int r = open(proc_path(fd).c_str(), O_RDWR | O_CLOEXEC);
			if (r < 0) {
				fail("re-open of a held memfd", errno);
			} else {
				if (pwrite(r, "r", 1, 0) != 1 && errno != EPERM)
					fail("pwrite to a re-opened memfd", errno);
				if (fcntl(r, F_GET_SEALS) < 0)
					fail("F_GET_SEALS of a re-opened memfd", errno);
				close(r);
				count.reopens++;
			}
			close(fd);
		} else {
			// through a slot another thread may be closing: ENOENT
			// natively if it lost; whatever it found must work. The
			// number may have been reused for another file of ours
			// (a socket: ENXIO; the device, the .ko), so read only.
			const int n = pool.peek(rng);
			if (n < 0) {
				sched_yield();
				continue;
			}
			const int r = open(proc_path(n).c_str(), O_RDONLY | O_CLOEXEC);
			if (r < 0) {
				if (errno == ENOENT)
					count.reopen_enoent++;
				else if (errno != ENXIO)
					fail("racing re-open", errno);
				continue;
			}
			if (fcntl(r, F_GET_SEALS) >= 0 && pread(r, buf, sizeof(buf), 0) < 0)
				fail("pread of a racing re-open", errno);
			close(r);
			count.reopens_raced++;
		}
	}
}

void chmodder(unsigned seed)
{
	std::mt19937 rng(seed);
	while (!stop) {
		if (rng() & 1) {
			const int fd = pool.take(rng);
			if (fd < 0) {
				sched_yield();
				continue;
			}
			struct stat st{};
			const int seals = fcntl(fd, F_GET_SEALS);
			if (fstat(fd, &st) != 0 || seals < 0) {
				fail("fstat/F_GET_SEALS of a held memfd", errno);
				close(fd);
				continue;
			}
			// toggle an exec bit: refused exactly under F_SEAL_EXEC
			// (which is never removed, and no one else chmods this
			// one's exec bits but this thread)
			const mode_t mode = (st.st_mode & 07777) ^ 0010;
			const int r = chmod(proc_path(fd).c_str(), mode);
			if (seals & F_SEAL_EXEC) {
				if (r != -1 || errno != EPERM)
					fail("chmod of exec bits under F_SEAL_EXEC not EPERM",
					     r ? errno : 0);
				count.chmod_eperm++;
			} else if (r != 0) {
				// a seal may have been added since the check
				if (errno != EPERM || !(fcntl(fd, F_GET_SEALS) & F_SEAL_EXEC))
					fail("chmod of a held memfd", errno);
			}
			count.chmods++;
			close(fd);
		} else {
			// racing: only the group read bit, never exec bits
			const int n = pool.peek(rng);
			if (n < 0) {
				sched_yield();
				continue;
			}
			const std::string path = proc_path(n);
			struct stat st{};
			if (stat(path.c_str(), &st) != 0) {
				if (errno != ENOENT)
					fail("stat of a racing /proc/self/fd path", errno);
				count.chmod_enoent++;
				continue;
			}
			if (!S_ISREG(st.st_mode))
				continue; // the number now names a socket or the device
			if (chmod(path.c_str(), (st.st_mode & 07777) ^ 0040) == 0) {
				count.chmods_raced++;
			} else if (errno == ENOENT) {
				count.chmod_enoent++;
			} else if (errno == EPERM) {
				// the number was reused by a memfd with other exec
				// bits under F_SEAL_EXEC between stat and chmod
				count.chmod_eperm++;
			} else {
				fail("racing chmod", errno);
			}
		}
	}
}

void mapper(unsigned seed)
{
	std::mt19937 rng(seed);
	while (!stop) {
		const int fd = pool.take(rng);
		if (fd < 0) {
			sched_yield();
			continue;
		}
		const int op = static_cast<int>(rng() % 4);
		if (op == 3) {
			// seal it
			static const unsigned choice[] = {F_SEAL_SHRINK, F_SEAL_GROW,
							  F_SEAL_WRITE, F_SEAL_FUTURE_WRITE};
			const unsigned s = choice[rng() % 4];
			if (fcntl(fd, F_ADD_SEALS, s) == 0)
				count.seals++;
			else if (errno == EPERM || errno == EBUSY)
				count.seal_busy_or_perm++;
			else
				fail("F_ADD_SEALS", errno);
			close(fd);
			continue;
		}
		auto *p = static_cast<volatile char *>(
			mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
		if (p == MAP_FAILED) {
			// seals only grow: a refusal must be explained by them now
			const int err = errno;
			if (err != EPERM ||
			    !(fcntl(fd, F_GET_SEALS) & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
				fail("shared writable mmap", err);
			count.mmap_eperm++;
			p = static_cast<volatile char *>(
				mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0));
			if (p == MAP_FAILED && errno != EPERM) // 6.1 under F_SEAL_WRITE
				fail("read-only shared mmap", errno);
			if (p != MAP_FAILED) {
				(void)p[0];
				munmap(const_cast<char *>(p), 4096);
			}
			close(fd);
			continue;
		}
		count.mmaps++;
		p[rng() % 4096] = 'm';
		if (op == 2) {
			// the mapping alone keeps the memfd for a while
			close(fd);
			std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
			p[0] = 'M';
			munmap(const_cast<char *>(p), 4096);
			count.mmaps_after_close++;
		} else {
			munmap(const_cast<char *>(p), 4096);
			close(fd);
		}
	}
}

// The receiver process: gets (seals, fd), checks the fd with plain fcntl
// and pread, closes it and answers one byte (0: fine).
[[noreturn]] void receiver(int sock)
{
	for (;;) {
		unsigned seals = 0;
		int fd;
		const ssize_t n = lifetime::recv_fd_msg(sock, &seals, sizeof(seals), &fd);
		if (n <= 0)
			_exit(n == 0 ? 0 : 1);
		char answer = 0;
		if (fd < 0) {
			answer = 1;
		} else {
			const int now = fcntl(fd, F_GET_SEALS);
			char byte;
			if (now < 0 || (static_cast<unsigned>(now) & seals) != seals)
				answer = 2; // seals only grow
			else if (pread(fd, &byte, 1, 0) != 1)
				answer = 3;
			close(fd);
		}
		if (send(sock, &answer, 1, 0) != 1)
			_exit(1);
	}
}

int receiver_sock = -1;

void passer(unsigned seed)
{
	std::mt19937 rng(seed);
	while (!stop) {
		const int fd = pool.take(rng);
		if (fd < 0) {
			sched_yield();
			continue;
		}
		const int seals = fcntl(fd, F_GET_SEALS);
		if (seals < 0)
			fail("F_GET_SEALS before passing", errno);
		if (rng() & 1) {
			// to the receiver process, which checks it and answers
			unsigned s = static_cast<unsigned>(seals);
			char answer = -1;
			if (lifetime::send_fd(receiver_sock, fd, &s, sizeof(s)) != 0 ||
			    recv(receiver_sock, &answer, 1, 0) != 1)
				fail("pass to the receiver process", errno);
			else if (answer != 0)
				fail("receiver process check " + std::to_string(answer));
			count.passes_child++;
		} else {
			int sv[2];
			if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) != 0) {
				fail("socketpair", errno);
				close(fd);
				continue;
			}
			if (lifetime::send_fd(sv[0], fd) != 0)
				fail("send_fd", errno);
			if (rng() & 1) {
				const int got = lifetime::recv_fd(sv[1]);
				const int now = got < 0 ? -1 : fcntl(got, F_GET_SEALS);
				if (now < 0 || (now & seals) != seals)
					fail("received fd's seals", errno);
				close(got);
				count.passes_local++;
			} else {
				count.dropped_in_flight++;
			}
			close(fd); // with the fd maybe still in flight
			close(sv[0]);
			close(sv[1]);
			continue;
		}
		close(fd);
	}
}

void closer(unsigned seed)
{
	std::mt19937 rng(seed);
	while (!stop) {
		pool.close_random(rng);
		std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));
	}
}

// --- survivors: memfds that outlive every unload (non-pinning kernels)

struct Survivor {
	int fd = -1;       // -1: only mapped, or only in flight
	char *map = nullptr; // mapped survivor
	int sock[2] = {-1, -1}; // in-flight survivor
	unsigned seals = 0;
	std::string content;
	unsigned generation = 0; // the module load that created it
};

std::vector<Survivor> survivors;

// Creates a survivor of kind @kind (0..5) with the module loaded.
bool add_survivor(int kind, unsigned generation)
{
	static const unsigned flags[] = {
		MFD_CLOEXEC | MFD_ALLOW_SEALING, MFD_CLOEXEC | MFD_ALLOW_SEALING,
		MFD_CLOEXEC | MFD_NOEXEC_SEAL,   MFD_CLOEXEC,
		MFD_CLOEXEC | MFD_ALLOW_SEALING, MFD_CLOEXEC | MFD_ALLOW_SEALING,
	};
	Survivor s;
	s.generation = generation;
	s.content = "survivor " + std::to_string(kind) + " of load " +
		    std::to_string(generation);
	const int fd = lifetime::create(flags[kind], "storm-survivor");
	if (fd < 0)
		return false;
	if (ftruncate(fd, 4096) != 0 ||
	    pwrite(fd, s.content.data(), s.content.size(), 0) !=
		    static_cast<ssize_t>(s.content.size()))
		fail("survivor setup", errno);
	s.seals = kind == 2 ? F_SEAL_EXEC : kind == 3 ? F_SEAL_SEAL : 0;
	if (kind == 1) {
		if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE))
			fail("survivor seal", errno);
		s.seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
	}
	s.fd = fd;
	if (kind == 4) {
		s.map = static_cast<char *>(
			mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
		if (s.map == MAP_FAILED)
			fail("survivor mmap", errno);
		close(fd);
		s.fd = -1;
	} else if (kind == 5) {
		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, s.sock) != 0 ||
		    lifetime::send_fd(s.sock[0], fd) != 0)
			fail("survivor in flight", errno);
		close(fd);
		s.fd = -1;
	}
	survivors.push_back(s);
	return true;
}

// Quick check after an unload: seals and content, through fd or mapping.
void check_survivors()
{
	if (survivors.empty())
		return;
	for (const Survivor &s : survivors) {
		if (s.map) {
			if (std::memcmp(s.map, s.content.data(), s.content.size()) != 0)
				fail("mapped survivor's content");
		} else if (s.fd >= 0) {
			if (fcntl(s.fd, F_GET_SEALS) != static_cast<int>(s.seals))
				fail("survivor's seals changed");
			if (lifetime::pread_str(s.fd, s.content.size(), 0) != s.content)
				fail("survivor's content changed");
		}
	}
	count.survivor_checks++;
}

// At the end, with or without the module: every survivor still works as a
// memfd whose seals the kernel enforces.
void verify_survivors_fully()
{
	if (!survivors.empty())
		std::printf("storm: verifying %zu memfds that outlived every unload\n",
			    survivors.size());
	for (Survivor &s : survivors) {
		int fd = s.fd;
		if (s.map) {
			s.map[100] = 'w';
			if (std::memcmp(s.map, s.content.data(), s.content.size()) != 0)
				fail("mapped survivor's content at the end");
			munmap(s.map, 4096);
			continue;
		}
		if (s.sock[0] >= 0) {
			fd = lifetime::recv_fd(s.sock[1]);
			close(s.sock[0]);
			close(s.sock[1]);
			if (fd < 0) {
				fail("receiving the in-flight survivor", errno);
				continue;
			}
		}
		if (fcntl(fd, F_GET_SEALS) != static_cast<int>(s.seals))
			fail("survivor's seals at the end");
		if (lifetime::pread_str(fd, s.content.size(), 0) != s.content)
			fail("survivor's content at the end");
		if (s.seals & F_SEAL_SEAL) {
			if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) != -1 || errno != EPERM)
				fail("F_ADD_SEALS under F_SEAL_SEAL not EPERM");
		} else {
			if (!(s.seals & F_SEAL_WRITE) && pwrite(fd, "W", 1, 0) != 1)
				fail("pwrite to a survivor", errno);
			if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_EXEC) != 0)
				fail("F_ADD_SEALS(WRITE|EXEC) on a survivor", errno);
			if (pwrite(fd, "x", 1, 0) != -1 || errno != EPERM)
				fail("pwrite under F_SEAL_WRITE not EPERM");
			if (mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) !=
				    MAP_FAILED ||
			    errno != EPERM)
				fail("shared writable mmap under F_SEAL_WRITE not EPERM");
			struct stat st{};
			fstat(fd, &st);
			if (fchmod(fd, (st.st_mode & 07777) ^ 0111) != -1 || errno != EPERM)
				fail("chmod of exec bits under F_SEAL_EXEC not EPERM");
		}
		close(fd);
		s.fd = -1;
	}
	survivors.clear();
}

// --- rmmod/insmod

void rmmodder()
{
	unsigned generation = 1;
	while (!stop) {
		count.rmmod_tried++;
		if (lifetime::unload() != 0) {
			if (errno != EWOULDBLOCK)
				fail("delete_module", errno);
			continue;
		}
		count.rmmod_ok++;
		if (lifetime::loaded())
			fail("module still listed after a successful delete_module");
		check_survivors();
		if (lifetime::load() != 0) {
			fail("finit_module", errno);
			stop = true;
			return;
		}
		count.insmod++;
		generation++;
		// one more survivor of a new load now and then
		if (!pins && generation % 16 == 0 && survivors.size() < 40)
			add_survivor(static_cast<int>(generation / 16 % 6), generation);
	}
}

} // namespace

// Prints the failures; the exit status.
int report()
{
	if (failures.empty())
		return 0;
	std::printf("storm: FAILED:\n");
	for (const auto &[what, n] : failures)
		std::printf("  %ld x %s\n", n, what.c_str());
	return 1;
}

// Allocated inodes and Shmem, exact: unused dentries and inodes dropped,
// the per-CPU vmstat deltas folded into the global counters (meminfo
// alone may be off by the per-CPU thresholds until vmstat's next pass).
struct Memory {
	long inodes;
	long shmem_kb;
};

Memory measure()
{
	lifetime::drop_caches();
	std::ofstream("/proc/sys/vm/stat_refresh") << "1\n";
	return {lifetime::nr_inodes(), lifetime::meminfo_kb("Shmem")};
}

// The storm itself, in a process of its own (the caller measures memory
// before and after it, without the storm's tasks and their /proc inodes).
int storm(double seconds)
{
	// the receiver process, forked before any thread exists
	int rs[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, rs) != 0) {
		std::perror("socketpair");
		return 1;
	}
	const pid_t receiver_pid = fork();
	if (receiver_pid == 0) {
		close(rs[0]);
		receiver(rs[1]);
	}
	close(rs[1]);
	receiver_sock = rs[0];

	if (!pins) {
		for (int kind = 0; kind < 6; kind++)
			if (!add_survivor(kind, 1))
				fail("creating a survivor", errno);
	}

	std::random_device rd;
	std::vector<std::thread> threads;
	threads.emplace_back(ioctl_creator, rd());
	threads.emplace_back(ioctl_creator, rd());
	threads.emplace_back(lib_creator, rd());
	threads.emplace_back(reopener, rd());
	threads.emplace_back(chmodder, rd());
	threads.emplace_back(mapper, rd());
	threads.emplace_back(passer, rd());
	threads.emplace_back(closer, rd());
	threads.emplace_back(rmmodder);

	// busy phases and drains
	std::mt19937 rng(rd());
	const auto end = steady::now() + std::chrono::duration<double>(seconds);
	while (steady::now() < end && !stop) {
		std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 400));
		creating = false;
		while (creators_busy > 0)
			std::this_thread::sleep_for(100us);
		pool.close_all();
		count.drains++;
		const long ok_before = count.rmmod_ok;
		const auto drain_end = steady::now() + 300ms;
		while (count.rmmod_ok == ok_before && steady::now() < drain_end)
			std::this_thread::sleep_for(1ms);
		count.drains_unloaded += count.rmmod_ok != ok_before;
		creating = true;
	}
	stop = true;
	for (auto &t : threads)
		t.join();
	pool.close_all();
	close(receiver_sock);
	int status = 0;
	if (waitpid(receiver_pid, &status, 0) != receiver_pid || status != 0)
		fail("receiver process exit status " + std::to_string(status));

	verify_survivors_fully();

	std::printf(
		"storm: rmmod tried %ld, succeeded %ld, insmod %ld; drains %ld, %ld "
		"with an unload\n"
		"storm: creates %ld (ioctl %ld, library %ld in %ld processes); "
		"refused with the device gone: %ld ENOENT, %ld ENODEV\n"
		"storm: reopens %ld held + %ld racing (%ld ENOENT); chmods %ld held + "
		"%ld racing (%ld ENOENT, %ld EPERM under F_SEAL_EXEC)\n"
		"storm: mmaps %ld (%ld outliving their fd, %ld EPERM under a write "
		"seal); seals %ld (+%ld EBUSY/EPERM)\n"
		"storm: passes %ld to a process, %ld in-process, %ld dropped in "
		"flight; closes %ld; survivor checks %ld\n",
		count.rmmod_tried.load(), count.rmmod_ok.load(), count.insmod.load(),
		count.drains.load(), count.drains_unloaded.load(),
		count.creates_ioctl + count.creates_lib, count.creates_ioctl.load(),
		count.creates_lib.load(), count.lib_children.load(),
		count.create_enoent.load(), count.create_enodev.load(), count.reopens.load(),
		count.reopens_raced.load(), count.reopen_enoent.load(),
		count.chmods.load(), count.chmods_raced.load(), count.chmod_enoent.load(),
		count.chmod_eperm.load(), count.mmaps.load(), count.mmaps_after_close.load(),
		count.mmap_eperm.load(), count.seals.load(), count.seal_busy_or_perm.load(),
		count.passes_child.load(), count.passes_local.load(),
		count.dropped_in_flight.load(), count.closes.load(),
		count.survivor_checks.load());

	// the storm must have stormed
	if (count.rmmod_ok == 0)
		fail("rmmod never succeeded");
	if (count.creates_ioctl == 0 || count.creates_lib == 0 || count.reopens == 0 ||
	    count.chmods == 0 || count.mmaps == 0 || count.passes_child == 0)
		fail("an operation never ran");

	return report();
}

int main(int argc, char **argv)
{
	double seconds = 60;
	for (int i = 1; i < argc; i++) {
		if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
			seconds = std::atof(argv[++i]);
		} else {
			std::fprintf(stderr, "usage: %s [--seconds N]\n", argv[0]);
			return 2;
		}
	}
	setvbuf(stdout, nullptr, _IOLBF, 0);
	if (getuid() != 0) {
		std::printf("storm: needs root (it unloads the module); skipped\n");
		return 77;
	}
	if (!lifetime::loaded() && lifetime::load() != 0) {
		std::printf("storm: cannot load %s: %s\n", lifetime::ko_path(),
			    std::strerror(errno));
		return 1;
	}
	const int pin = lifetime::memfds_pin_module();
	if (pin < 0) {
		std::printf("storm: QUERY: %s\n", std::strerror(errno));
		return 1;
	}
	pins = pin == 1;
	const long refs_before = lifetime::refcnt();
	const Memory before = measure();
	std::printf("storm: %.0f s; module memfds %s the module; refcnt %ld, "
		    "inodes %ld, Shmem %ld kB\n",
		    seconds, pins ? "pin" : "do not pin", refs_before, before.inodes,
		    before.shmem_kb);

	const pid_t pid = fork();
	if (pid == 0) {
		std::fflush(stdout);
		_exit(storm(seconds));
	}
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		fail("the storm process: status " + std::to_string(status));

	if (!lifetime::loaded()) {
		fail("the module was left unloaded");
		if (lifetime::load() != 0)
			fail("final finit_module", errno);
	}
	// references: back to the baseline once deferred releases (delayed
	// fput of files dropped in flight) have run
	long refs_after = lifetime::refcnt();
	for (int i = 0; i < 50 && refs_after != refs_before; i++) {
		std::this_thread::sleep_for(100ms);
		refs_after = lifetime::refcnt();
	}
	if (refs_after != refs_before)
		fail("refcnt " + std::to_string(refs_after) + " at the end, " +
		     std::to_string(refs_before) + " before");

	// memory: every memfd freed (a few tries: RCU-deferred frees)
	Memory after{};
	for (int i = 0; i < 10; i++) {
		after = measure();
		if (after.inodes - before.inodes <= kInodeSlack &&
		    after.shmem_kb - before.shmem_kb <= kShmemSlackKb)
			break;
		std::this_thread::sleep_for(500ms);
	}
	std::printf("storm: refcnt %ld before, %ld after; inodes %ld before, %ld "
		    "after; Shmem %ld kB before, %ld kB after\n",
		    refs_before, refs_after, before.inodes, after.inodes,
		    before.shmem_kb, after.shmem_kb);
	if (after.inodes - before.inodes > kInodeSlack)
		fail("inodes: " + std::to_string(after.inodes - before.inodes) +
		     " more than before (leaked memfds?)");
	if (after.shmem_kb - before.shmem_kb > kShmemSlackKb)
		fail("Shmem: " + std::to_string(after.shmem_kb - before.shmem_kb) +
		     " kB more than before (leaked memfds?)");
	const int rc = report();
	std::printf("storm: %s\n", rc ? "FAILED" : "PASSED");
	return rc;
}
