/*
 * Seal and flag values a C library's headers may lack (glibc 2.36 has no
 * F_SEAL_EXEC, MFD_NOEXEC_SEAL or MFD_EXEC): the kernel's own numbers, for
 * the test programs, C and C++ alike.
 */
#ifndef MEMFD_DEFS_H
#define MEMFD_DEFS_H

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#endif
