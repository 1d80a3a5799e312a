// SPDX-License-Identifier: LGPL-2.1-or-later
#include "backend.hpp"

#include "sys.hpp"

#include <memfd_compat/uapi.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <mutex>
#include <string_view>

namespace memfd_compat::detail
{
namespace
{

constexpr int unset = INT_MIN;

// Programmatic override (memfd_compat_set_backend), or unset.
std::atomic<int> g_override{unset};

// The /dev/memfd descriptor (>= 0), -ENODEV once found absent, or unset.
std::atomic<int> g_device{unset};
std::mutex g_device_lock;

int parse_backend(const char *value) noexcept
{
	if (value == nullptr)
		return static_cast<int>(backend::automatic);
	const std::string_view v{value};
	if (v.empty() || v == "auto")
		return static_cast<int>(backend::automatic);
	if (v == "native")
		return static_cast<int>(backend::native);
	if (v == "module")
		return static_cast<int>(backend::module);
	return -EINVAL;
}

int env_backend() noexcept
{
	// Read once: a thread-safe function-local static.
	static const int value = parse_backend(std::getenv("MEMFD_COMPAT_BACKEND"));
	return value;
}

bool means_absent(int err) noexcept
{
	return err == -ENOENT || err == -ENODEV || err == -ENXIO;
}

int open_device_locked() noexcept
{
	int fd = g_device.load(std::memory_order_relaxed);
	if (fd != unset)
		return fd;
	fd = sys_open_cloexec(MEMFD_COMPAT_DEVICE, O_RDWR);
	if (means_absent(fd))
		fd = -ENODEV;
	else if (fd < 0)
		return fd; // transient or permission error: not remembered
	g_device.store(fd, std::memory_order_release);
	return fd;
}

} // namespace

int requested_backend() noexcept
{
	const int value = g_override.load(std::memory_order_relaxed);
	return value != unset ? value : env_backend();
}

int set_backend(int value) noexcept
{
	switch (static_cast<backend>(value)) {
	case backend::automatic:
	case backend::native:
	case backend::module:
		g_override.store(value, std::memory_order_relaxed);
		return 0;
	}
	return -EINVAL;
}

int device_fd() noexcept
{
	const int fd = g_device.load(std::memory_order_acquire);
	if (fd != unset)
		return fd;
	const std::lock_guard guard{g_device_lock};
	return open_device_locked();
}

int resolved_backend() noexcept
{
	const int requested = requested_backend();
	if (requested != static_cast<int>(backend::automatic))
		return requested;
	// "auto": the module if /dev/memfd exists, else the native call.
	if (device_fd() == -ENODEV)
		return static_cast<int>(backend::native);
	return static_cast<int>(backend::module);
}

} // namespace memfd_compat::detail
