// A one-file FUSE file system ("slow", read-only, direct I/O) whose reads
// block until released: a direct read from it into a memfd mapping keeps
// the destination pages referenced for as long as a test wants. Shared by
// test_pins_fuse.cc and test_seal_isolate.cc.
#ifndef MEMFD_GUEST_SLOW_FUSE_HPP
#define MEMFD_GUEST_SLOW_FUSE_HPP

#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

namespace guest
{

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

} // namespace guest

#endif
