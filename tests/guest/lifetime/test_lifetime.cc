// Module lifetime, per kernel, as README and module/exec_seal.c document it.
//
// Where module memfds run module code (kernels whose fcntl lacks
// F_SEAL_EXEC, 6.1): each memfd's dentry holds one module reference until
// it is freed, so rmmod (delete_module with O_NONBLOCK) is refused with
// EWOULDBLOCK while a module memfd, a mapping of one, an fd in flight in a
// UNIX socket or a /proc path holder exists, and succeeds once all are gone.
//
// Where they do not (6.3 and later, 6.12 here): a module memfd is a plain
// shmem file whose seals the kernel enforces. rmmod succeeds while memfds
// are open, mapped or in flight, and afterwards they keep working: I/O,
// fcntl(F_GET_SEALS) unchanged, fcntl(F_ADD_SEALS) works and is enforced,
// fd passing works; the module loads again and new memfds work.
//
// On both, an open /dev/memfd pins the module, and refcnt returns to 0.
// The kernel is told apart by feature (QUERY.fcntl_seals has F_SEAL_EXEC),
// not by version string. A binary of its own: it unloads and reloads the
// module under the other suites' feet. Runs in the guest as root with the
// module loaded from MEMFD_KO (default /lib/modules/memfd_compat.ko).
#include "lifetime_util.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../guest_util.hpp"

namespace
{

using lifetime::create;
using lifetime::load;
using lifetime::loaded;
using lifetime::refcnt;
using lifetime::unload;

constexpr unsigned kSealable = MFD_CLOEXEC | MFD_ALLOW_SEALING;

std::string path_of(int fd)
{
	return "/proc/self/fd/" + std::to_string(fd);
}

class Lifetime : public ::testing::Test
{
protected:
	void SetUp() override
	{
		if (!loaded()) {
			ASSERT_EQ(load(), 0) << std::strerror(errno);
		}
		const int pins = lifetime::memfds_pin_module();
		ASSERT_GE(pins, 0) << "QUERY: " << std::strerror(errno);
		pins_ = pins == 1;
		ASSERT_EQ(refcnt(), 0) << "something else holds the module";
	}
	// Leave the module loaded for whatever runs next.
	void TearDown() override
	{
		if (!loaded()) {
			EXPECT_EQ(load(), 0) << std::strerror(errno);
		}
	}

	void expect_unload_refused()
	{
		errno = 0;
		EXPECT_EQ(unload(), -1);
		EXPECT_EQ(errno, EWOULDBLOCK) << std::strerror(errno);
		EXPECT_TRUE(loaded());
	}

	void expect_unload_ok()
	{
		EXPECT_EQ(unload(), 0) << std::strerror(errno);
		EXPECT_FALSE(loaded());
	}

	// Pinning kernels: refused, with @refs references; else unloads.
	void expect_unload_per_kernel(long refs)
	{
		if (pins_) {
			EXPECT_EQ(refcnt(), refs);
			expect_unload_refused();
		} else {
			EXPECT_EQ(refcnt(), 0) << "a memfd pins the module";
			expect_unload_ok();
		}
	}

	bool pins_ = true;
};

// A memfd that outlived the module (fcntl-enforcing kernels only) is still
// a working memfd. @fd: sealable, seals @seals (neither a write seal nor
// F_SEAL_EXEC), mode without exec bits, holding @content at offset 0.
void expect_memfd_works(int fd, unsigned seals, const std::string &content)
{
	SCOPED_TRACE("memfd " + std::to_string(fd));
	EXPECT_EQ(fcntl(fd, F_GET_SEALS), static_cast<int>(seals));
	EXPECT_EQ(guest::pread_str(fd, content.size(), 0), content);

	// data paths
	ASSERT_EQ(pwrite(fd, "after", 5, 0), 5) << std::strerror(errno);
	if (guest::file_size(fd) < 8192) {
		ASSERT_EQ(ftruncate(fd, 8192), 0) << std::strerror(errno);
	}
	void *p = mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(p, MAP_FAILED) << std::strerror(errno);
	std::memcpy(static_cast<char *>(p) + 4096, "mapped", 6);
	EXPECT_EQ(guest::pread_str(fd, 6, 4096), "mapped");
	EXPECT_EQ(guest::pread_str(fd, 5, 0), "after");
	// a writable shared mapping blocks F_SEAL_WRITE
	EXPECT_ERRNO(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
	ASSERT_EQ(munmap(p, 8192), 0);

	// F_SEAL_EXEC through the kernel's fcntl, enforced on chmod
	ASSERT_EQ(fchmod(fd, 0600), 0) << std::strerror(errno);
	ASSERT_EQ(fcntl(fd, F_ADD_SEALS, F_SEAL_EXEC), 0) << std::strerror(errno);
	EXPECT_ERRNO(fchmod(fd, 0700), EPERM);
	EXPECT_ERRNO(chmod(path_of(fd).c_str(), 0611), EPERM);
	EXPECT_EQ(fchmod(fd, 0644), 0) << "non-exec bits stay changeable";

	// F_SEAL_WRITE: write, writable shared mapping, mprotect upgrade
	ASSERT_EQ(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), 0) << std::strerror(errno);
	EXPECT_ERRNO(pwrite(fd, "x", 1, 0), EPERM);
	errno = 0;
	EXPECT_EQ(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
		  MAP_FAILED);
	EXPECT_EQ(errno, EPERM) << "shared writable mmap: " << std::strerror(errno);
	void *ro = mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (ro != MAP_FAILED) { // allowed natively since 6.7
		EXPECT_ERRNO(mprotect(ro, 4096, PROT_READ | PROT_WRITE), EACCES);
		munmap(ro, 4096);
	}
	// F_SEAL_SHRINK | F_SEAL_GROW, F_SEAL_SEAL
	ASSERT_EQ(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), 0);
	EXPECT_ERRNO(ftruncate(fd, 4096), EPERM);
	EXPECT_ERRNO(ftruncate(fd, 16384), EPERM);
	EXPECT_ERRNO(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE), EPERM);
	const unsigned all = seals | F_SEAL_EXEC | F_SEAL_WRITE | F_SEAL_SHRINK |
			     F_SEAL_GROW | F_SEAL_SEAL;
	EXPECT_EQ(fcntl(fd, F_GET_SEALS), static_cast<int>(all));

	// fd passing to another process, which sees the same seals and data
	int sv[2];
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	ASSERT_EQ(fd_passing::send_fd(sv[0], fd), 0) << std::strerror(errno);
	const int rc = guest::run_in_child([&] {
		const int got = fd_passing::recv_fd(sv[1]);
		if (got < 0)
			return 1;
		if (fcntl(got, F_GET_SEALS) != static_cast<int>(all))
			return 2;
		if (guest::pread_str(got, 5, 0) != "after")
			return 3;
		if (pwrite(got, "c", 1, 0) != -1 || errno != EPERM)
			return 4;
		return 0;
	});
	EXPECT_EQ(rc, 0) << "the receiving child";
	close(sv[0]);
	close(sv[1]);
}

TEST_F(Lifetime, OpenMemfd_PinsOnlyWhereModuleCodeRuns)
{
	const int fd = create(kSealable);
	ASSERT_GE(fd, 0) << std::strerror(errno);
	ASSERT_EQ(pwrite(fd, "open", 4, 0), 4);
	expect_unload_per_kernel(1);
	if (!pins_)
		expect_memfd_works(fd, 0, "open");
	close(fd);
	if (pins_)
		expect_unload_ok();
}

TEST_F(Lifetime, MappingWithoutFd_PinsOnlyWhereModuleCodeRuns)
{
	const int fd = create(kSealable);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(ftruncate(fd, 8192), 0);
	auto *p = static_cast<char *>(
		mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	ASSERT_NE(p, MAP_FAILED);
	close(fd);
	p[0] = 'x';
	expect_unload_per_kernel(1);
	// the mapping still writes to and reads from the same pages
	p[4096] = 'y';
	EXPECT_EQ(p[0], 'x');
	EXPECT_EQ(p[4096], 'y');
	ASSERT_EQ(munmap(p, 8192), 0);
	if (pins_)
		expect_unload_ok();
}

TEST_F(Lifetime, FdInFlightInUnixSocket_PinsOnlyWhereModuleCodeRuns)
{
	int sv[2];
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	int fd = create(kSealable);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(pwrite(fd, "flight", 6, 0), 6);
	ASSERT_EQ(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);

	ASSERT_EQ(fd_passing::send_fd(sv[0], fd), 0);
	close(fd);

	expect_unload_per_kernel(1); // only the socket queue holds the file

	fd = fd_passing::recv_fd(sv[1]);
	ASSERT_GE(fd, 0);
	if (!pins_)
		expect_memfd_works(fd, F_SEAL_SHRINK, "flight");
	close(fd);
	close(sv[0]);
	close(sv[1]);
	if (pins_)
		expect_unload_ok();
}

// An fd in flight whose socket is closed unreceived: the file goes with it.
TEST_F(Lifetime, FdDroppedInFlight_ReleasesTheModule)
{
	int sv[2];
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	const int fd = create(kSealable);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(fd_passing::send_fd(sv[0], fd), 0);
	close(fd);
	if (pins_) {
		EXPECT_EQ(refcnt(), 1);
	}
	close(sv[0]);
	close(sv[1]);
	EXPECT_EQ(refcnt(), 0);
	expect_unload_ok();
}

// A re-open through /proc/self/fd after the original fd is closed: the new
// file shares the dentry (and, where it pins, the one reference).
TEST_F(Lifetime, ProcReopenOnly_PinsOnlyWhereModuleCodeRuns)
{
	const int fd = create(kSealable);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(pwrite(fd, "reopen", 6, 0), 6);
	const int again = open(path_of(fd).c_str(), O_RDWR | O_CLOEXEC);
	ASSERT_GE(again, 0) << std::strerror(errno);
	close(fd);
	expect_unload_per_kernel(1);
	if (pins_) {
		// the re-opened file is the same memfd: seals in the kernel's
		// field, F_SEAL_EXEC through the module, both enforced
		ASSERT_EQ(fchmod(again, 0600), 0);
		EXPECT_EQ(fcntl(again, F_ADD_SEALS, F_SEAL_WRITE), 0);
		EXPECT_ERRNO(write(again, "x", 1), EPERM);
		EXPECT_EQ(lifetime::ioctl_add_seals(again, F_SEAL_EXEC), 0)
			<< std::strerror(errno);
		EXPECT_EQ(fcntl(again, F_GET_SEALS), F_SEAL_WRITE | F_SEAL_EXEC);
		EXPECT_ERRNO(fchmod(again, 0700), EPERM);
		EXPECT_EQ(refcnt(), 1);
	} else {
		expect_memfd_works(again, 0, "reopen");
	}
	close(again);
	if (pins_)
		expect_unload_ok();
}

// An O_PATH descriptor from /proc/self/fd holds only the path; it can be
// re-opened into a full memfd later, so where memfds pin, it pins.
TEST_F(Lifetime, OPathHolderOnly_PinsOnlyWhereModuleCodeRuns)
{
	const int fd = create(kSealable);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(pwrite(fd, "o_path", 6, 0), 6);
	const int holder = open(path_of(fd).c_str(), O_PATH | O_CLOEXEC);
	ASSERT_GE(holder, 0) << std::strerror(errno);
	close(fd);
	expect_unload_per_kernel(1);
	const int again = open(path_of(holder).c_str(), O_RDWR | O_CLOEXEC);
	ASSERT_GE(again, 0) << std::strerror(errno);
	close(holder);
	if (pins_) {
		EXPECT_EQ(refcnt(), 1);
		ASSERT_EQ(fchmod(again, 0600), 0);
		EXPECT_EQ(lifetime::ioctl_add_seals(again, F_SEAL_EXEC), 0)
			<< std::strerror(errno);
		EXPECT_ERRNO(fchmod(again, 0755), EPERM);
		EXPECT_EQ(guest::pread_str(again, 6, 0), "o_path");
	} else {
		expect_memfd_works(again, 0, "o_path");
	}
	close(again);
	if (pins_) {
		EXPECT_EQ(refcnt(), 0);
		expect_unload_ok();
	}
}

// Each memfd counts once, however it is held; a re-open adds nothing.
TEST_F(Lifetime, Refcnt_OnePerMemfdWhereTheyPin)
{
	int fds[3];
	for (int &fd : fds) {
		fd = create(kSealable);
		ASSERT_GE(fd, 0);
	}
	const int again = open(path_of(fds[0]).c_str(), O_RDONLY | O_CLOEXEC);
	ASSERT_GE(again, 0);
	const int dup = fcntl(fds[1], F_DUPFD_CLOEXEC, 0);
	ASSERT_GE(dup, 0);
	EXPECT_EQ(refcnt(), pins_ ? 3 : 0);
	close(again);
	close(dup);
	for (int fd : fds)
		close(fd);
	EXPECT_EQ(refcnt(), 0);
}

TEST_F(Lifetime, OpenDevice_RmmodRefusedUntilClosed)
{
	const int dev = lifetime::open_device();
	ASSERT_GE(dev, 0);
	EXPECT_EQ(refcnt(), 1);
	expect_unload_refused();
	close(dev);
	EXPECT_EQ(refcnt(), 0);
	expect_unload_ok();
}

// fcntl-enforcing kernels: memfds of every kind, held every way, survive
// the module and stay indistinguishable from native ones; the module
// loads again and its new memfds work beside them.
TEST_F(Lifetime, AfterUnload_MemfdsKeepWorking)
{
	if (pins_)
		GTEST_SKIP() << "module memfds pin the module on this kernel (its fcntl "
				"lacks F_SEAL_EXEC); the *_PinsOnlyWhereModuleCodeRuns "
				"cases check that rmmod is refused";

	const int plain = create(kSealable, "plain");
	const int noexec = create(MFD_CLOEXEC | MFD_NOEXEC_SEAL, "noexec");
	const int unsealable = create(MFD_CLOEXEC, "unsealable");
	const int in_flight = create(kSealable, "in-flight");
	const int mapped = create(kSealable, "mapped");
	ASSERT_GE(plain, 0);
	ASSERT_GE(noexec, 0);
	ASSERT_GE(unsealable, 0);
	ASSERT_GE(in_flight, 0);
	ASSERT_GE(mapped, 0);
	for (int fd : {plain, noexec, unsealable, in_flight, mapped})
		ASSERT_EQ(pwrite(fd, "before", 6, 0), 6);
	ASSERT_EQ(ftruncate(mapped, 4096), 0);
	auto *map = static_cast<char *>(
		mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mapped, 0));
	ASSERT_NE(map, MAP_FAILED);
	close(mapped);
	int sv[2];
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	ASSERT_EQ(fd_passing::send_fd(sv[0], in_flight), 0);
	close(in_flight);
	struct stat st{};
	ASSERT_EQ(fstat(noexec, &st), 0);
	EXPECT_EQ(st.st_mode & 0111, 0U);

	EXPECT_EQ(refcnt(), 0);
	expect_unload_ok();

	// F_GET_SEALS unchanged, seals enforced by the kernel alone
	EXPECT_EQ(fcntl(plain, F_GET_SEALS), 0);
	EXPECT_EQ(fcntl(noexec, F_GET_SEALS), F_SEAL_EXEC);
	EXPECT_EQ(fcntl(unsealable, F_GET_SEALS), F_SEAL_SEAL);
	EXPECT_ERRNO(fchmod(noexec, 0755), EPERM);
	EXPECT_ERRNO(fcntl(unsealable, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	EXPECT_EQ(pwrite(unsealable, "w", 1, 0), 1);
	EXPECT_EQ(pwrite(noexec, "w", 1, 0), 1) << "F_SEAL_EXEC alone allows writes";
	EXPECT_EQ(map[0], 'b');
	map[0] = 'B';
	EXPECT_EQ(map[0], 'B');
	ASSERT_EQ(munmap(map, 4096), 0);
	expect_memfd_works(plain, 0, "before");
	const int received = fd_passing::recv_fd(sv[1]);
	ASSERT_GE(received, 0);
	close(sv[0]);
	close(sv[1]);
	expect_memfd_works(received, 0, "before");

	// reload: new memfds work, the old ones are still as they were
	ASSERT_EQ(load(), 0) << std::strerror(errno);
	const int fresh = create(kSealable, "fresh");
	ASSERT_GE(fresh, 0) << std::strerror(errno);
	ASSERT_EQ(pwrite(fresh, "fresh", 5, 0), 5);
	expect_memfd_works(fresh, 0, "fresh");
	EXPECT_EQ(fcntl(plain, F_GET_SEALS),
		  F_SEAL_EXEC | F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	EXPECT_EQ(fcntl(noexec, F_GET_SEALS), F_SEAL_EXEC);
	EXPECT_EQ(refcnt(), 0);
	for (int fd : {plain, noexec, unsealable, received, fresh})
		close(fd);
	expect_unload_ok();
}

// 100 cycles, each creating, using, sealing and freeing memfds; where
// memfds do not pin, one of each cycle is kept open across all the
// unloads that follow and checked at the end.
TEST_F(Lifetime, LoadUnload100Times_WithMemfdsInBetween)
{
	std::vector<int> kept;
	for (int i = 0; i < 100; i++) {
		if (!loaded()) {
			ASSERT_EQ(load(), 0) << "cycle " << i << ": " << std::strerror(errno);
		}
		for (int j = 0; j < 4; j++) {
			const int fd = create(kSealable);
			ASSERT_GE(fd, 0) << "cycle " << i << ": " << std::strerror(errno);
			ASSERT_EQ(pwrite(fd, "data", 4, 4096 * j), 4);
			void *p = mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0);
			ASSERT_NE(p, MAP_FAILED);
			munmap(p, 4096);
			EXPECT_EQ(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
							 F_SEAL_WRITE | F_SEAL_SEAL),
				  0);
			if (pins_) {
				// F_SEAL_SEAL is set: the module refuses, as fcntl does
				EXPECT_ERRNO(lifetime::ioctl_add_seals(fd, F_SEAL_EXEC), EPERM);
			}
			if (!pins_ && j == 0)
				kept.push_back(fd);
			else
				close(fd);
		}
		ASSERT_EQ(unload(), 0) << "cycle " << i << ": " << std::strerror(errno);
	}
	for (int fd : kept) {
		EXPECT_EQ(fcntl(fd, F_GET_SEALS),
			  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
		EXPECT_EQ(guest::pread_str(fd, 4, 0), "data");
		EXPECT_ERRNO(pwrite(fd, "x", 1, 0), EPERM);
		close(fd);
	}
}

} // namespace
