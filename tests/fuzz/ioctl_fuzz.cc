// A seeded, bounded random fuzzer for the module's ioctls, run in the
// guest. The kernel log is checked by the harness afterwards.
//
//   memfd_ioctl_fuzz [--seed N] [--seconds S]
//
// What it calls, and what it accepts as a result:
//   - MEMFD_COMPAT_IOC_ADD_SEALS on /dev/memfd with random descriptors
//     (module and native memfds, some mapped writable, read-only and O_PATH
//     re-opens, pipes, /dev/null, a tmpfs file, closed and absurd numbers),
//     random seals, flags, reserved words and argument pointers. The
//     result is checked exactly: a bad pointer EFAULT, unknown flags or
//     reserved EINVAL, else what fcntl(F_ADD_SEALS) gives on the same
//     descriptor (compared where the call failed; for F_SEAL_EXEC on a
//     module memfd of a kernel whose fcntl lacks it, fcntl with the seals
//     the call amounts to: without it, plus the write seals it implies on
//     an executable file). A failed call changes no seal; a successful one
//     adds what it was asked to, and never F_SEAL_EXEC to a native memfd
//     of such a kernel. The one known flag, MEMFD_COMPAT_SEAL_ISOLATE_PINS,
//     is fcntl too, except on a hugetlb memfd: EOPNOTSUPP, where fcntl's
//     own checks before it (EPERM for a read-only descriptor, EINVAL) pass.
//   - CREATE with random names, flags (MFD_HUGETLB with every page size
//     among them) and reserved words: a bad pointer EFAULT, reserved
//     EINVAL, else what memfd_create(2) gives with the same name and flags
//     (without MFD_EXEC and MFD_NOEXEC_SEAL on a kernel that lacks them).
//   - QUERY with random pointers; its answer must be version 2, seal flags
//     ISOLATE_PINS, with zeroed reserved.
//   - API version 1's seal ioctls (_IO(0xBE, 2), _IO(0xBE, 3)) on the
//     device and on memfds: always ENOTTY, changing nothing.
//   - random command numbers on the device and on memfds: success or an
//     errno of the documented set.
//
// Prints the seed first so any run can be replayed; exit 0 when every
// result was allowed, 1 otherwise, 77 without /dev/memfd.
#include <memfd_compat/uapi.h>

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#endif

namespace {

constexpr unsigned kAllSeals = 0x3f;
constexpr unsigned kSealExec = MEMFD_COMPAT_SEAL_EXEC;
constexpr unsigned kWriteSeals = MEMFD_COMPAT_SEAL_SHRINK | MEMFD_COMPAT_SEAL_GROW |
				 MEMFD_COMPAT_SEAL_WRITE | MEMFD_COMPAT_SEAL_FUTURE_WRITE;
constexpr unsigned long kV1AddSeals = _IO(MEMFD_COMPAT_IOC_MAGIC, 0x02);
constexpr unsigned long kV1GetSeals = _IO(MEMFD_COMPAT_IOC_MAGIC, 0x03);

struct Options {
	std::uint64_t seed = std::random_device{}();
	double seconds = 5;
};

Options parse(int argc, char **argv)
{
	Options o;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!std::strcmp(argv[i], "--seed"))
			o.seed = std::strtoull(argv[i + 1], nullptr, 0);
		else if (!std::strcmp(argv[i], "--seconds"))
			o.seconds = std::atof(argv[i + 1]);
	}
	return o;
}

long sys_memfd_create(const char *name, unsigned flags)
{
	return syscall(SYS_memfd_create, name, flags);
}

// A memfd of the pool, possibly with a writable shared mapping.
struct Memfd {
	int fd = -1;
	bool module = false;
	void *map = nullptr;
};

class Fuzzer {
public:
	Fuzzer(std::uint64_t seed, int dev) : rng_(seed), dev_(dev)
	{
		// a page that is mapped followed by one that is inaccessible
		// (PROT_NONE rather than unmapped: later mappings must not
		// land there)
		char *two = static_cast<char *>(mmap(nullptr, 8192,
			PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
		mprotect(two + 4096, 4096, PROT_NONE);
		page_ = two;
		unmapped_ = two + 4096;

		// does the kernel's own fcntl know F_SEAL_EXEC?
		const int probe = static_cast<int>(sys_memfd_create(
			"probe", MEMFD_COMPAT_MFD_CLOEXEC | MEMFD_COMPAT_MFD_ALLOW_SEALING));
		fcntl_has_exec_ = probe >= 0 && fcntl(probe, F_ADD_SEALS, kSealExec) == 0;
		if (probe >= 0)
			close(probe);
		// and memfd_create(2) MFD_NOEXEC_SEAL and MFD_EXEC (6.3+)?
		const int probe_exec = static_cast<int>(sys_memfd_create(
			"probe", MEMFD_COMPAT_MFD_CLOEXEC | MEMFD_COMPAT_MFD_NOEXEC_SEAL));
		native_has_exec_flags_ = probe_exec >= 0;
		if (probe_exec >= 0)
			close(probe_exec);

		int p[2];
		if (pipe2(p, O_CLOEXEC) == 0) {
			others_.push_back(p[0]);
			others_.push_back(p[1]);
		}
		others_.push_back(open("/dev/null", O_RDWR | O_CLOEXEC));
		char tmp[] = "/tmp/memfd_fuzz_XXXXXX";
		const int t = mkostemp(tmp, O_CLOEXEC);
		if (t >= 0) {
			unlink(tmp);
			others_.push_back(t);
		}
		others_.push_back(dev_);
	}

	~Fuzzer()
	{
		for (Memfd &m : memfds_)
			drop(m);
		for (int fd : others_)
			if (fd >= 0 && fd != dev_)
				close(fd);
	}

	// One random operation; returns false if its result is not allowed.
	bool step()
	{
		if (memfds_.size() < 4 || pick(16) == 0)
			add_memfd();
		if (memfds_.empty())
			return report("setup", std::string("no memfd: ") + std::strerror(errno));
		if (pick(32) == 0)
			toggle_mapping(memfds_[pick(memfds_.size())]);
		switch (pick(8)) {
		case 0:
			return v1_seal_ioctl();
		case 1:
			return random_ioctl();
		case 2:
			return create();
		case 3:
			return query();
		default:
			return add_seals();
		}
	}

	long calls() const { return calls_; }

	// What the ADD_SEALS calls checked, to see that the fuzzer reaches
	// every kind of outcome.
	struct Stats {
		long efault = 0, einval = 0, added = 0, compared = 0, exec_compared = 0;
		// CREATE compared with memfd_create(2): errno (0 for success) -> calls
		std::map<int, long> create_compared;
	};
	const Stats &stats() const { return stats_; }

private:
	std::size_t pick(std::size_t n) { return rng_() % n; }

	bool report(const char *what, const std::string &detail)
	{
		std::printf("%s: %s\n", what, detail.c_str());
		return false;
	}

	void drop(Memfd &m)
	{
		if (m.map)
			munmap(m.map, 4096);
		close(m.fd);
	}

	// A module or native memfd with @flags, or -1.
	int new_memfd(bool module, unsigned flags)
	{
		if (module) {
			memfd_compat_create_args a{};
			a.name = reinterpret_cast<std::uintptr_t>("fuzz");
			a.flags = flags;
			return ioctl(dev_, MEMFD_COMPAT_IOC_CREATE, &a);
		}
		const int fd = static_cast<int>(sys_memfd_create("fuzz", flags));
		if (fd >= 0 || !(flags & MEMFD_COMPAT_MFD_NOEXEC_SEAL))
			return fd;
		// no MFD_NOEXEC_SEAL natively before 6.3
		return static_cast<int>(
			sys_memfd_create("fuzz", flags & ~MEMFD_COMPAT_MFD_NOEXEC_SEAL));
	}

	void add_memfd()
	{
		Memfd m;
		unsigned flags = MEMFD_COMPAT_MFD_CLOEXEC |
				 (pick(4) ? MEMFD_COMPAT_MFD_ALLOW_SEALING : 0) |
				 (pick(4) == 0 ? MEMFD_COMPAT_MFD_NOEXEC_SEAL : 0) |
				 (pick(8) == 0 ? MEMFD_COMPAT_MFD_HUGETLB : 0);
		m.module = pick(3) != 0;
		m.fd = new_memfd(m.module, flags);
		if (m.fd < 0 && (flags & MEMFD_COMPAT_MFD_HUGETLB))
			m.fd = new_memfd(m.module, flags & ~MEMFD_COMPAT_MFD_HUGETLB);
		if (m.fd < 0)
			return;
		if (pick(2)) // (EINVAL on hugetlbfs: not a huge page multiple)
			(void)!ftruncate(m.fd, 4096);
		if (pick(3) == 0)
			(void)!fchmod(m.fd, 0644);
		memfds_.push_back(m);
		if (memfds_.size() > 24) {
			drop(memfds_.front());
			memfds_.erase(memfds_.begin());
		}
	}

	void toggle_mapping(Memfd &m)
	{
		if (m.map) {
			munmap(m.map, 4096);
			m.map = nullptr;
			return;
		}
		void *p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, m.fd, 0);
		if (p != MAP_FAILED)
			m.map = p;
	}

	// A descriptor for ADD_SEALS; @reopened is closed by the caller.
	int target(bool *is_module, int *reopened)
	{
		*is_module = false;
		*reopened = -1;
		switch (pick(12)) {
		case 0:
			return -1 - static_cast<int>(pick(3));
		case 1:
			return pick(2) ? INT_MAX : static_cast<int>(rng_());
		case 2: { // a closed descriptor
			const int fd = dup(0);
			close(fd);
			return fd;
		}
		case 3:
			return others_[pick(others_.size())];
		case 4:
		case 5: { // a re-open of a memfd: read-only, write-only or O_PATH
			const Memfd &m = memfds_[pick(memfds_.size())];
			static const int modes[] = {O_RDONLY, O_WRONLY, O_RDWR, O_PATH};
			const std::string path = "/proc/self/fd/" + std::to_string(m.fd);
			*reopened = open(path.c_str(), modes[pick(4)] | O_CLOEXEC);
			*is_module = m.module;
			return *reopened;
		}
		default: {
			const Memfd &m = memfds_[pick(memfds_.size())];
			*is_module = m.module;
			return m.fd;
		}
		}
	}

	unsigned random_seals()
	{
		switch (pick(6)) {
		case 0:
			return static_cast<unsigned>(rng_());
		case 1:
			return 1U << pick(32);
		default:
			return static_cast<unsigned>(pick(kAllSeals + 1));
		}
	}

	bool add_seals()
	{
		bool is_module;
		int reopened;
		const int fd = target(&is_module, &reopened);

		memfd_compat_seal_args args{};
		args.fd = fd;
		args.seals = random_seals();
		bool bad_struct = false;
		if (pick(8) == 0) {
			args.flags = pick(2) ? 1U << pick(32) : static_cast<__u32>(rng_());
			bad_struct |= (args.flags & ~MEMFD_COMPAT_SEAL_ISOLATE_PINS) != 0;
		}
		if (pick(8) == 0) {
			args.reserved[pick(5)] = pick(2) ? 1U : static_cast<__u32>(rng_());
			for (__u32 r : args.reserved)
				bad_struct |= r != 0;
		}

		// where the argument lives
		bool bad_pointer = true;
		void *where = nullptr;
		const std::size_t size = sizeof(args);
		switch (pick(10)) {
		case 0:
			where = nullptr;
			break;
		case 1:
			where = unmapped_;
			break;
		case 2: // the tail runs into the unmapped page
			where = unmapped_ - size + 4 * (1 + pick(size / 4 - 1));
			std::memcpy(static_cast<char *>(where),
				    &args, static_cast<std::size_t>(unmapped_ - static_cast<char *>(where)));
			break;
		case 3:
			where = reinterpret_cast<void *>(0xffffffff81000000ul + 64 * pick(1 << 14));
			break;
		default: // at the end of the mapped page
			where = unmapped_ - size;
			std::memcpy(where, &args, size);
			bad_pointer = false;
		}

		const int before = fd >= 0 ? fcntl(fd, F_GET_SEALS) : -1;
		errno = 0;
		const long ret = ioctl(dev_, MEMFD_COMPAT_IOC_ADD_SEALS, where);
		const int err = ret < 0 ? errno : 0;
		calls_++;
		const int after = fd >= 0 ? fcntl(fd, F_GET_SEALS) : -1;
		const std::string what = "ADD_SEALS fd " + std::to_string(fd) +
					 (is_module ? " (module)" : "") + " seals " +
					 std::to_string(args.seals) + " flags " +
					 std::to_string(args.flags) + " ptr " +
					 std::to_string(reinterpret_cast<std::uintptr_t>(where));
		bool ok = true;
		struct statfs sfs {};
		const bool isolate_on_hugetlb =
			(args.flags & MEMFD_COMPAT_SEAL_ISOLATE_PINS) && fd >= 0 &&
			fstatfs(fd, &sfs) == 0 && sfs.f_type == HUGETLBFS_MAGIC;

		if (bad_pointer) {
			stats_.efault++;
			if (err != EFAULT)
				ok = report(what.c_str(), std::string("want EFAULT, got ") +
							  std::strerror(err));
		} else if (bad_struct) {
			stats_.einval++;
			if (err != EINVAL)
				ok = report(what.c_str(), std::string("want EINVAL, got ") +
							  std::strerror(err));
		} else if (isolate_on_hugetlb && ret == 0) {
			ok = report(what.c_str(), "ISOLATE_PINS accepted on hugetlbfs");
		} else if (isolate_on_hugetlb && err == EOPNOTSUPP) {
			// only fcntl's checks that come first may fail otherwise
			errno = 0;
			const int by_fcntl = fcntl(fd, F_GETFL);
			if (by_fcntl < 0 || (by_fcntl & O_ACCMODE) == O_RDONLY ||
			    (args.seals & ~kAllSeals))
				ok = report(what.c_str(), "EOPNOTSUPP before EPERM/EINVAL");
		} else if (ret == 0) {
			stats_.added++;
			// (F_SEAL_EXEC on an executable file adds the write seals
			// too: a superset is right)
			const unsigned want = args.seals;
			if (after < 0 || (static_cast<unsigned>(after) & want) != want)
				ok = report(what.c_str(), "succeeded, seals now " +
							  std::to_string(after));
			if (!is_module && (args.seals & kSealExec) && !fcntl_has_exec_)
				ok = report(what.c_str(),
					    "F_SEAL_EXEC on a native memfd of a kernel "
					    "whose fcntl lacks it");
		} else {
			// fcntl is the spec for a failure: it fails the same way
			// and changes nothing. Except for F_SEAL_EXEC on a module
			// memfd where the kernel's fcntl lacks it: the module adds
			// that seal, so the spec is fcntl with the seals the call
			// amounts to (F_SEAL_EXEC on an executable file implies the
			// write seals).
			unsigned seals = args.seals;
			const bool exec_by_module =
				(seals & kSealExec) && !fcntl_has_exec_ && is_module;
			if (exec_by_module) {
				struct stat st {};
				seals &= ~kSealExec;
				if (fstat(fd, &st) == 0 && (st.st_mode & 0111))
					seals |= kWriteSeals;
				stats_.exec_compared++;
			}
			stats_.compared++;
			errno = 0;
			const int by_fcntl = fcntl(fd, F_ADD_SEALS, seals);
			const int fcntl_err = by_fcntl < 0 ? errno : 0;
			if (fcntl_err != err)
				ok = report(what.c_str(),
					    std::string("ioctl ") + std::strerror(err) +
						    ", fcntl(" + std::to_string(seals) + ") " +
						    std::strerror(fcntl_err));
		}
		if (ret < 0 && before != after)
			ok = report(what.c_str(), "failed call changed the seals from " +
						  std::to_string(before) + " to " +
						  std::to_string(after));
		if (reopened >= 0)
			close(reopened);
		return ok;
	}

	bool v1_seal_ioctl()
	{
		const bool on_dev = pick(3) == 0;
		const int fd = on_dev ? dev_ : memfds_[pick(memfds_.size())].fd;
		const unsigned long cmd = pick(2) ? kV1AddSeals : kV1GetSeals;
		const unsigned long arg = pick(2) ? pick(kAllSeals + 1) : rng_();
		const int before = fcntl(fd, F_GET_SEALS);
		errno = 0;
		const long ret = ioctl(fd, cmd, arg);
		calls_++;
		if (ret != -1 || errno != ENOTTY)
			return report("v1 seal ioctl", std::string(on_dev ? "dev" : "memfd") +
							       " cmd " + std::to_string(cmd) +
							       ": not ENOTTY but " +
							       std::to_string(ret) + " " +
							       std::strerror(errno));
		if (fcntl(fd, F_GET_SEALS) != before)
			return report("v1 seal ioctl", "changed the seals");
		return true;
	}

	bool random_ioctl()
	{
		const bool on_dev = pick(2) == 0;
		const int fd = on_dev ? dev_ : memfds_[pick(memfds_.size())].fd;
		unsigned cmd;
		if (pick(2)) // right type, any number, size and direction
			cmd = _IOC(pick(4), MEMFD_COMPAT_IOC_MAGIC, pick(16), pick(64));
		else
			cmd = static_cast<unsigned>(rng_());
		if (cmd == MEMFD_COMPAT_IOC_QUERY || cmd == MEMFD_COMPAT_IOC_CREATE ||
		    cmd == MEMFD_COMPAT_IOC_ADD_SEALS)
			return true; // those have their own checks
		unsigned long arg;
		switch (pick(4)) {
		case 0:
			arg = 0;
			break;
		case 1:
			arg = reinterpret_cast<unsigned long>(unmapped_);
			break;
		case 2:
			arg = rng_();
			break;
		default:
			arg = reinterpret_cast<unsigned long>(page_);
		}
		errno = 0;
		const long ret = ioctl(fd, cmd, arg);
		calls_++;
		if (ret >= 0)
			return true;
		static const std::set<int> allowed = {ENOTTY, EINVAL, EFAULT, EPERM,
						      EOPNOTSUPP};
		if (on_dev && errno != ENOTTY)
			return report("random ioctl on the device",
				      "cmd " + std::to_string(cmd) + ": " + std::strerror(errno));
		if (allowed.count(errno))
			return true;
		return report("random ioctl on a memfd",
			      "cmd " + std::to_string(cmd) + ": " + std::strerror(errno));
	}

	bool create()
	{
		auto *a = reinterpret_cast<memfd_compat_create_args *>(
			unmapped_ - sizeof(memfd_compat_create_args) - pick(2) * 64);
		std::memset(a, 0, sizeof(*a));
		char *name = page_;
		switch (pick(5)) {
		case 0: // no NUL before the unmapped page
			name = unmapped_ - 1024;
			std::memset(name, 'n', 1024 - sizeof(*a) - 128);
			break;
		case 1: // exactly at and one past the limit
			std::memset(name, 'l', 251);
			name[MEMFD_COMPAT_NAME_MAX + pick(2)] = '\0';
			break;
		default:
			std::strcpy(name, "fuzz");
		}
		a->name = pick(8) ? reinterpret_cast<std::uintptr_t>(name) : rng_();
		switch (pick(4)) {
		case 0: // anything
			a->flags = static_cast<std::uint32_t>(rng_());
			break;
		case 1: // MFD_HUGETLB with any page size, known or not
			a->flags = MEMFD_COMPAT_MFD_HUGETLB |
				   static_cast<std::uint32_t>(pick(32)) |
				   static_cast<std::uint32_t>(pick(MEMFD_COMPAT_MFD_HUGE_MASK + 1))
					   << MEMFD_COMPAT_MFD_HUGE_SHIFT;
			break;
		default:
			a->flags = static_cast<std::uint32_t>(pick(32));
		}
		bool bad_struct = false;
		if (pick(6) == 0) {
			a->reserved[pick(5)] = static_cast<std::uint32_t>(rng_());
			for (__u32 r : a->reserved)
				bad_struct |= r != 0;
		}
		void *where = pick(10) ? static_cast<void *>(a)
				       : (pick(2) ? nullptr : static_cast<void *>(unmapped_));
		const bool bad_pointer = where != a;
		const memfd_compat_create_args sent = *a;
		errno = 0;
		const long ret = ioctl(dev_, MEMFD_COMPAT_IOC_CREATE, where);
		const int err = ret < 0 ? errno : 0;
		calls_++;
		if (ret >= 0) {
			memfds_.push_back(Memfd{static_cast<int>(ret), true, nullptr});
			if (memfds_.size() > 24) {
				drop(memfds_.front());
				memfds_.erase(memfds_.begin());
			}
		}
		const std::string what = "CREATE flags " + std::to_string(sent.flags) +
					 " name " + std::to_string(sent.name);
		if (bad_pointer)
			return err == EFAULT ? true
					     : report(what.c_str(), std::string("bad pointer: want EFAULT, got ") +
									  std::strerror(err));
		if (bad_struct)
			return err == EINVAL ? true
					     : report(what.c_str(), std::string("reserved set: want EINVAL, got ") +
									  std::strerror(err));
		// memfd_create(2) with the same name and flags is the spec,
		// except for the exec flags on a kernel without them: the
		// module has them, so the spec is the call without them (and
		// EINVAL for both at once, as on a kernel that has them).
		unsigned native_flags = sent.flags;
		constexpr unsigned kExecFlags = MEMFD_COMPAT_MFD_EXEC | MEMFD_COMPAT_MFD_NOEXEC_SEAL;
		if (!native_has_exec_flags_) {
			if ((native_flags & kExecFlags) == kExecFlags)
				return err == EINVAL ? true
						     : report(what.c_str(), std::string("MFD_EXEC|MFD_NOEXEC_SEAL: want EINVAL, got ") +
										      std::strerror(err));
			native_flags &= ~kExecFlags;
		}
		errno = 0;
		const int native = static_cast<int>(sys_memfd_create(
			reinterpret_cast<const char *>(static_cast<std::uintptr_t>(sent.name)),
			native_flags | MEMFD_COMPAT_MFD_CLOEXEC));
		const int native_err = native < 0 ? errno : 0;
		if (native >= 0)
			close(native);
		if (err == native_err) {
			stats_.create_compared[err]++;
			return true;
		}
		if (err == EMFILE || native_err == EMFILE)
			return true; // the two calls had different numbers of free slots
		return report(what.c_str(), std::string("ioctl ") + std::strerror(err) +
						    ", memfd_create " + std::strerror(native_err));
	}

	bool query()
	{
		memfd_compat_info *info = reinterpret_cast<memfd_compat_info *>(
			unmapped_ - sizeof(memfd_compat_info));
		std::memset(info, 0xa5, sizeof(*info));
		void *where = info;
		bool bad = false;
		switch (pick(6)) {
		case 0:
			where = nullptr;
			bad = true;
			break;
		case 1: // the tail in the unmapped page
			where = unmapped_ - 8;
			bad = true;
			break;
		default:
			break;
		}
		errno = 0;
		const long ret = ioctl(dev_, MEMFD_COMPAT_IOC_QUERY, where);
		calls_++;
		if (bad)
			return ret == -1 && errno == EFAULT
				       ? true
				       : report("QUERY", "bad pointer: not EFAULT");
		if (ret != 0)
			return report("QUERY", std::strerror(errno));
		if (info->api_version != MEMFD_COMPAT_API_VERSION ||
		    info->seal_flags != MEMFD_COMPAT_SEAL_ISOLATE_PINS ||
		    info->supported_seals != kAllSeals ||
		    info->fcntl_seals != (fcntl_has_exec_ ? kAllSeals : kAllSeals & ~kSealExec))
			return report("QUERY", "unexpected answer");
		for (__u32 r : info->reserved)
			if (r != 0)
				return report("QUERY", "reserved not zeroed");
		return true;
	}

	std::mt19937_64 rng_;
	int dev_;
	char *page_ = nullptr;
	char *unmapped_ = nullptr;
	bool fcntl_has_exec_ = false;
	bool native_has_exec_flags_ = false;
	std::vector<Memfd> memfds_;
	std::vector<int> others_;
	long calls_ = 0;
	Stats stats_;
};

} // namespace

int main(int argc, char **argv)
{
	const Options o = parse(argc, argv);
	std::printf("memfd_ioctl_fuzz: seed %llu, %.1f s\n",
		    static_cast<unsigned long long>(o.seed), o.seconds);
	const int dev = open(MEMFD_COMPAT_DEVICE, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		std::perror(MEMFD_COMPAT_DEVICE);
		return 77;
	}
	long bad = 0;
	long calls = 0;
	{
		Fuzzer f(o.seed, dev);
		const auto end = std::chrono::steady_clock::now() +
				 std::chrono::duration<double>(o.seconds);
		while (std::chrono::steady_clock::now() < end) {
			for (int i = 0; i < 256; i++)
				bad += !f.step();
			if (bad > 20)
				break; // enough to look at
		}
		calls = f.calls();
		const Fuzzer::Stats &st = f.stats();
		std::printf("memfd_ioctl_fuzz: ADD_SEALS: %ld bad pointers, %ld bad "
			    "flags/reserved, %ld added, %ld failures compared with "
			    "fcntl (%ld of them F_SEAL_EXEC by the module)\n",
			    st.efault, st.einval, st.added, st.compared, st.exec_compared);
		std::printf("memfd_ioctl_fuzz: CREATE as memfd_create(2):");
		for (const auto &[err, n] : st.create_compared)
			std::printf(" %ld %s;", n, err ? strerrorname_np(err) : "created");
		std::printf("\n");
	}
	close(dev);
	std::printf("memfd_ioctl_fuzz: %ld calls, %ld unexpected results\n",
		    calls, bad);
	return bad ? 1 : 0;
}
