// The scenario of the original memfd sealing work: a direct read from a
// FUSE file whose server blocks is in flight into a memfd mapping while
// the memfd gets F_SEAL_WRITE. Either the seal fails with EBUSY, or the
// read's data never lands in the sealed file.
#define FUSE_USE_VERSION 35
#include "guest_util.hpp"

#include <fuse_lowlevel.h>
#include <sys/mount.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace {

using namespace guest;

constexpr fuse_ino_t kSlowIno = 2;
constexpr std::size_t kSlowSize = 1024 * 1024;

// A one-file FUSE file system whose reads wait until released.
class SlowFs {
public:
	bool mount(const char *dir)
	{
		static const fuse_lowlevel_ops ops = make_ops();
		const char *argv[] = {"slowfs", nullptr};
		fuse_args args = FUSE_ARGS_INIT(1, const_cast<char **>(argv));
		session_ = fuse_session_new(&args, &ops, sizeof(ops), this);
		if (!session_ || fuse_session_mount(session_, dir) != 0)
			return false;
		dir_ = dir;
		loop_ = std::thread([this] { fuse_session_loop(session_); });
		return true;
	}

	~SlowFs()
	{
		release();
		if (!session_)
			return;
		if (loop_.joinable()) {
			fuse_session_exit(session_);
			umount2(dir_.c_str(), MNT_DETACH);
			loop_.join();
		}
		fuse_session_unmount(session_);
		fuse_session_destroy(session_);
	}

	void wait_for_read()
	{
		std::unique_lock<std::mutex> l(lock_);
		cv_.wait(l, [this] { return reading_; });
	}

	void release()
	{
		std::lock_guard<std::mutex> l(lock_);
		released_ = true;
		cv_.notify_all();
	}

private:
	static SlowFs *self(fuse_req_t req)
	{
		return static_cast<SlowFs *>(fuse_req_userdata(req));
	}

	static struct stat attr(fuse_ino_t ino)
	{
		struct stat st {};
		st.st_ino = ino;
		st.st_mode = ino == kSlowIno ? (S_IFREG | 0444) : (S_IFDIR | 0755);
		st.st_nlink = ino == kSlowIno ? 1 : 2;
		st.st_size = ino == kSlowIno ? kSlowSize : 0;
		return st;
	}

	static fuse_lowlevel_ops make_ops()
	{
		fuse_lowlevel_ops ops{};
		ops.lookup = [](fuse_req_t req, fuse_ino_t parent,
				const char *name) {
			if (parent != FUSE_ROOT_ID || std::strcmp(name, "slow"))
				return (void)fuse_reply_err(req, ENOENT);
			fuse_entry_param e{};
			e.ino = kSlowIno;
			e.attr = attr(kSlowIno);
			fuse_reply_entry(req, &e);
		};
		ops.getattr = [](fuse_req_t req, fuse_ino_t ino,
				 fuse_file_info *) {
			const struct stat st = attr(ino);
			fuse_reply_attr(req, &st, 0);
		};
		ops.open = [](fuse_req_t req, fuse_ino_t, fuse_file_info *fi) {
			fi->direct_io = 1;
			fuse_reply_open(req, fi);
		};
		ops.read = [](fuse_req_t req, fuse_ino_t, size_t size, off_t,
			      fuse_file_info *) {
			SlowFs *fs = self(req);
			std::unique_lock<std::mutex> l(fs->lock_);
			fs->reading_ = true;
			fs->cv_.notify_all();
			fs->cv_.wait(l, [fs] { return fs->released_; });
			l.unlock();
			const std::string data(size, 'F');
			fuse_reply_buf(req, data.data(), data.size());
		};
		return ops;
	}

	fuse_session *session_ = nullptr;
	std::string dir_;
	std::thread loop_;
	std::mutex lock_;
	std::condition_variable cv_;
	bool reading_ = false;
	bool released_ = false;
};

class FusePinTest : public BackendTest {};

TEST_P(FusePinTest, DirectReadInFlight_SealBusyOrDataNeverLands)
{
	if (access("/dev/fuse", R_OK | W_OK) != 0)
		GTEST_SKIP() << "no /dev/fuse in this guest";
	const char *dir = "/tmp/slowfs";
	mkdir(dir, 0755);
	SlowFs fs;
	ASSERT_TRUE(fs.mount(dir)) << "FUSE mount failed";

	constexpr std::size_t kLen = 64 * 1024;
	owned_fd m = make();
	ASSERT_EQ(ftruncate(m.get(), kLen), 0);
	char *p = static_cast<char *>(mmap(nullptr, kLen, PROT_READ | PROT_WRITE,
					   MAP_SHARED, m.get(), 0));
	ASSERT_NE(p, MAP_FAILED);
	std::memset(p, 'a', kLen);

	const int src = open("/tmp/slowfs/slow", O_RDONLY | O_DIRECT);
	ASSERT_GE(src, 0) << std::strerror(errno);
	ssize_t got = -2;
	std::thread reader([&] { got = read(src, p, kLen); });
	fs.wait_for_read(); // the destination pages are referenced by now
	ASSERT_EQ(munmap(p, kLen), 0);

	const int sealed = add(m.get(), F_SEAL_WRITE);
	const int seal_errno = errno;
	fs.release();
	reader.join();
	close(src);
	EXPECT_EQ(got, static_cast<ssize_t>(kLen));

	if (sealed == 0) {
		EXPECT_EQ(pread_str(m.get(), kLen, 0), std::string(kLen, 'a'))
			<< "data landed in a write-sealed file";
	} else {
		EXPECT_EQ(seal_errno, EBUSY);
		// the read is done, the references are gone
		EXPECT_EQ(add(m.get(), F_SEAL_WRITE), 0) << std::strerror(errno);
	}
}

INSTANTIATE_BACKENDS(FusePinTest);

} // namespace
