// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The C++ interface, built on the C entry points.
#include <memfd_compat/memfd_compat.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <new>
#include <string>

namespace memfd_compat
{
namespace
{

std::error_code last_error() noexcept
{
	return {errno, std::system_category()};
}

void throw_if(const std::error_code &ec, const char *what)
{
	if (ec)
		throw std::system_error(ec, what);
}

} // namespace

void memfd::reset(int fd) noexcept
{
	const int old = std::exchange(fd_, fd);
	if (old >= 0)
		::close(old); // EINTR still closes on Linux: never retry
}

memfd create(std::string_view name, flags f, std::error_code &ec) noexcept
{
	ec.clear();
	// A name with an embedded NUL cannot be passed on unchanged.
	if (name.find('\0') != std::string_view::npos) {
		ec = std::make_error_code(std::errc::invalid_argument);
		return {};
	}
	try {
		const std::string c_name{name};
		const int fd = memfd_compat_create(c_name.c_str(), to_underlying(f));
		if (fd < 0)
			ec = last_error();
		return memfd{fd};
	} catch (const std::bad_alloc &) {
		ec = std::make_error_code(std::errc::not_enough_memory);
		return {};
	}
}

memfd create(std::string_view name, flags f)
{
	std::error_code ec;
	memfd m = create(name, f, ec);
	throw_if(ec, "memfd_compat::create");
	return m;
}

void add_seals(int fd, seal s, std::error_code &ec) noexcept
{
	ec.clear();
	if (memfd_compat_add_seals(fd, to_underlying(s)) < 0)
		ec = last_error();
}

void add_seals(int fd, seal s)
{
	std::error_code ec;
	add_seals(fd, s, ec);
	throw_if(ec, "memfd_compat::add_seals");
}

void add_seals(int fd, seal s, seal_flags f, std::error_code &ec) noexcept
{
	ec.clear();
	if (memfd_compat_add_seals2(fd, to_underlying(s), to_underlying(f)) < 0)
		ec = last_error();
}

void add_seals(int fd, seal s, seal_flags f)
{
	std::error_code ec;
	add_seals(fd, s, f, ec);
	throw_if(ec, "memfd_compat::add_seals");
}

seal get_seals(int fd, std::error_code &ec) noexcept
{
	ec.clear();
	const int ret = memfd_compat_get_seals(fd);
	if (ret < 0) {
		ec = last_error();
		return seal::none;
	}
	return static_cast<seal>(ret);
}

seal get_seals(int fd)
{
	std::error_code ec;
	const seal s = get_seals(fd, ec);
	throw_if(ec, "memfd_compat::get_seals");
	return s;
}

memfd_compat_info query(std::error_code &ec) noexcept
{
	ec.clear();
	memfd_compat_info info{};
	if (memfd_compat_query(&info) < 0)
		ec = last_error();
	return info;
}

memfd_compat_info query()
{
	std::error_code ec;
	const memfd_compat_info info = query(ec);
	throw_if(ec, "memfd_compat::query");
	return info;
}

mapping mapping::map(int fd, std::size_t size, int prot, int map_flags, off_t offset,
                     std::error_code &ec) noexcept
{
	ec.clear();
	void *addr = ::mmap(nullptr, size, prot, map_flags, fd, offset);
	if (addr == MAP_FAILED) {
		ec = last_error();
		return {};
	}
	mapping m;
	m.addr_ = addr;
	m.size_ = size;
	return m;
}

mapping mapping::map(int fd, std::size_t size, int prot, int map_flags, off_t offset)
{
	std::error_code ec;
	mapping m = map(fd, size, prot, map_flags, offset, ec);
	throw_if(ec, "memfd_compat::mapping::map");
	return m;
}

void mapping::reset() noexcept
{
	if (addr_ != nullptr)
		::munmap(addr_, size_);
	addr_ = nullptr;
	size_ = 0;
}

} // namespace memfd_compat
