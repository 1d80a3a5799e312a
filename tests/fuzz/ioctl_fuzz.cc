// A seeded, bounded random fuzzer for the module's ioctls, run in the
// guest. Every call must fail with an errno from the documented set (or
// succeed); the kernel log is checked by the harness afterwards.
//
//   memfd_ioctl_fuzz [--seed N] [--seconds S]
//
// Prints the seed first so any run can be replayed; exit 0 when every
// result was allowed, 1 otherwise, 77 without /dev/memfd.
#include <memfd_compat/uapi.h>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace {

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

class Fuzzer {
public:
	explicit Fuzzer(std::uint64_t seed) : rng_(seed)
	{
		// a page that is mapped, one that is not, a name with no NUL
		// before the unmapped page, and kernel-space addresses
		char *two = static_cast<char *>(mmap(nullptr, 8192,
			PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
		munmap(two + 4096, 4096);
		page_ = two;
		unmapped_ = two + 4096;
	}

	// One random ioctl; returns false if its result is not allowed.
	bool step(int dev, std::vector<int> &memfds)
	{
		const bool on_dev = memfds.empty() || pick(3) == 0;
		const int fd = on_dev ? dev : memfds[pick(memfds.size())];
		const unsigned cmd = command();
		const unsigned long arg = argument(cmd);
		errno = 0;
		const long ret = ioctl(fd, cmd, arg);
		const int err = errno;

		if (ret >= 0 && on_dev && cmd == MEMFD_COMPAT_IOC_CREATE) {
			memfds.push_back(static_cast<int>(ret));
			if (memfds.size() > 32) {
				close(memfds.front());
				memfds.erase(memfds.begin());
			}
			return true;
		}
		if (ret >= 0)
			return true;
		static const std::set<int> allowed = {EINVAL, EFAULT, ENOTTY,
						      EPERM, EBUSY, EACCES};
		if (allowed.count(err))
			return true;
		std::printf("fd %s cmd %#x arg %#lx: unexpected %s\n",
			    on_dev ? "dev" : "memfd", cmd, arg,
			    std::strerror(err));
		return false;
	}

private:
	std::size_t pick(std::size_t n) { return rng_() % n; }

	unsigned command()
	{
		static const unsigned known[] = {
			MEMFD_COMPAT_IOC_QUERY, MEMFD_COMPAT_IOC_CREATE,
			MEMFD_COMPAT_IOC_ADD_SEALS, MEMFD_COMPAT_IOC_GET_SEALS};
		switch (pick(4)) {
		case 0: // right type and number, wrong size or direction
			return _IOC(pick(4), MEMFD_COMPAT_IOC_MAGIC, pick(6),
				    pick(64));
		case 1: // anything at all
			return static_cast<unsigned>(rng_());
		default:
			return known[pick(4)];
		}
	}

	unsigned long argument(unsigned cmd)
	{
		switch (pick(8)) {
		case 0:
			return 0;
		case 1:
			return reinterpret_cast<unsigned long>(unmapped_);
		case 2:
			return 0xffffffff81000000ul + pick(1 << 20); // kernel text
		case 3:
			return rng_();
		case 4:
			return pick(64); // small values: seal bits
		default:
			return cmd == MEMFD_COMPAT_IOC_CREATE ? create_args()
							       : reinterpret_cast<unsigned long>(page_);
		}
	}

	// A create struct at the end of the mapped page, with random fields.
	unsigned long create_args()
	{
		auto *a = reinterpret_cast<memfd_compat_create_args *>(
			unmapped_ - sizeof(memfd_compat_create_args) -
			pick(2) * 64);
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
		a->name = pick(8) ? reinterpret_cast<std::uintptr_t>(name)
				  : rng_();
		a->flags = pick(2) ? static_cast<std::uint32_t>(pick(32))
				   : static_cast<std::uint32_t>(rng_());
		if (pick(6) == 0)
			a->reserved[pick(5)] = static_cast<std::uint32_t>(rng_());
		return reinterpret_cast<unsigned long>(a);
	}

	std::mt19937_64 rng_;
	char *page_ = nullptr;
	char *unmapped_ = nullptr;
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
	Fuzzer f(o.seed);
	std::vector<int> memfds;
	long calls = 0, bad = 0;
	const auto end = std::chrono::steady_clock::now() +
			 std::chrono::duration<double>(o.seconds);
	while (std::chrono::steady_clock::now() < end) {
		for (int i = 0; i < 256; i++, calls++)
			bad += !f.step(dev, memfds);
	}
	for (int fd : memfds)
		close(fd);
	close(dev);
	std::printf("memfd_ioctl_fuzz: %ld calls, %ld unexpected results\n",
		    calls, bad);
	return bad ? 1 : 0;
}
