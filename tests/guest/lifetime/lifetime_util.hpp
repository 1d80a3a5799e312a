// Helpers of the suites that unload and reload memfd_compat.ko
// (memfd_lifetime_tests, memfd_rmmod_storm). They run in the guest as root,
// with the module loaded from MEMFD_KO (default
// /lib/modules/memfd_compat.ko, where scripts/vm-run puts it).
//
// None of them keeps /dev/memfd open: an open device pins the module.
#ifndef MEMFD_LIFETIME_UTIL_HPP
#define MEMFD_LIFETIME_UTIL_HPP

#include <memfd_compat/uapi.h>

#include "fd_passing.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

namespace lifetime
{

inline const char *ko_path()
{
	const char *p = std::getenv("MEMFD_KO");
	return p ? p : "/lib/modules/memfd_compat.ko";
}

// delete_module(O_NONBLOCK), as `rmmod` does: 0, or -1 with errno
// (EWOULDBLOCK while references are held).
inline int unload()
{
	return static_cast<int>(syscall(SYS_delete_module, "memfd_compat", O_NONBLOCK));
}

// finit_module of MEMFD_KO: 0, or -1 with errno.
inline int load()
{
	const int fd = open(ko_path(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	const int ret = static_cast<int>(syscall(SYS_finit_module, fd, "", 0));
	const int err = errno;
	close(fd);
	errno = err;
	return ret;
}

inline bool loaded()
{
	return access("/sys/module/memfd_compat", F_OK) == 0;
}

// The module's reference count, or -1 when it is not loaded.
inline long refcnt()
{
	std::ifstream in("/sys/module/memfd_compat/refcnt");
	long n = -1;
	in >> n;
	return in ? n : -1;
}

// The refcnt once it has stopped changing: what earlier work released late
// (io_uring rings, files dropped in flight, RCU) is gone by then.
inline long settled_refcnt()
{
	long last = refcnt();
	for (int same = 0, i = 0; same < 4 && i < 40; i++) {
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
		const long now = refcnt();
		same = now == last ? same + 1 : 0;
		last = now;
	}
	return last;
}

// The refcnt after waiting up to 1 s for it to come back to @before (what
// a test held is let go of by deferred work, not always at once).
inline long refcnt_back_to(long before)
{
	long now = refcnt();
	for (int i = 0; i < 20 && now != before; i++) {
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
		now = refcnt();
	}
	return now;
}

// Opens /dev/memfd for one call: the descriptor, or -1 with errno.
inline int open_device()
{
	return open(MEMFD_COMPAT_DEVICE, O_RDWR | O_CLOEXEC);
}

// A module memfd through the raw CREATE ioctl, without keeping the device
// open: the new fd, or -1 with errno (from the open or the ioctl).
inline int create(unsigned flags, const char *name = "lifetime")
{
	const int dev = open_device();
	if (dev < 0)
		return -1;
	memfd_compat_create_args args{};
	args.name = reinterpret_cast<std::uintptr_t>(name);
	args.flags = flags;
	const int fd = ioctl(dev, MEMFD_COMPAT_IOC_CREATE, &args);
	const int err = errno;
	close(dev);
	errno = err;
	return fd;
}

// The raw ADD_SEALS ioctl on a transient /dev/memfd descriptor.
inline int ioctl_add_seals(int fd, unsigned seals)
{
	const int dev = open_device();
	if (dev < 0)
		return -1;
	memfd_compat_seal_args args{};
	args.fd = fd;
	args.seals = seals;
	const int ret = ioctl(dev, MEMFD_COMPAT_IOC_ADD_SEALS, &args);
	const int err = errno;
	close(dev);
	errno = err;
	return ret;
}

// QUERY on a transient descriptor; false (errno set) if that fails.
inline bool query(memfd_compat_info *info)
{
	const int dev = open_device();
	if (dev < 0)
		return false;
	std::memset(info, 0, sizeof(*info));
	const int ret = ioctl(dev, MEMFD_COMPAT_IOC_QUERY, info);
	const int err = errno;
	close(dev);
	errno = err;
	return ret == 0;
}

// Whether module memfds run module code, and so pin the module, on this
// kernel. Decided by feature, not version: where the kernel's own fcntl
// accepts F_SEAL_EXEC on a module memfd (QUERY.fcntl_seals), the kernel
// enforces every seal itself and a module memfd is a plain shmem file
// (6.3 and later); before that, the module's F_SEAL_EXEC hook is attached
// to each of them and each pins the module (module/exec_seal.c).
// -1 if the module cannot be asked.
inline int memfds_pin_module()
{
	memfd_compat_info info;
	if (!query(&info))
		return -1;
	return (info.fcntl_seals & F_SEAL_EXEC) ? 0 : 1;
}

// A /proc/meminfo field ("Shmem") in kB, or -1.
inline long meminfo_kb(const char *field)
{
	std::ifstream in("/proc/meminfo");
	std::string k, unit;
	long v;
	while (in >> k >> v) {
		std::getline(in, unit);
		if (k == std::string(field) + ":")
			return v;
	}
	return -1;
}

// Inodes allocated in the whole system (first field of
// /proc/sys/fs/inode-nr, a sum of per-CPU counters of inodes between
// alloc_inode() and destroy_inode(), exact when read), or -1. Every memfd
// is one; after drop_caches(), only inodes in use remain of the rest.
inline long nr_inodes()
{
	std::ifstream in("/proc/sys/fs/inode-nr");
	long n = -1;
	in >> n;
	return in ? n : -1;
}

// Frees unused dentries and inodes (proc's, sysfs's) so that nr_inodes()
// counts what is in use.
inline void drop_caches()
{
	sync();
	std::ofstream("/proc/sys/vm/drop_caches") << "2\n";
}

using fd_passing::recv_fd;
using fd_passing::recv_fd_msg;
using fd_passing::send_fd;

// pread of @len bytes at @off as a string ("" on error).
inline std::string pread_str(int fd, std::size_t len, off_t off)
{
	std::string s(len, '\0');
	const ssize_t n = pread(fd, s.data(), len, off);
	s.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
	return s;
}

} // namespace lifetime

#endif
