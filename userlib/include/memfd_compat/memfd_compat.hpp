// SPDX-License-Identifier: LGPL-2.1-or-later
//
// C++20 interface of libmemfd-compat. Error handling follows
// std::filesystem: every operation has a noexcept overload that reports
// through std::error_code (std::system_category, errno values) and a
// throwing overload that throws std::system_error.
#ifndef MEMFD_COMPAT_MEMFD_COMPAT_HPP
#define MEMFD_COMPAT_MEMFD_COMPAT_HPP

#include <memfd_compat/memfd_compat.h>

#include <sys/types.h>

#include <cstddef>
#include <span>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace memfd_compat
{

// Seals; the values are those of F_SEAL_* in <linux/fcntl.h>.
enum class seal : unsigned {
	none = 0,
	seal = MEMFD_COMPAT_SEAL_SEAL,
	shrink = MEMFD_COMPAT_SEAL_SHRINK,
	grow = MEMFD_COMPAT_SEAL_GROW,
	write = MEMFD_COMPAT_SEAL_WRITE,
	future_write = MEMFD_COMPAT_SEAL_FUTURE_WRITE,
	exec = MEMFD_COMPAT_SEAL_EXEC,
};

// memfd_create() flags; the values are those of MFD_* in <linux/memfd.h>.
enum class flags : unsigned {
	none = 0,
	cloexec = MEMFD_COMPAT_MFD_CLOEXEC,
	allow_sealing = MEMFD_COMPAT_MFD_ALLOW_SEALING,
	hugetlb = MEMFD_COMPAT_MFD_HUGETLB,
	noexec_seal = MEMFD_COMPAT_MFD_NOEXEC_SEAL,
	exec = MEMFD_COMPAT_MFD_EXEC,
};

// Flags of add_seals(); the values are MEMFD_COMPAT_SEAL_* of the uapi.
enum class seal_flags : unsigned {
	none = 0,
	// F_SEAL_WRITE replaces pinned pages by copies instead of waiting
	// for them (see memfd_compat_add_seals2())
	isolate_pins = MEMFD_COMPAT_SEAL_ISOLATE_PINS,
};

template <typename E>
concept bitmask_enum = std::is_same_v<E, seal> || std::is_same_v<E, flags> ||
                       std::is_same_v<E, seal_flags>;

template <bitmask_enum E> constexpr auto to_underlying(E e) noexcept
{
	return static_cast<std::underlying_type_t<E>>(e);
}

template <bitmask_enum E> constexpr E operator|(E a, E b) noexcept
{
	return E(to_underlying(a) | to_underlying(b));
}

template <bitmask_enum E> constexpr E operator&(E a, E b) noexcept
{
	return E(to_underlying(a) & to_underlying(b));
}

template <bitmask_enum E> constexpr E operator^(E a, E b) noexcept
{
	return E(to_underlying(a) ^ to_underlying(b));
}

template <bitmask_enum E> constexpr E operator~(E a) noexcept
{
	return E(~to_underlying(a));
}

template <bitmask_enum E> constexpr E &operator|=(E &a, E b) noexcept
{
	return a = a | b;
}

template <bitmask_enum E> constexpr E &operator&=(E &a, E b) noexcept
{
	return a = a & b;
}

template <bitmask_enum E> constexpr E &operator^=(E &a, E b) noexcept
{
	return a = a ^ b;
}

// True if any bit of @bits is set in @set (@bits defaults to "any bit").
template <bitmask_enum E> constexpr bool any(E set, E bits = ~E::none) noexcept
{
	return to_underlying(set & bits) != 0;
}

// True if every bit of @bits is set in @set.
template <bitmask_enum E> constexpr bool all(E set, E bits) noexcept
{
	return (set & bits) == bits;
}

// Owns one file descriptor; closes it on destruction. Movable, not copyable.
class memfd
{
public:
	constexpr memfd() noexcept = default;
	constexpr explicit memfd(int fd) noexcept : fd_(fd) {}
	memfd(const memfd &) = delete;
	memfd &operator=(const memfd &) = delete;
	constexpr memfd(memfd &&other) noexcept : fd_(other.release()) {}
	memfd &operator=(memfd &&other) noexcept
	{
		if (this != &other)
			reset(other.release());
		return *this;
	}
	~memfd() { reset(); }

	constexpr int get() const noexcept { return fd_; }
	constexpr explicit operator bool() const noexcept { return fd_ >= 0; }

	// Gives up ownership: returns the descriptor and leaves *this empty.
	constexpr int release() noexcept { return std::exchange(fd_, -1); }

	// Closes the owned descriptor (if any) and takes ownership of @fd.
	MEMFD_COMPAT_API void reset(int fd = -1) noexcept;

private:
	int fd_ = -1;
};

// Creates a memfd through the selected backend (see memfd_compat.h).
MEMFD_COMPAT_API memfd create(std::string_view name, flags f,
                              std::error_code &ec) noexcept;
MEMFD_COMPAT_API memfd create(std::string_view name, flags f = flags::cloexec);

MEMFD_COMPAT_API void add_seals(int fd, seal s, std::error_code &ec) noexcept;
MEMFD_COMPAT_API void add_seals(int fd, seal s);
inline void add_seals(const memfd &m, seal s, std::error_code &ec) noexcept
{
	add_seals(m.get(), s, ec);
}
inline void add_seals(const memfd &m, seal s)
{
	add_seals(m.get(), s);
}

// memfd_compat_add_seals2(): always through /dev/memfd, with @f.
MEMFD_COMPAT_API void add_seals(int fd, seal s, seal_flags f,
                                std::error_code &ec) noexcept;
MEMFD_COMPAT_API void add_seals(int fd, seal s, seal_flags f);
inline void add_seals(const memfd &m, seal s, seal_flags f,
                      std::error_code &ec) noexcept
{
	add_seals(m.get(), s, f, ec);
}
inline void add_seals(const memfd &m, seal s, seal_flags f)
{
	add_seals(m.get(), s, f);
}

// On error the noexcept overload returns seal::none and sets @ec.
MEMFD_COMPAT_API seal get_seals(int fd, std::error_code &ec) noexcept;
MEMFD_COMPAT_API seal get_seals(int fd);
inline seal get_seals(const memfd &m, std::error_code &ec) noexcept
{
	return get_seals(m.get(), ec);
}
inline seal get_seals(const memfd &m)
{
	return get_seals(m.get());
}

// Capabilities of the loaded module (ENODEV without /dev/memfd).
MEMFD_COMPAT_API memfd_compat_info query(std::error_code &ec) noexcept;
MEMFD_COMPAT_API memfd_compat_info query();

// An owned mmap() of a file; munmap()s on destruction. Movable only.
class mapping
{
public:
	constexpr mapping() noexcept = default;
	mapping(const mapping &) = delete;
	mapping &operator=(const mapping &) = delete;
	constexpr mapping(mapping &&other) noexcept
	    : addr_(std::exchange(other.addr_, nullptr)),
	      size_(std::exchange(other.size_, 0))
	{
	}
	mapping &operator=(mapping &&other) noexcept
	{
		if (this != &other) {
			reset();
			addr_ = std::exchange(other.addr_, nullptr);
			size_ = std::exchange(other.size_, 0);
		}
		return *this;
	}
	~mapping() { reset(); }

	// mmap(NULL, size, prot, map_flags, fd, offset).
	MEMFD_COMPAT_API static mapping map(int fd, std::size_t size, int prot,
	                                    int map_flags, off_t offset,
	                                    std::error_code &ec) noexcept;
	MEMFD_COMPAT_API static mapping map(int fd, std::size_t size, int prot,
	                                    int map_flags, off_t offset = 0);

	void *data() const noexcept { return addr_; }
	std::size_t size() const noexcept { return size_; }
	std::span<std::byte> bytes() const noexcept
	{
		return {static_cast<std::byte *>(addr_), size_};
	}
	explicit operator bool() const noexcept { return addr_ != nullptr; }

	// Unmaps now.
	MEMFD_COMPAT_API void reset() noexcept;

private:
	void *addr_ = nullptr;
	std::size_t size_ = 0;
};

} // namespace memfd_compat

#endif // MEMFD_COMPAT_MEMFD_COMPAT_HPP
