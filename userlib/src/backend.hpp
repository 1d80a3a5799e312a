// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Backend selection and the process-wide /dev/memfd descriptor.
#ifndef MEMFD_COMPAT_SRC_BACKEND_HPP
#define MEMFD_COMPAT_SRC_BACKEND_HPP

namespace memfd_compat::detail
{

enum class backend { automatic = 0, native = 1, module = 2 };

// The backend requested by memfd_compat_set_backend() or, failing that, by
// MEMFD_COMPAT_BACKEND (read once). -EINVAL for an unknown variable value.
int requested_backend() noexcept;

// Overrides the environment; -EINVAL for an unknown value.
int set_backend(int value) noexcept;

// The backend create() uses, with "automatic" resolved, or -errno.
int resolved_backend() noexcept;

// The shared /dev/memfd descriptor, opened on first use, or -errno:
// -ENODEV when the device does not exist (remembered for the process),
// other errors (EMFILE, EACCES, ...) as open() reported them (retried on
// the next call).
int device_fd() noexcept;

} // namespace memfd_compat::detail

#endif
