#!/usr/bin/python3
"""An unmodified program that creates and seals memfds through glibc
(os.memfd_create, fcntl F_ADD_SEALS/F_GET_SEALS), for the installed-system
checks: its transcript under the LD_PRELOAD shim must match its transcript
without it. Lines starting "device:" and "newer:" are expected to differ
(whether /dev/memfd is open; semantics the running kernel may lack)."""
import errno
import fcntl
import mmap
import os

SEAL_EXEC = 0x20


def attempt(what, fn):
    try:
        fn()
        print(f"{what}: ok")
    except OSError as e:
        print(f"{what}: {errno.errorcode[e.errno]}")


fd = os.memfd_create("python", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
print(f"name: {os.readlink(f'/proc/self/fd/{fd}')}")
os.write(fd, b"hello, sealed world")
print(f"seals at create: {fcntl.fcntl(fd, fcntl.F_GET_SEALS):#x}")
fcntl.fcntl(fd, fcntl.F_ADD_SEALS,
            fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE)
print(f"seals after F_ADD_SEALS: {fcntl.fcntl(fd, fcntl.F_GET_SEALS):#x}")
attempt("write", lambda: os.pwrite(fd, b"x", 0))
attempt("ftruncate shrink", lambda: os.ftruncate(fd, 1))
attempt("ftruncate grow", lambda: os.ftruncate(fd, 1 << 20))
attempt("mmap shared writable",
        lambda: mmap.mmap(fd, 19, mmap.MAP_SHARED, mmap.PROT_WRITE))
print(f"content: {os.pread(fd, 19, 0).decode()}")
attempt("F_ADD_SEALS(SEAL)",
        lambda: fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SEAL))
attempt("F_ADD_SEALS(FUTURE_WRITE) after SEAL",
        lambda: fcntl.fcntl(fd, fcntl.F_ADD_SEALS, 0x10))

no_sealing = os.memfd_create("python-nosealing", os.MFD_CLOEXEC)
print(f"seals without MFD_ALLOW_SEALING: "
      f"{fcntl.fcntl(no_sealing, fcntl.F_GET_SEALS):#x}")

try:
    noexec = os.memfd_create("python-noexec", os.MFD_CLOEXEC | 0x0008)
    print("newer: MFD_NOEXEC_SEAL ok seals "
          f"{fcntl.fcntl(noexec, fcntl.F_GET_SEALS):#x}")
except OSError as e:
    print(f"newer: MFD_NOEXEC_SEAL {errno.errorcode[e.errno]}")

held = set()
for n in os.listdir("/proc/self/fd"):
    try:
        held.add(os.readlink(f"/proc/self/fd/{n}"))
    except FileNotFoundError:
        pass  # the directory's own descriptor, closed by now
print("device: " + ("yes" if "/dev/memfd" in held else "no"))
