// SPDX-License-Identifier: LGPL-2.1-or-later
//
// memfd_demo: why sealing matters.
//
// A producer (the parent) hands a buffer of shared memory to a consumer
// (a forked child) by sending its file descriptor over a UNIX socket. The
// consumer maps the buffer and reads it in place: no copy. That is only safe
// if the producer can no longer change or shrink the buffer under the
// consumer's feet (a shrink makes the consumer's mapping raise SIGBUS; a
// rewrite after validation is a time-of-check/time-of-use bug). Seals make
// that a property of the file that the consumer can check for itself.
//
// Round 1: a sealed buffer (F_SEAL_SHRINK|GROW|WRITE|SEAL). The consumer
// checks the seals, trusts it, maps it, and shows that shrinking, writing
// and writable mappings fail. The producer cannot write either.
// Round 2: the same buffer, unsealed. The consumer refuses it, and the
// producer shows why: it can still rewrite and truncate it.
//
// The memfds come from libmemfd-compat: through memfd_compat.ko (/dev/memfd)
// when it is loaded, else from the kernel's own memfd_create().
//
// Exit status 0 when everything behaves as described, 1 otherwise.
#include <memfd_compat/memfd_compat.hpp>

#include "fd_passing.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

namespace
{

namespace mc = memfd_compat;
using fd_passing::recv_fd;
using fd_passing::send_fd;

constexpr mc::seal required_seals =
        mc::seal::shrink | mc::seal::grow | mc::seal::write | mc::seal::seal;

// Every line goes out at once: the two processes share the output.
[[gnu::format(printf, 2, 3)]] void say(const char *who, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	std::vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	std::printf("  %-9s %s\n", who, line);
	std::fflush(stdout);
}

std::string seal_names(mc::seal s)
{
	static constexpr std::pair<mc::seal, const char *> names[] = {
	        {mc::seal::seal, "SEAL"},   {mc::seal::shrink, "SHRINK"},
	        {mc::seal::grow, "GROW"},   {mc::seal::write, "WRITE"},
	        {mc::seal::future_write, "FUTURE_WRITE"}, {mc::seal::exec, "EXEC"},
	};
	std::string out;
	for (const auto &[bit, name] : names) {
		if (!mc::any(s, bit))
			continue;
		if (!out.empty())
			out += '|';
		out += name;
	}
	return out.empty() ? "none" : out;
}

const char *errno_name(int err)
{
	const char *name = strerrorname_np(err);
	return name != nullptr ? name : "?";
}

// Reports the outcome of an operation that must fail with EPERM.
bool expect_eperm(const char *who, const char *what, int ret, int err)
{
	if (ret == 0) {
		say(who, "%-36s -> succeeded   (UNEXPECTED)", what);
		return false;
	}
	const bool ok = err == EPERM;
	say(who, "%-36s -> %s%s", what, errno_name(err), ok ? "" : "   (UNEXPECTED)");
	return ok;
}

// Reports the outcome of an operation that must succeed.
bool expect_ok(const char *who, const char *what, int ret, int err)
{
	if (ret == 0) {
		say(who, "%-36s -> ok", what);
		return true;
	}
	say(who, "%-36s -> %s   (UNEXPECTED)", what, errno_name(err));
	return false;
}


// One byte back from the consumer: 'T' trusted it, 'R' refused it.
bool send_verdict(int sock, char v)
{
	return ::send(sock, &v, 1, MSG_NOSIGNAL) == 1;
}

char recv_verdict(int sock)
{
	char v = 0;
	return ::recv(sock, &v, 1, 0) == 1 ? v : 0;
}

// The consumer: receives a buffer, trusts it only if it is sealed.
// Exit status: 0 if everything behaved as expected.
int consumer(int sock, bool expect_sealed)
{
	const char *me = "consumer:";
	mc::memfd m{recv_fd(sock)};
	if (!m) {
		say(me, "receiving the descriptor failed: %s", std::strerror(errno));
		return 1;
	}
	struct stat st {
	};
	fstat(m.get(), &st);

	std::error_code ec;
	const mc::seal seals = mc::get_seals(m, ec);
	if (ec) {
		say(me, "F_GET_SEALS failed: %s", ec.message().c_str());
		return 1;
	}
	say(me, "received fd %d (%lld bytes), seals: %s", m.get(),
	    static_cast<long long>(st.st_size), seal_names(seals).c_str());

	if (!mc::all(seals, required_seals)) {
		say(me, "REFUSED: without %s the producer could still change or",
		    seal_names(required_seals & ~seals).c_str());
		say(me, "          shrink it while we read it (wrong data, SIGBUS)");
		send_verdict(sock, 'R');
		return expect_sealed ? 1 : 0;
	}
	say(me, "trusted: nobody can change its size or content any more");

	bool ok = expect_sealed;
	const std::size_t size = static_cast<std::size_t>(st.st_size);
	mc::mapping map = mc::mapping::map(m.get(), size, PROT_READ, MAP_PRIVATE, 0, ec);
	if (ec) {
		say(me, "mmap failed: %s", ec.message().c_str());
		ok = false;
	} else {
		const std::string_view text{static_cast<const char *>(map.data()),
		                            ::strnlen(static_cast<const char *>(map.data()),
		                                      size)};
		say(me, "mapped it, reads in place: \"%.*s\"", static_cast<int>(text.size()),
		    text.data());
	}

	// What a malicious or buggy peer holding the same file might try.
	errno = 0;
	int ret = ftruncate(m.get(), 0);
	ok &= expect_eperm(me, "shrink: ftruncate(fd, 0)", ret, errno);
	errno = 0;
	ret = ftruncate(m.get(), 8192);
	ok &= expect_eperm(me, "grow:   ftruncate(fd, 8192)", ret, errno);
	errno = 0;
	ret = pwrite(m.get(), "pay 9999", 8, 0) == 8 ? 0 : -1;
	ok &= expect_eperm(me, "write:  pwrite(fd, \"pay 9999\")", ret, errno);
	errno = 0;
	void *p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, m.get(), 0);
	ret = p == MAP_FAILED ? -1 : 0;
	if (p != MAP_FAILED)
		munmap(p, size);
	ok &= expect_eperm(me, "write:  mmap(PROT_WRITE, MAP_SHARED)", ret, errno);
	errno = 0;
	ret = memfd_compat_add_seals(m.get(), MEMFD_COMPAT_SEAL_FUTURE_WRITE);
	ok &= expect_eperm(me, "seals:  F_ADD_SEALS(FUTURE_WRITE)", ret, errno);

	send_verdict(sock, 'T');
	return ok ? 0 : 1;
}

// The producer: fills a buffer, optionally seals it, hands it over.
bool hand_over(bool seal_it)
{
	const char *me = "producer:";
	const std::string message = seal_it ? "pay 100 EUR to alice, invoice #42"
	                                    : "pay 100 EUR to bob, invoice #43";
	std::error_code ec;
	mc::memfd m = mc::create("invoice", mc::flags::cloexec | mc::flags::allow_sealing, ec);
	if (ec) {
		say(me, "memfd_compat_create failed: %s", ec.message().c_str());
		return false;
	}
	const std::size_t size = 4096;
	if (ftruncate(m.get(), size) != 0 ||
	    pwrite(m.get(), message.c_str(), message.size() + 1, 0) !=
	            static_cast<ssize_t>(message.size() + 1)) {
		say(me, "filling the buffer failed: %s", std::strerror(errno));
		return false;
	}
	say(me, "created memfd \"invoice\" (fd %d, %zu bytes): \"%s\"", m.get(), size,
	    message.c_str());
	if (seal_it) {
		mc::add_seals(m, required_seals, ec);
		if (ec) {
			say(me, "sealing failed: %s", ec.message().c_str());
			return false;
		}
		say(me, "sealed it: %s", seal_names(mc::get_seals(m)).c_str());
	} else {
		say(me, "did not seal it");
	}

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		say(me, "socketpair failed: %s", std::strerror(errno));
		return false;
	}
	std::fflush(stdout);
	const pid_t child = fork();
	if (child < 0) {
		say(me, "fork failed: %s", std::strerror(errno));
		return false;
	}
	if (child == 0) {
		close(sv[0]);
		m.reset();
		_exit(consumer(sv[1], seal_it));
	}
	close(sv[1]);

	say(me, "sends the fd to the consumer over a UNIX socket");
	bool ok = send_fd(sv[0], m.get()) == 0;
	if (!ok)
		say(me, "sending failed: %s", std::strerror(errno));
	const char verdict = recv_verdict(sv[0]);
	close(sv[0]);

	// After handing it over: can the producer still change the buffer?
	errno = 0;
	const int ret = pwrite(m.get(), "pay 9999", 8, 0) == 8 ? 0 : -1;
	if (seal_it) {
		ok &= expect_eperm(me, "write after sending: pwrite", ret, errno);
		ok &= verdict == 'T';
	} else {
		ok &= expect_ok(me, "write after sending: pwrite", ret, errno);
		errno = 0;
		ok &= expect_ok(me, "shrink after sending: ftruncate", ftruncate(m.get(), 0), errno);
		say(me, "(a consumer reading this mapping now would get SIGBUS)");
		ok &= verdict == 'R';
	}

	int status = 0;
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		say(me, "the consumer did not behave as expected");
		ok = false;
	}
	return ok;
}

void describe_backend()
{
	utsname u{};
	uname(&u);
	const int backend = memfd_compat_get_backend();
	memfd_compat_info info{};
	if (backend == MEMFD_COMPAT_BACKEND_MODULE && memfd_compat_query(&info) == 0)
		std::printf("kernel %s; memfds from memfd_compat.ko via %s (API v%u)\n",
		            u.release, MEMFD_COMPAT_DEVICE, info.api_version);
	else
		std::printf("kernel %s; no %s: memfds from the kernel's own "
		            "memfd_create()\n",
		            u.release, MEMFD_COMPAT_DEVICE);
}

} // namespace

int main()
{
	std::setvbuf(stdout, nullptr, _IOLBF, 0);
	std::printf("memfd-compat demo: handing a buffer to another process\n");
	describe_backend();

	std::printf("\n1. A sealed buffer (SHRINK|GROW|WRITE|SEAL)\n");
	const bool sealed_ok = hand_over(true);
	std::printf("\n2. The same, unsealed\n");
	const bool unsealed_ok = hand_over(false);

	const bool ok = sealed_ok && unsealed_ok;
	std::printf("\n%s\n", ok ? "Result: as expected: a consumer can rely on a sealed "
	                           "memfd and refuse an unsealed one."
	                         : "Result: UNEXPECTED behaviour (see above).");
	return ok ? 0 : 1;
}
