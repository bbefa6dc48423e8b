package dev.goemu.syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * Files and fds: the host's files, reached through the guest's fd table; paths resolve from the current
 * directory like a native run. Reads and writes on fds that could block (a tty, a blocking pipe or socket)
 * wait for readiness in the scheduler, so only the calling thread waits.
 */
final class FileSyscalls {
    private static final int STAT_SIZE = 144, STATX_SIZE = 256;
    private static final int F_DUPFD = 0, F_SETFL = 4, F_DUPFD_CLOEXEC = 1030;
    private static final int O_CLOEXEC = 0x80000, O_NONBLOCK = 0x800, O_ACCMODE = 3, O_RDWR = 2;
    private static final int AT_FDCWD = -100, S_IFMT = 0170000, S_IFIFO = 0010000, SYS_OPENAT = 257, SYS_NEWFSTATAT = 262;
    private static final int SYS_READV = 19, SYS_WRITEV = 20, SYS_DUP = 32;

    private final Kernel k;

    FileSyscalls(Kernel k) {
        this.k = k;
    }

    void register(SyscallTable t) {
        t.add(0, "fxd", k.blocking.io(Blocking.POLLIN, k.passthrough.handler(0, "fbd", 0, false)));
        t.add(1, "fbd", k.blocking.io(Blocking.POLLOUT, k.passthrough.handler(1, "fbd", 0, false)));
        t.add(17, "fxdd", k.passthrough.handler(17, "fbdd", 0, false));
        t.add(18, "fbdd", k.passthrough.handler(18, "fbdd", 0, false));
        t.add(19, "fxd", k.blocking.io(Blocking.POLLIN, (task, a) -> vectored(SYS_READV, a, true)));
        t.add(20, "fxd", k.blocking.io(Blocking.POLLOUT, (task, a) -> vectored(SYS_WRITEV, a, false)));
        t.add(3, "f", (task, a) -> k.fds.close((int) a[0]));
        t.add(257, "fsxo", (task, a) -> open(task, 257, a, a[0], a[1], a[2], a[3]));
        t.add(2, "sxo", (task, a) -> open(task, 2, a, AT_FDCWD, a[0], a[1], a[2]));
        t.add(8, "fdd", k.passthrough.handler(8, "fdd", 0, false));
        t.add(5, "fx", k.passthrough.handler(5, "fp", STAT_SIZE, false));
        t.add(4, "sx", k.passthrough.handler(4, "sp", STAT_SIZE, false));
        t.add(6, "sx", k.passthrough.handler(6, "sp", STAT_SIZE, false));
        t.add(262, "fsxx", k.passthrough.handler(262, "fspx", STAT_SIZE, false));
        t.add(332, "fsxxx", k.passthrough.handler(332, "fsxxp", STATX_SIZE, false));
        t.add(21, "so", k.passthrough.handler(21, "sx", 0, false));
        t.add(269, "fso", k.passthrough.handler(269, "fsx", 0, false));
        t.add(439, "fsox", k.passthrough.handler(439, "fsxx", 0, false));
        t.add(267, "fsxd", (task, a) -> readlink(a[1], a[2], a[3], () -> k.passthrough.call(267, "fsbd", 0, a)));
        t.add(89, "sxd", (task, a) -> readlink(a[0], a[1], a[2], () -> k.passthrough.call(89, "sbd", 0, a)));
        t.add(217, "fxd", k.passthrough.handler(217, "fbd", 0, false));
        t.add(78, "fxd", k.passthrough.handler(78, "fbd", 0, false));
        t.add(79, "xd", k.passthrough.handler(79, "bd", 0, false));
        t.add(80, "s", k.passthrough.handler(80, "s", 0, false));
        t.add(81, "f", k.passthrough.handler(81, "f", 0, false));
        t.add(83, "so", k.passthrough.handler(83, "sx", 0, false));
        t.add(258, "fso", k.passthrough.handler(258, "fsx", 0, false));
        t.add(84, "s", k.passthrough.handler(84, "s", 0, false));
        t.add(87, "s", k.passthrough.handler(87, "s", 0, false));
        t.add(263, "fsx", k.passthrough.handler(263, "fsx", 0, false));
        t.add(82, "ss", k.passthrough.handler(82, "ss", 0, false));
        t.add(264, "fsfs", k.passthrough.handler(264, "fsfs", 0, false));
        t.add(316, "fsfsx", k.passthrough.handler(316, "fsfsx", 0, false));
        t.add(86, "ss", k.passthrough.handler(86, "ss", 0, false));
        t.add(265, "fsfsx", k.passthrough.handler(265, "fsfsx", 0, false));
        t.add(88, "ss", k.passthrough.handler(88, "ss", 0, false));
        t.add(266, "sfs", k.passthrough.handler(266, "sfs", 0, false));
        t.add(90, "so", k.passthrough.handler(90, "sx", 0, false));
        t.add(91, "fo", k.passthrough.handler(91, "fx", 0, false));
        t.add(268, "fso", k.passthrough.handler(268, "fsx", 0, false));
        t.add(92, "sdd", k.passthrough.handler(92, "sxx", 0, false));
        t.add(93, "fdd", k.passthrough.handler(93, "fxx", 0, false));
        t.add(94, "sdd", k.passthrough.handler(94, "sxx", 0, false));
        t.add(260, "fsddx", k.passthrough.handler(260, "fsxxx", 0, false));
        t.add(280, "fsxx", k.passthrough.handler(280, "fspx", 32, false));
        t.add(76, "sd", k.passthrough.handler(76, "sx", 0, false));
        t.add(77, "fd", k.passthrough.handler(77, "fx", 0, false));
        t.add(74, "f", k.passthrough.handler(74, "f", 0, false));
        t.add(75, "f", k.passthrough.handler(75, "f", 0, false));
        t.add(73, "fx", k.passthrough.handler(73, "fx", 0, false));
        t.add(285, "fxdd", k.passthrough.handler(285, "fxxx", 0, false));
        t.add(221, "fddd", k.passthrough.handler(221, "fxxx", 0, false));
        t.add(137, "sx", k.passthrough.handler(137, "sp", 120, false));
        t.add(138, "fx", k.passthrough.handler(138, "fp", 120, false));
        t.add(95, "o", k.passthrough.handler(95, "x", 0, false));
        t.add(32, "f", (task, a) -> k.fds.install(k.passthrough.call(SYS_DUP, "f", 0, a)));
        t.add(33, "ff", (task, a) -> dup3(a[0], a[1], 0));
        t.add(292, "ffx", (task, a) -> a[0] == a[1] ? -Errno.EINVAL : dup3(a[0], a[1], a[2]));
        t.add(72, "fdx", this::fcntl);
        t.add(16, "fxx", this::ioctl);
        // Data moved by the host between two fds; each side that could block waits for readiness first.
        t.add(40, "ffxd", k.blocking.copy(1, 0, k.passthrough.handler(40, "ffpx", 8, false)));
        t.add(275, "fxfxdx", k.blocking.copy(0, 2, k.passthrough.handler(275, "fpfpxx", 8, false)));
        t.add(276, "ffdx", k.blocking.copy(0, 1, k.passthrough.handler(276, "ffxx", 0, false)));
        t.add(326, "fxfxdx", k.blocking.copy(0, 2, k.passthrough.handler(326, "fpfpxx", 8, false)));
        // FIFOs, sockets and regular files; device nodes get the host's answer (EPERM without CAP_MKNOD).
        t.add(133, "sox", k.passthrough.handler(133, "sxx", 0, false));
        t.add(259, "fsox", k.passthrough.handler(259, "fsxx", 0, false));
        t.add(132, "sx", k.passthrough.handler(132, "sp", 16, false));      // utime: struct utimbuf
        t.add(235, "sx", k.passthrough.handler(235, "sp", 32, false));      // utimes: struct timeval[2]
        t.add(261, "fsx", k.passthrough.handler(261, "fsp", 32, false));    // futimesat
        t.add(437, "fsxd", this::openat2);
        t.add(162, "", k.passthrough.handler(162, "", 0, false));
        t.add(277, "fddx", k.passthrough.handler(277, "fxxx", 0, false));
        t.add(136, "xx", k.passthrough.handler(136, "xp", 32, false));      // ustat: struct ustat
        t.add(188, "ssxdx", k.passthrough.handler(188, "ssbdx", 0, false));  // setxattr
        t.add(189, "ssxdx", k.passthrough.handler(189, "ssbdx", 0, false));  // lsetxattr
        t.add(190, "fsxdx", k.passthrough.handler(190, "fsbdx", 0, false));  // fsetxattr
        t.add(191, "ssxd", k.passthrough.handler(191, "ssbd", 0, false));    // getxattr
        t.add(192, "ssxd", k.passthrough.handler(192, "ssbd", 0, false));    // lgetxattr
        t.add(193, "fsxd", k.passthrough.handler(193, "fsbd", 0, false));    // fgetxattr
        t.add(194, "sxd", k.passthrough.handler(194, "sbd", 0, false));      // listxattr
        t.add(195, "sxd", k.passthrough.handler(195, "sbd", 0, false));      // llistxattr
        t.add(196, "fxd", k.passthrough.handler(196, "fbd", 0, false));      // flistxattr
        t.add(197, "ss", k.passthrough.handler(197, "ss", 0, false));        // removexattr
        t.add(198, "ss", k.passthrough.handler(198, "ss", 0, false));        // lremovexattr
        t.add(199, "fs", k.passthrough.handler(199, "fs", 0, false));        // fremovexattr
        t.add(253, "", k.passthrough.handler(253, "", 0, true));
        t.add(294, "x", k.passthrough.handler(294, "x", 0, true));
        t.add(254, "fsx", k.passthrough.handler(254, "fsx", 0, false));
        t.add(255, "fd", k.passthrough.handler(255, "fx", 0, false));
        // Changing the root or the mounts would change the JVM's view too: refused as for a process without
        // CAP_SYS_ADMIN / CAP_SYS_CHROOT / CAP_SYS_PACCT in a container.
        t.add(155, "ss", (task, a) -> -Errno.EPERM);    // pivot_root
        t.add(161, "s", (task, a) -> -Errno.EPERM);     // chroot
        t.add(163, "s", (task, a) -> -Errno.EPERM);     // acct
        t.add(165, "sssxx", (task, a) -> -Errno.EPERM); // mount
        t.add(166, "sx", (task, a) -> -Errno.EPERM);    // umount2
    }

    /**
     * open/openat. Opening a FIFO for reading or writing only waits in the host kernel until the other end is
     * opened, maybe by another guest thread: that open runs on a helper thread while the task waits.
     */
    private long open(Task task, int nr, long[] a, long dirFd, long pathAddr, long flags, long mode) {
        int dir = k.fds.host((int) dirFd);
        boolean mayWait = (flags & O_NONBLOCK) == 0 && (flags & O_ACCMODE) != O_RDWR && dir != -Errno.EBADF;
        String path = mayWait ? k.memory.readCString(pathAddr, 4096) : null;
        if (!mayWait || !isFifo(dir, path)) return k.fds.install(k.passthrough.call(nr, nr == 2 ? "sxx" : "fsxx", 0, a));
        return k.fds.install(k.offload.openFd(task, nr, a, () -> {
            try (Arena arena = Arena.ofConfined()) {
                return Host.syscall(SYS_OPENAT, dir, arena.allocateFrom(path).address(), flags, mode, 0, 0);
            }
        }));
    }

    private static boolean isFifo(int dirHostFd, String path) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment stat = arena.allocate(STAT_SIZE, 8);
            long r = Host.syscall(SYS_NEWFSTATAT, dirHostFd, arena.allocateFrom(path).address(), stat.address(), 0, 0, 0);
            return r == 0 && (stat.get(ValueLayout.JAVA_INT, 24) & S_IFMT) == S_IFIFO;
        }
    }

    /** openat2: struct open_how is 24 bytes and may grow; Linux refuses a size below that or above a page. */
    private long openat2(Task task, long[] a) {
        final int openHowVer0 = 24, e2big = 7;
        if (a[3] < openHowVer0) return -Errno.EINVAL;
        if (a[3] > AddressSpace.PAGE) return -e2big;
        return k.fds.install(k.passthrough.call(437, "fsbd", 0, a));
    }

    /** readv/writev: the iovec array holds guest pointers, so it is rebuilt with host ones. */
    private long vectored(int nr, long[] a, boolean intoGuest) {
        int h = k.fds.host((int) a[0]);
        int count = (int) a[2];
        if (count < 0 || count > Iovecs.UIO_MAXIOV) return -Errno.EINVAL;
        try (Arena arena = Arena.ofConfined()) {
            Iovecs iov = Iovecs.of(k.memory, a[1], count, arena);
            if (iov == null) return -Errno.EINVAL;
            long r = Host.syscall(nr, h, iov.array.address(), count);
            if (intoGuest) iov.copyBack();
            return r;
        }
    }

    /** readlink of /proc/self/exe names the guest binary, like on Linux; other links are the host's. */
    private long readlink(long pathAddr, long buf, long size, java.util.function.LongSupplier host) {
        if (!k.memory.readCString(pathAddr, 4096).equals("/proc/self/exe")) return host.getAsLong();
        byte[] exe = k.config.exePath().getBytes(StandardCharsets.UTF_8);
        int n = (int) Math.min(exe.length, size);
        k.memory.write(buf, java.util.Arrays.copyOf(exe, n));
        return n;
    }

    private long dup3(long oldFd, long newFd, long flags) {
        int h = k.fds.host((int) oldFd);
        if (h < 0 || newFd < 0 || newFd > 65535) return -Errno.EBADF;
        if (oldFd == newFd) return newFd;
        long copy = Host.syscall(SYS_DUP, h, 0, 0);
        if (copy < 0) return copy;
        if ((flags & O_CLOEXEC) != 0) Host.syscall(Host.SYS_FCNTL, copy, 2, 1);
        k.fds.installAt((int) newFd, (int) copy);
        return newFd;
    }

    private long fcntl(Task task, long[] a) {
        int fd = (int) a[0], cmd = (int) a[1];
        int h = k.fds.host(fd);
        if (h < 0) return h;
        return switch (cmd) {
            case F_DUPFD, F_DUPFD_CLOEXEC -> {
                long copy = Host.syscall(Host.SYS_FCNTL, h, cmd, 0);
                yield k.fds.install(copy, (int) Math.max(0, a[2]));
            }
            case 5, 6, 7, 36, 37, 38 -> k.passthrough.call(72, "fxp", 32, a); // record locks take a struct flock
            default -> {
                long r = Host.syscall(Host.SYS_FCNTL, h, cmd, a[2]);
                if (cmd == F_SETFL && r >= 0) k.fds.refresh(fd);
                yield r;
            }
        };
    }

    private long ioctl(Task task, long[] a) {
        int fd = (int) a[0];
        if (k.fds.host(fd) < 0) return -Errno.EBADF;
        long req = a[1] & 0xffffffffL;
        int size = switch ((int) req) {
            case 0x5401, 0x5402, 0x5403, 0x5404 -> 36; // TCGETS, TCSETS* (struct termios)
            case 0x5413, 0x5414 -> 8;                   // TIOCGWINSZ, TIOCSWINSZ
            case 0x540f, 0x5410, 0x541b, 0x5421 -> 4;   // TIOCGPGRP, TIOCSPGRP, FIONREAD, FIONBIO
            case 0x5450, 0x5451 -> 0;                   // FIONCLEX, FIOCLEX
            default -> -1;
        };
        if (size < 0) return -Errno.ENOTTY;
        long r = k.passthrough.call(16, size == 0 ? "fx" : "fxp", size, a);
        if (req == 0x5421 && r >= 0) k.fds.refresh(fd);
        return r;
    }
}
