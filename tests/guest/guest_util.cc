// Feature probes of the running kernel's native memfd. A native case whose
// feature is absent is skipped (counted as skipped, never as passed).
#include "guest_util.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

namespace guest
{

namespace
{

// Marks the start of each test in the kernel log, at KERN_NOTICE, which the
// test guests put on the console as it happens (scripts/vm-run: loglevel=6),
// so that a kernel report names the test that caused it even when
// panic_on_warn stops the guest before it can dump its log. Registered
// before main() in every binary that links this file.
class KmsgMarker : public ::testing::EmptyTestEventListener
{
	static void mark(const char *what, const ::testing::TestInfo &t)
	{
		const int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return;
		const std::string line = std::string("<5>memfd-test: ") + what + " " +
		                         t.test_suite_name() + "." + t.name() + "\n";
		(void)!write(fd, line.data(), line.size());
		close(fd);
	}
	void OnTestStart(const ::testing::TestInfo &t) override { mark("start", t); }
};

const bool kmsg_marker_registered = [] {
	::testing::UnitTest::GetInstance()->listeners().Append(new KmsgMarker);
	return true;
}();

} // namespace

bool native_has_seal_exec()
{
	static const bool has = [] {
		owned_fd m{native_create("probe", MFD_CLOEXEC | MFD_NOEXEC_SEAL)};
		return m && (fcntl(m.get(), F_GET_SEALS) & F_SEAL_EXEC) != 0;
	}();
	return has;
}

bool fcntl_has_seal_exec()
{
	static const bool has = [] {
		owned_fd m{native_create("probe", MFD_CLOEXEC | MFD_ALLOW_SEALING)};
		if (!m)
			return false;
		if (fcntl(m.get(), F_ADD_SEALS, F_SEAL_EXEC) == 0)
			return true;
		EXPECT_EQ(errno, EINVAL) << "fcntl(F_ADD_SEALS, F_SEAL_EXEC) on a native memfd";
		return false;
	}();
	return has;
}

unsigned fcntl_seals()
{
	constexpr unsigned basic = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW |
	                           F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
	return fcntl_has_seal_exec() ? basic | F_SEAL_EXEC : basic;
}

// Linux 6.7 and later allow a read-only MAP_SHARED mapping of a
// F_SEAL_WRITE memfd; earlier kernels refuse it with EPERM.
bool native_allows_readonly_shared_map_under_write_seal()
{
	static const bool has = [] {
		owned_fd m{native_create("probe", MFD_CLOEXEC | MFD_ALLOW_SEALING)};
		if (!m || ftruncate(m.get(), 4096) != 0 ||
		    fcntl(m.get(), F_ADD_SEALS, F_SEAL_WRITE) != 0)
			return false;
		void *p = mmap(nullptr, 4096, PROT_READ, MAP_SHARED, m.get(), 0);
		if (p == MAP_FAILED)
			return false;
		munmap(p, 4096);
		return true;
	}();
	return has;
}


int run_receiver(int fd, const std::function<int(int)> &fn)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return 90;
	const pid_t child = start_child([&] {
		close(sv[0]);
		close(fd); // only what comes over the socket
		const int got = recv_fd(sv[1]);
		close(sv[1]);
		return got < 0 ? 91 : fn(got);
	});
	close(sv[1]);
	const bool sent = send_fd(sv[0], fd) == 0;
	close(sv[0]);
	const int code = wait_child(child);
	return sent ? code : 92;
}

} // namespace guest
