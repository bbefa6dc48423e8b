package dev.goemu.syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Files and fds: the host's files, reached through the guest's fd table; relative paths resolve from the guest
 * process's own current directory ({@link Cwd}). Reads and writes on fds that could block (a tty, a blocking pipe or socket)
 * wait for readiness in the scheduler, so only the calling thread waits.
 */
final class FileSyscalls {
    private static final int STAT_SIZE = 144, STATX_SIZE = 256;
    private static final int F_DUPFD = 0, F_SETFL = 4, F_DUPFD_CLOEXEC = 1030;
    private static final int O_CLOEXEC = 0x80000;
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
        t.add(257, "fsxo", k.passthrough.handler(257, "fsxo", 0, true));
        t.add(2, "sxo", k.passthrough.handler(2, "sxo", 0, true));
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
        t.add(88, "ss", k.passthrough.handler(88, "ls", 0, false));
        t.add(266, "sfs", k.passthrough.handler(266, "lfs", 0, false));
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
    }

    /** readv/writev: the iovec array holds guest pointers, so it is rebuilt with host ones. */
    private long vectored(int nr, long[] a, boolean intoGuest) {
        int h = k.fds.host((int) a[0]);
        int count = (int) a[2];
        if (count < 0 || count > 1024) return -Errno.EINVAL;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment iov = arena.allocate(16L * Math.max(count, 1), 8);
            List<AddressSpace.HostView> views = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                long base = k.memory.readLong(a[1] + 16L * i), len = k.memory.readLong(a[1] + 16L * i + 8);
                AddressSpace.HostView v = k.memory.view(base, len, arena);
                views.add(v);
                iov.set(JAVA_LONG, 16L * i, v.address());
                iov.set(JAVA_LONG, 16L * i + 8, len);
            }
            long r = Host.syscall(nr, h, iov.address(), count);
            if (intoGuest) for (AddressSpace.HostView v : views) v.copyBack();
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
