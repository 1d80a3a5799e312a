// One seal set, the kernel's own. A memfd is judged by the
// program that receives it, which is usually not ours: it checks and adds
// seals with plain fcntl(F_GET_SEALS / F_ADD_SEALS) and relies on the
// kernel's EPERM. Here the producer creates and seals through each backend
// and the receiver is a forked process that holds only the descriptor it
// got over SCM_RIGHTS and makes plain system calls. The native memfd is
// the reference; every module route must give the same answers.
#include "guest_util.hpp"

#include <linux/falloc.h>

namespace guest
{
namespace
{

constexpr unsigned size_and_data = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

class NativeInterop : public BackendTest
{
};
INSTANTIATE_BACKENDS(NativeInterop);

// What a journald-style receiver checks, then what it tries: every plain
// path that would change the data or size fails with the kernel's EPERM.
// Exit codes name the failed check.
int receiver_of_sealed(int fd)
{
	if (fcntl(fd, F_GET_SEALS) != static_cast<int>(size_and_data))
		return 10;
	char buf[8] = {};
	if (pread(fd, buf, 6, 0) != 6 || std::memcmp(buf, "sealed", 6) != 0)
		return 11;
	if (pwrite(fd, "x", 1, 0) != -1 || errno != EPERM)
		return 12;
	if (write(fd, "x", 1) != -1 || errno != EPERM)
		return 13;
	if (ftruncate(fd, 1) != -1 || errno != EPERM)
		return 14;
	if (ftruncate(fd, 1 << 20) != -1 || errno != EPERM)
		return 15;
	const long ps = sysconf(_SC_PAGESIZE);
	if (mmap(nullptr, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) != MAP_FAILED ||
	    errno != EPERM)
		return 16;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, ps) != -1 ||
	    errno != EPERM)
		return 17;
	if (fallocate(fd, 0, 0, 1 << 20) != -1 || errno != EPERM)
		return 18;
	// a re-open through /proc is the same file, with the same seals
	const int r = open(proc_path(fd).c_str(), O_RDWR | O_CLOEXEC);
	if (r < 0)
		return 19;
	const bool reopen_ok = fcntl(r, F_GET_SEALS) == static_cast<int>(size_and_data) &&
	                       pwrite(r, "x", 1, 0) == -1 && errno == EPERM;
	close(r);
	if (!reopen_ok)
		return 20;
	// the seal set is not frozen: the receiver may add to it
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL) != 0)
		return 21;
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) != -1 || errno != EPERM)
		return 22;
	return 0;
}

TEST_P(NativeInterop, ProducerSeals_PlainReceiverSeesSealsAndGetsEPERM)
{
	owned_fd m = make_with("sealed");
	ASSERT_EQ(add(m.get(), size_and_data), 0) << std::strerror(errno);
	EXPECT_EQ(run_receiver(m.get(), receiver_of_sealed), 0);
	// what the receiver added, the producer sees through its own route
	EXPECT_EQ(get(m.get()), static_cast<int>(size_and_data | F_SEAL_SEAL));
	EXPECT_EQ(memfd_compat_get_seals(m.get()), static_cast<int>(size_and_data | F_SEAL_SEAL));
	EXPECT_EQ(pread_str(m.get(), 6, 0), "sealed");
}

// The receiver gets an unsealed memfd and seals it itself with plain fcntl
// (as a compositor or udmabuf's user does); the producer sees those seals
// through the library and is held to them.
TEST_P(NativeInterop, PlainReceiverSeals_ProducerSeesSealsAndGetsEPERM)
{
	owned_fd m = make_with("unsealed");
	EXPECT_EQ(run_receiver(m.get(),
	                       [](int fd) {
		                       if (fcntl(fd, F_GET_SEALS) != 0)
			                       return 10;
		                       if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0)
			                       return 11;
		                       if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) != 0)
			                       return 12;
		                       if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL) != 0)
			                       return 13;
		                       return fcntl(fd, F_GET_SEALS) ==
		                                              static_cast<int>(size_and_data |
		                                                               F_SEAL_SEAL)
		                                      ? 0
		                                      : 14;
	                       }),
	          0);
	EXPECT_EQ(memfd_compat_get_seals(m.get()), static_cast<int>(size_and_data | F_SEAL_SEAL));
	EXPECT_EQ(get(m.get()), static_cast<int>(size_and_data | F_SEAL_SEAL));
	EXPECT_ERRNO(pwrite(m.get(), "x", 1, 0), EPERM);
	EXPECT_ERRNO(ftruncate(m.get(), 0), EPERM);
	EXPECT_EQ(mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, m.get(), 0),
	          MAP_FAILED);
	EXPECT_EQ(errno, EPERM);
	EXPECT_ERRNO(add(m.get(), F_SEAL_FUTURE_WRITE), EPERM);
	EXPECT_ERRNO(memfd_compat_add_seals(m.get(), F_SEAL_FUTURE_WRITE), EPERM);
	EXPECT_EQ(pread_str(m.get(), 8, 0), "unsealed");
}

// A writable shared mapping in the receiver: the producer's write seal is
// refused with EBUSY, as natively; once the receiver unmaps, it is granted
// and the receiver's new writable mapping gets EPERM.
TEST_P(NativeInterop, ReceiverWritableMapping_ProducerWriteSealEBUSY)
{
	owned_fd m = make_with(std::string(page_size(), 'm'));
	int go[2], done[2];
	ASSERT_EQ(pipe2(go, O_CLOEXEC), 0);
	owned_fd go_r{go[0]}, go_w{go[1]};
	ASSERT_EQ(pipe2(done, O_CLOEXEC), 0);
	owned_fd done_r{done[0]}, done_w{done[1]};
	const int fd = m.get();
	const pid_t child = start_child([&] {
		close(go_w.release());
		close(done_r.release());
		const long ps = sysconf(_SC_PAGESIZE);
		void *p = mmap(nullptr, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			return 10;
		static_cast<char *>(p)[0] = 'R';
		char c = 'm';
		if (write(done_w.get(), &c, 1) != 1) // mapped
			return 11;
		if (read(go_r.get(), &c, 1) != 1) // the producer tried
			return 12;
		munmap(p, ps);
		if (write(done_w.get(), &c, 1) != 1) // unmapped
			return 13;
		if (read(go_r.get(), &c, 1) != 1) // the producer sealed
			return 14;
		if (fcntl(fd, F_GET_SEALS) != F_SEAL_WRITE)
			return 15;
		if (mmap(nullptr, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) != MAP_FAILED ||
		    errno != EPERM)
			return 16;
		return 0;
	});
	go_r.reset();
	done_w.reset();
	char c;
	ASSERT_EQ(read(done_r.get(), &c, 1), 1);
	EXPECT_ERRNO(add(m.get(), F_SEAL_WRITE), EBUSY);
	EXPECT_EQ(get(m.get()), 0);
	ASSERT_EQ(write(go_w.get(), "t", 1), 1);
	ASSERT_EQ(read(done_r.get(), &c, 1), 1);
	EXPECT_EQ(add(m.get(), F_SEAL_WRITE), 0) << std::strerror(errno);
	ASSERT_EQ(write(go_w.get(), "s", 1), 1);
	EXPECT_EQ(wait_child(child), 0);
	EXPECT_EQ(pread_str(m.get(), 1, 0), "R");
}

// Without MFD_ALLOW_SEALING a memfd is born sealed: fcntl shows exactly
// F_SEAL_SEAL and refuses any seal with EPERM, to the creator and to a
// receiver, as natively.
TEST_P(NativeInterop, WithoutAllowSealing_FcntlSeesExactlySealSeal)
{
	owned_fd m = make(MFD_CLOEXEC);
	ASSERT_TRUE(m);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_SEAL);
	EXPECT_ERRNO(fcntl(m.get(), F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	EXPECT_ERRNO(fcntl(m.get(), F_ADD_SEALS, 0), EPERM);
	EXPECT_EQ(run_receiver(m.get(),
	                       [](int fd) {
		                       if (fcntl(fd, F_GET_SEALS) != F_SEAL_SEAL)
			                       return 10;
		                       if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) != -1 ||
		                           errno != EPERM)
			                       return 11;
		                       // unsealed in every other respect
		                       if (pwrite(fd, "abc", 3, 0) != 3 || ftruncate(fd, 1) != 0)
			                       return 12;
		                       return 0;
	                       }),
	          0);
	EXPECT_EQ(fcntl(m.get(), F_GET_SEALS), F_SEAL_SEAL);
	EXPECT_EQ(file_size(m.get()), 1);
}

// Seals added by a receiver through fcntl and by the producer through its
// route accumulate in one set, whoever adds them.
TEST_P(NativeInterop, SealsFromBothSides_OneSet)
{
	owned_fd m = make_with("both");
	ASSERT_EQ(add(m.get(), F_SEAL_SHRINK), 0);
	EXPECT_EQ(run_receiver(m.get(),
	                       [](int fd) {
		                       if (fcntl(fd, F_GET_SEALS) != F_SEAL_SHRINK)
			                       return 10;
		                       return fcntl(fd, F_ADD_SEALS, F_SEAL_GROW) == 0 ? 0 : 11;
	                       }),
	          0);
	ASSERT_EQ(add(m.get(), F_SEAL_FUTURE_WRITE), 0);
	EXPECT_EQ(run_receiver(m.get(),
	                       [](int fd) {
		                       return fcntl(fd, F_GET_SEALS) ==
		                                              (F_SEAL_SHRINK | F_SEAL_GROW |
		                                               F_SEAL_FUTURE_WRITE)
		                                      ? 0
		                                      : 10;
	                       }),
	          0);
	EXPECT_EQ(get(m.get()), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE);
}

} // namespace
} // namespace guest
