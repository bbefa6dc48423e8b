package dev.goemu.syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import java.nio.charset.StandardCharsets;

/**
 * Files and fds: the host's files, reached through the guest's fd table; relative paths resolve from the guest
 * process's own current directory ({@link Cwd}). Reads and writes on fds that could block (a tty, a blocking pipe or socket)
 * wait for readiness in the scheduler, so only the calling thread waits.
 */
final class FileSyscalls {
    private static final int STAT_SIZE = 144, STATX_SIZE = 256;
    private static final int F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, F_GETLK = 5, F_SETLK = 6,
            F_SETLKW = 7, F_SETOWN = 8, F_GETOWN = 9, F_SETSIG = 10, F_GETSIG = 11, F_SETOWN_EX = 15, F_GETOWN_EX = 16,
            F_OFD_GETLK = 36, F_OFD_SETLK = 37, F_OFD_SETLKW = 38, F_GETLEASE = 1025, F_DUPFD_QUERY = 1027,
            F_DUPFD_CLOEXEC = 1030, F_SETPIPE_SZ = 1031, F_GETPIPE_SZ = 1032, F_ADD_SEALS = 1033, F_GET_SEALS = 1034,
            F_GET_RW_HINT = 1035, F_SET_RW_HINT = 1036;
    private static final int F_OWNER_TID = 0, F_OWNER_PGRP = 2;
    private static final int FLOCK_SIZE = 32;
    private static final int O_CLOEXEC = 0x80000, O_ASYNC = 0x2000, O_NONBLOCK = 0x800, O_ACCMODE = 3, O_RDWR = 2,
            O_WRONLY = 1, O_CREAT = 0100, O_TRUNC = 01000, O_TMPFILE = 020000000;
    private static final int TCGETS = 0x5401, TIOCSCTTY = 0x540e, TIOCNOTTY = 0x5422;
    private static final int AT_FDCWD = -100, S_IFMT = 0170000, S_IFIFO = 0010000;

    private final Kernel k;

    FileSyscalls(Kernel k) {
        this.k = k;
    }

    void register(SyscallTable t) {
        t.add(Sys.READ, "fBd", seeded(false, mem(false, false, k.blocking.io(Blocking.POLLIN, k.passthrough.handler()))));
        t.add(Sys.WRITE, "fbd", mem(true, false, k.blocking.io(Blocking.POLLOUT, k.passthrough.handler())));
        t.add(Sys.PREAD64, "fBdd", seeded(false, mem(false, true, k.passthrough.handler())));
        t.add(Sys.PWRITE64, "fbdd", mem(true, true, k.passthrough.handler()));
        t.add(Sys.READV, "fxd", seeded(true, k.blocking.io(Blocking.POLLIN, (task, a) -> vectored(Sys.READV, a, true))));
        t.add(Sys.WRITEV, "fxd", k.blocking.io(Blocking.POLLOUT, (task, a) -> vectored(Sys.WRITEV, a, false)));
        // At an offset (pos_l, pos_h), or with preadv2/pwritev2's offset -1 at the file's position, as readv/writev.
        t.add(Sys.PREADV, "fxddd", seeded(true, k.blocking.io(Blocking.POLLIN, (task, a) -> vectored(Sys.PREADV, a, true))));
        t.add(Sys.PWRITEV, "fxddd", k.blocking.io(Blocking.POLLOUT, (task, a) -> vectored(Sys.PWRITEV, a, false)));
        t.add(Sys.PREADV2, "fxdddx", seeded(true, k.blocking.io(Blocking.POLLIN, (task, a) -> vectored(Sys.PREADV2, a, true))));
        t.add(Sys.PWRITEV2, "fxdddx", k.blocking.io(Blocking.POLLOUT, (task, a) -> vectored(Sys.PWRITEV2, a, false)));
        t.add(Sys.CLOSE, "f", (task, a) -> k.fds.close((int) a[0]));
        t.add(Sys.CLOSE_RANGE, "ddx", (task, a) -> closeRange(a[0] & 0xffffffffL, a[1] & 0xffffffffL, a[2]));
        t.add(Sys.MEMFD_CREATE, "lx", k.passthrough.fd());
        t.add(Sys.OPENAT, "fsxo", (task, a) -> open(task, Sys.OPENAT, a, a[0], a[1], a[2], a[3]));
        t.add(Sys.OPEN, "sxo", (task, a) -> open(task, Sys.OPEN, a, AT_FDCWD, a[0], a[1], a[2]));
        t.add(Sys.CREAT, "so", (task, a) -> open(task, Sys.OPEN, new long[] {a[0], O_CREAT | O_WRONLY | O_TRUNC, a[1], 0, 0, 0}, AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, a[1]));
        t.add(Sys.LSEEK, "fdd", k.passthrough.handler());
        t.add(Sys.FSTAT, "fp", k.passthrough.struct(STAT_SIZE));
        t.add(Sys.STAT, "sp", k.passthrough.struct(STAT_SIZE));
        t.add(Sys.LSTAT, "sp", k.passthrough.struct(STAT_SIZE));
        t.add(Sys.NEWFSTATAT, "fspx", k.passthrough.struct(STAT_SIZE));
        t.add(Sys.STATX, "fsxxp", k.passthrough.struct(STATX_SIZE));
        t.add(Sys.ACCESS, "so", k.passthrough.handler());
        t.add(Sys.FACCESSAT, "fso", k.passthrough.handler());
        t.add(Sys.FACCESSAT2, "fsox", k.passthrough.handler());
        t.add(Sys.READLINKAT, "fsxd", (task, a) -> readlink(a[0], a[1], a[2], a[3], () -> k.passthrough.call(Sys.READLINKAT, "fsBd", 0, new long[] {a[0], a[1], a[2], (int) a[3], 0, 0})));
        t.add(Sys.READLINK, "sxd", (task, a) -> readlink(AT_FDCWD, a[0], a[1], a[2], () -> k.passthrough.call(Sys.READLINK, "sBd", 0, new long[] {a[0], a[1], (int) a[2], 0, 0, 0})));
        SyscallTable.Handler getdents = listing(k.passthrough.handler());
        t.add(Sys.GETDENTS64, "fBd", getdents);
        t.add(Sys.GETDENTS, "fBd", getdents);
        t.add(Sys.MKDIR, "so", (task, a) -> creating(Sys.MKDIR, "so", a, 1));
        t.add(Sys.MKDIRAT, "fso", (task, a) -> creating(Sys.MKDIRAT, "fso", a, 2));
        t.add(Sys.RMDIR, "s", k.passthrough.handler());
        t.add(Sys.UNLINK, "s", k.passthrough.handler());
        t.add(Sys.UNLINKAT, "fsx", k.passthrough.handler());
        t.add(Sys.RENAME, "ss", k.passthrough.handler());
        t.add(Sys.RENAMEAT, "fsfs", k.passthrough.handler());
        t.add(Sys.RENAMEAT2, "fsfsx", k.passthrough.handler());
        t.add(Sys.LINK, "ss", k.passthrough.handler());
        t.add(Sys.LINKAT, "fsfsx", k.passthrough.handler());
        t.add(Sys.SYMLINK, "ls", k.passthrough.handler());
        t.add(Sys.SYMLINKAT, "lfs", k.passthrough.handler());
        t.add(Sys.CHMOD, "so", k.passthrough.handler());
        t.add(Sys.FCHMOD, "fo", k.passthrough.handler());
        t.add(Sys.FCHMODAT, "fso", k.passthrough.handler());
        t.add(Sys.CHOWN, "sdd", k.passthrough.handler());
        t.add(Sys.FCHOWN, "fdd", k.passthrough.handler());
        t.add(Sys.LCHOWN, "sdd", k.passthrough.handler());
        t.add(Sys.FCHOWNAT, "fsddx", k.passthrough.handler());
        t.add(Sys.UTIMENSAT, "fspx", k.passthrough.input(32));
        t.add(Sys.TRUNCATE, "sd", (task, a) -> truncated(k.passthrough.call(Sys.TRUNCATE, "sd", 0, a), Sys.STAT, a[0]));
        t.add(Sys.FTRUNCATE, "fd", (task, a) -> truncated(k.passthrough.call(Sys.FTRUNCATE, "fd", 0, a), Sys.FSTAT, a[0]));
        t.add(Sys.FSYNC, "f", k.passthrough.handler());
        t.add(Sys.FDATASYNC, "f", k.passthrough.handler());
        t.add(Sys.FLOCK, "fx", k.passthrough.handler());
        t.add(Sys.FALLOCATE, "fxdd", k.passthrough.handler());
        t.add(Sys.FADVISE64, "fddd", k.passthrough.handler());
        t.add(Sys.STATFS, "sp", k.passthrough.struct(120));
        t.add(Sys.FSTATFS, "fp", k.passthrough.struct(120));
        t.add(Sys.UMASK, "o", (task, a) -> {
            int old = k.process.umask;
            k.process.umask = (int) a[0] & 0777;
            return old;
        });
        t.add(Sys.DUP, "f", (task, a) -> k.fds.duplicated(a[0], k.fds.install(k.passthrough.call(Sys.DUP, "f", 0, a))));
        t.add(Sys.DUP2, "ff", (task, a) -> dup3(a[0], a[1], 0));
        t.add(Sys.DUP3, "ffx", (task, a) -> a[0] == a[1] ? -Errno.EINVAL : dup3(a[0], a[1], a[2]));
        t.partial(Sys.FCNTL, "fdx", "O_ASYNC, F_SETLEASE and F_NOTIFY EINVAL (they would signal goemu); the owner (F_SETOWN*) and F_SETSIG are kept per fd, not per open file, and signal nothing", this::fcntl);
        t.partial(Sys.IOCTL, "fxx", "terminal attributes and size, process group, controlling terminal of the guest session, pty number and lock, FIONREAD, FIONBIO, FIOCLEX/FIONCLEX; others ENOTTY", this::ioctl);
        // Data moved by the host between two fds; each side that could block waits for readiness first.
        t.add(Sys.SENDFILE, "ffpd", k.blocking.copy(1, 0, k.passthrough.struct(8)));
        t.add(Sys.SPLICE, "fpfpdx", k.blocking.copy(0, 2, k.passthrough.struct(8)));
        t.add(Sys.TEE, "ffdx", k.blocking.copy(0, 1, k.passthrough.handler()));
        t.add(Sys.COPY_FILE_RANGE, "fpfpdx", k.blocking.copy(0, 2, k.passthrough.struct(8)));
        // FIFOs, sockets and regular files; device nodes get the host's answer (EPERM without CAP_MKNOD).
        t.add(Sys.MKNOD, "sox", (task, a) -> creating(Sys.MKNOD, "sox", a, 1));
        t.add(Sys.MKNODAT, "fsox", (task, a) -> creating(Sys.MKNODAT, "fsox", a, 2));
        t.add(Sys.UTIME, "sp", k.passthrough.struct(16)); // struct utimbuf
        t.add(Sys.UTIMES, "sp", k.passthrough.struct(32)); // struct timeval[2]
        t.add(Sys.FUTIMESAT, "fsp", k.passthrough.struct(32));
        t.add(Sys.OPENAT2, "fsxd", this::openat2);
        t.add(Sys.SYNC, "", k.passthrough.handler());
        t.add(Sys.SYNC_FILE_RANGE, "fddx", k.passthrough.handler());
        t.add(Sys.USTAT, "xp", k.passthrough.struct(32)); // struct ustat
        t.add(Sys.SETXATTR, "ssBdx", k.passthrough.handler());
        t.add(Sys.LSETXATTR, "ssBdx", k.passthrough.handler());
        t.add(Sys.FSETXATTR, "fsBdx", k.passthrough.handler());
        t.add(Sys.GETXATTR, "ssBd", k.passthrough.handler());
        t.add(Sys.LGETXATTR, "ssBd", k.passthrough.handler());
        t.add(Sys.FGETXATTR, "fsBd", k.passthrough.handler());
        t.add(Sys.LISTXATTR, "sBd", k.passthrough.handler());
        t.add(Sys.LLISTXATTR, "sBd", k.passthrough.handler());
        t.add(Sys.FLISTXATTR, "fBd", k.passthrough.handler());
        t.add(Sys.REMOVEXATTR, "ss", k.passthrough.handler());
        t.add(Sys.LREMOVEXATTR, "ss", k.passthrough.handler());
        t.add(Sys.FREMOVEXATTR, "fs", k.passthrough.handler());
        t.add(Sys.INOTIFY_INIT, "", k.passthrough.fd());
        t.add(Sys.INOTIFY_INIT1, "x", k.passthrough.fd());
        t.add(Sys.INOTIFY_ADD_WATCH, "fsx", k.passthrough.handler());
        t.add(Sys.INOTIFY_RM_WATCH, "fd", k.passthrough.handler());
        // Changing the root or the mounts would change the JVM's view too: refused as for a process without
        // CAP_SYS_ADMIN / CAP_SYS_CHROOT / CAP_SYS_PACCT in a container.
        t.refuse(Sys.PIVOT_ROOT, "ss", Errno.EPERM, "would change the JVM's root too");
        t.refuse(Sys.CHROOT, "s", Errno.EPERM, "would change the JVM's root too");
        t.refuse(Sys.ACCT, "s", Errno.EPERM, "process accounting needs CAP_SYS_PACCT");
        t.refuse(Sys.MOUNT, "sssxx", Errno.EPERM, "would change the JVM's mounts too");
        t.refuse(Sys.UMOUNT2, "sx", Errno.EPERM, "would change the JVM's mounts too");
    }

    /**
     * open/openat. Opening a FIFO for reading or writing only waits in the host kernel until the other end is
     * opened, maybe by another guest thread: that open runs on a helper thread while the task waits.
     */
    private long open(Task task, Sys call, long[] a, long dirFd, long pathAddr, long flags, long mode) {
        int dir = k.fds.host((int) dirFd);
        boolean mayWait = (flags & O_NONBLOCK) == 0 && (flags & O_ACCMODE) != O_RDWR && dir != -Errno.EBADF;
        String path = mayWait ? k.passthrough.hostPath(k.memory.readCString(pathAddr, 4096), dir == AT_FDCWD) : null;
        // An existing FIFO is not created, so its open needs no umask.
        if (!mayWait || !isFifo(dir, path)) {
            String spec = call == Sys.OPEN ? "sxx" : "fsxx";
            long r = (flags & (O_CREAT | O_TMPFILE)) == 0 ? k.passthrough.call(call, spec, 0, a)
                    : creating(call, spec, a, call == Sys.OPEN ? 2 : 3);
            return k.fds.install(k.proc.vetOpen(r, flags, mode));
        }
        return k.fds.install(k.offload.openFd(task, call.nr, a, () -> {
            try (Arena arena = Arena.ofConfined()) {
                return Host.syscall(Sys.OPENAT.nr, dir, arena.allocateFrom(path).address(), flags, mode, 0, 0);
            }
        }));
    }

    private static boolean isFifo(int dirHostFd, String path) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment stat = arena.allocate(STAT_SIZE, 8);
            long r = Host.syscall(Sys.NEWFSTATAT.nr, dirHostFd, arena.allocateFrom(path).address(), stat.address(), 0, 0, 0);
            return r == 0 && (stat.get(ValueLayout.JAVA_INT, 24) & S_IFMT) == S_IFIFO;
        }
    }

    /** openat2: struct open_how is 24 bytes and may grow; Linux refuses a size below that or above a page. */
    private long openat2(Task task, long[] a) {
        final int openHowVer0 = 24;
        if (a[3] < openHowVer0) return -Errno.EINVAL;
        if (a[3] > AddressSpace.PAGE) return -Errno.E2BIG;
        byte[] how = k.memory.read(a[2], (int) a[3]);
        MemorySegment h = MemorySegment.ofArray(how);
        long flags = h.get(ValueLayout.JAVA_LONG_UNALIGNED, 0), mode = h.get(ValueLayout.JAVA_LONG_UNALIGNED, 8);
        if ((flags & (O_CREAT | O_TMPFILE)) == 0) {
            return k.fds.install(k.proc.vetOpen(k.passthrough.call(Sys.OPENAT2, "fsbd", 0, a), flags, mode));
        }
        h.set(ValueLayout.JAVA_LONG_UNALIGNED, 8, Umask.apply(mode, k.process));
        try (Arena arena = Arena.ofConfined()) { // the guest's open_how stays as it was: the host reads a masked copy
            MemorySegment copy = arena.allocate(how.length, 8);
            MemorySegment.copy(how, 0, copy, ValueLayout.JAVA_BYTE, 0, how.length);
            long[] args = {a[0], a[1], copy.address(), a[3], 0, 0};
            long r = Umask.creating(() -> k.passthrough.call(Sys.OPENAT2, "fsxd", 0, args));
            return k.fds.install(k.proc.vetOpen(r, flags, mode));
        }
    }

    /** A call creating a file or directory with the mode in argument {@code modeArg}: the process's umask applied. */
    private long creating(Sys call, String spec, long[] a, int modeArg) {
        long[] args = a.clone(); // the guest's arguments stay as they were, for --strace
        args[modeArg] = Umask.apply(args[modeArg], k.process);
        return Umask.creating(() -> k.passthrough.call(call, spec, 0, args));
    }

    /**
     * readv/writev and their positional forms: the iovec array holds guest pointers, so it is rebuilt with host ones, checked as Linux's
     * import_iovec does (at most UIO_MAXIOV entries, no negative length, MAX_RW_COUNT in all); the list ends where
     * the guest's accessible memory does, for Linux's short count.
     */
    private long vectored(Sys call, long[] a, boolean intoGuest) {
        int h = k.fds.host((int) a[0]);
        if (h < 0) return h;
        if (a[2] < 0 || a[2] > Iovecs.UIO_MAXIOV || k.fds.procKind((int) a[0]) == ProcSelf.MEM) return -Errno.EINVAL;
        int count = (int) a[2];
        try (Arena arena = Arena.ofConfined()) {
            Iovecs iov = Iovecs.of(k.memory, a[1], count, intoGuest ? AddressSpace.WRITE : AddressSpace.READ, arena);
            if (iov == null) return -Errno.EINVAL;
            long r = Host.syscall(call.nr, h, iov.array.address(), iov.count, a[3], a[4], a[5]); // readv/writev ignore the rest
            iov.copyBack();
            return r;
        }
    }

    /**
     * After a successful truncate: the guest's shared mappings of the file lose the pages past its new end
     * ({@link AddressSpace#truncated}). {@code stat} (STAT of a guest path, FSTAT of a guest fd) finds the file.
     */
    private long truncated(long result, Sys stat, long file) {
        if (result != 0) return result;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(STAT_SIZE, 8);
            long target = stat == Sys.STAT ? k.passthrough.hostPath(arena, file, true) : k.fds.host((int) file);
            long r = Host.syscall(stat.nr, target, st.address(), 0);
            if (r == 0) k.memory.truncated(st.get(JAVA_LONG, 0), st.get(JAVA_LONG, 8), st.get(JAVA_LONG, 48));
        }
        return result;
    }

    /** (st_dev, st_ino) of a host fd's regular file, or null. */
    static long[] identity(int hostFd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(STAT_SIZE, 8);
            if (Host.syscall(Sys.FSTAT.nr, hostFd, st.address(), 0) < 0) return null;
            return new long[] {st.get(JAVA_LONG, 0), st.get(JAVA_LONG, 8)};
        }
    }

    /**
     * readlink: the host's answer (for /proc/self/exe, cwd and the like, from goemu's own /proc), except for a guest
     * fd's link /proc/self/fd/N, which names what the fd names as the guest sees it.
     */
    private long readlink(long dirFd, long pathAddr, long buf, long size, java.util.function.LongSupplier host) {
        if ((int) size <= 0) return -Errno.EINVAL; // bufsiz is an int
        String path = k.cwd.resolve((int) dirFd, k.memory.readCString(pathAddr, 4096));
        String target = path == null ? null : k.proc.fdLink(path);
        if (target == null) return host.getAsLong();
        if (target.isEmpty()) return -Errno.ENOENT;
        byte[] b = target.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(b.length, (int) size);
        k.memory.write(buf, java.util.Arrays.copyOf(b, n));
        return n;
    }

    /**
     * A read or write row whose fd may be a /proc/self/mem fd: that one reads or writes guest memory at the fd's
     * offset (kept as the offset of its empty host file, so dup'd fds share it) or, positional, at a[3].
     */
    private SyscallTable.Handler mem(boolean write, boolean positional, SyscallTable.Handler other) {
        return (task, a) -> k.fds.procKind((int) a[0]) != ProcSelf.MEM ? other.call(task, a) : memIo(a, write, positional);
    }

    /**
     * A read row (fd, buffer or iovec array, length or count): on /dev/random or /dev/urandom in a deterministic run
     * ({@link HostInputs#SEEDED}), the bytes the host's device read are replaced by the seed's stream (getrandom's),
     * so what the call returns, its errors and the fd itself (fstat, poll) stay the host device's.
     */
    private SyscallTable.Handler seeded(boolean vectored, SyscallTable.Handler read) {
        return (task, a) -> {
            long r = read.call(task, a);
            if (r <= 0 || k.fds.origin((int) a[0]) != HostInputs.SEEDED) return r;
            // The stream is drawn in pages whatever the buffers, so a readv gives the bytes one read of r would.
            int next = 0; // readv filled its iovecs in order; read's one buffer is [a[1], a[1] + r)
            long base = a[1], room = vectored ? 0 : r;
            for (long done = 0; done < r; ) {
                byte[] b = k.randomBytes((int) Math.min(r - done, AddressSpace.PAGE));
                for (int at = 0; at < b.length; ) {
                    if (room == 0) {
                        if (next == a[2]) return r;
                        base = k.memory.readLong(a[1] + (long) Iovecs.IOVEC_SIZE * next);
                        room = k.memory.readLong(a[1] + (long) Iovecs.IOVEC_SIZE * next++ + 8);
                        continue;
                    }
                    int n = (int) Math.min(room, b.length - at);
                    k.memory.write(base, java.util.Arrays.copyOfRange(b, at, at + n));
                    base += n;
                    room -= n;
                    at += n;
                }
                done += b.length;
            }
            return r;
        };
    }

    private long memIo(long[] a, boolean write, boolean positional) {
        int h = k.fds.host((int) a[0]);
        long mode = Host.syscall(Sys.FCNTL.nr, h, F_GETFL, 0) & O_ACCMODE;
        if (mode == (write ? 0 : 1)) return -Errno.EBADF; // O_RDONLY, O_WRONLY
        long pos = positional ? a[3] : Host.syscall(Sys.LSEEK.nr, h, 0, 1); // SEEK_CUR
        if (pos < 0 && !positional) return pos;
        long r = write ? k.proc.writeMem(pos, a[1], a[2]) : k.proc.readMem(pos, a[1], a[2]);
        if (r > 0 && !positional) Host.syscall(Sys.LSEEK.nr, h, pos + r, 0); // SEEK_SET
        return r;
    }

    /** getdents: goemu's /proc directories are made current when listed from the start. */
    private SyscallTable.Handler listing(SyscallTable.Handler host) {
        return (task, a) -> {
            if (k.fds.procKind((int) a[0]) == ProcSelf.DIR) k.proc.listing(k.fds.host((int) a[0]));
            return host.call(task, a);
        };
    }

    /**
     * close_range(first, last, flags): the guest's fds in [first, last] (unsigned) closed, or with
     * CLOSE_RANGE_CLOEXEC marked close-on-exec; CLOSE_RANGE_UNSHARE has nothing to unshare (no fd table is shared
     * between guest processes).
     */
    private long closeRange(long first, long last, long flags) {
        final long unshare = 2, cloexec = 4, fdCloexec = 1;
        if ((flags & ~(unshare | cloexec)) != 0 || first > last) return -Errno.EINVAL;
        for (int fd : k.fds.openFds()) {
            if (fd < first || fd > last) continue;
            if ((flags & cloexec) != 0) Host.syscall(Sys.FCNTL.nr, k.fds.host(fd), F_SETFD, fdCloexec);
            else k.fds.close(fd);
        }
        return 0;
    }

    private long dup3(long oldFd, long newFd, long flags) {
        if ((flags & ~O_CLOEXEC) != 0) return -Errno.EINVAL;
        int h = k.fds.host((int) oldFd);
        if (h < 0 || (newFd & 0xffffffffL) >= k.fds.limit()) return -Errno.EBADF; // the fd is an unsigned int
        if (oldFd == newFd) return newFd;
        long copy = Host.syscall(Sys.DUP.nr, h, 0, 0);
        if (copy < 0) return copy;
        if ((flags & O_CLOEXEC) != 0) Host.syscall(Sys.FCNTL.nr, copy, F_SETFD, 1);
        k.fds.installAt((int) newFd, (int) copy);
        return k.fds.duplicated(oldFd, newFd);
    }

    /**
     * fcntl, command by command: the host fd only ever gets a command whose argument goemu translated or checked.
     * Nothing may make the host kernel signal goemu's process (which is the guest's pid): O_ASYNC, leases and
     * dnotify are refused; the owner and F_SETSIG are kept as the guest's state.
     */
    private long fcntl(Task task, long[] a) {
        int fd = (int) a[0], cmd = (int) a[1];
        int h = k.fds.host(fd);
        if (h < 0) return h;
        long arg = a[2];
        return switch (cmd) {
            case F_DUPFD, F_DUPFD_CLOEXEC -> {
                long from = arg & 0xffffffffL;
                if (from >= k.fds.limit()) yield -Errno.EINVAL;
                yield k.fds.duplicated(fd, k.fds.install(Host.syscall(Sys.FCNTL.nr, h, cmd, 0), (int) from));
            }
            case F_GETFD, F_GETFL, F_GETLEASE, F_GETPIPE_SZ, F_GET_SEALS -> Host.syscall(Sys.FCNTL.nr, h, cmd, 0);
            case F_SETFD, F_SETPIPE_SZ, F_ADD_SEALS -> Host.syscall(Sys.FCNTL.nr, h, cmd, (int) arg);
            case F_SETFL -> {
                if ((arg & O_ASYNC) != 0) yield -Errno.EINVAL;
                long r = Host.syscall(Sys.FCNTL.nr, h, cmd, (int) arg);
                if (r >= 0) k.fds.refresh(fd);
                yield r;
            }
            case F_GETLK, F_OFD_GETLK -> k.passthrough.call(Sys.FCNTL, "fxp", FLOCK_SIZE, a);
            case F_SETLK, F_SETLKW, F_OFD_SETLK, F_OFD_SETLKW ->
                    k.passthrough.call(Sys.FCNTL, "fxp", FLOCK_SIZE, AddressSpace.READ, a);
            case F_GET_RW_HINT -> k.passthrough.call(Sys.FCNTL, "fxp", 8, a);
            case F_SET_RW_HINT -> k.passthrough.call(Sys.FCNTL, "fxp", 8, AddressSpace.READ, a);
            case F_DUPFD_QUERY -> {
                int other = k.fds.host((int) arg);
                yield other < 0 ? other : Host.syscall(Sys.FCNTL.nr, h, cmd, other);
            }
            case F_SETOWN -> setOwner(fd, (int) arg < 0 ? F_OWNER_PGRP : FdTable.F_OWNER_PID, Math.abs((int) arg));
            case F_GETOWN -> {
                FdTable.Owner o = k.fds.owner(fd);
                yield o.type() == F_OWNER_PGRP ? -o.pid() : o.pid();
            }
            case F_SETOWN_EX -> {
                int type = k.memory.readInt(arg), pid = k.memory.readInt(arg + 4);
                yield type < F_OWNER_TID || type > F_OWNER_PGRP ? -Errno.EINVAL : setOwner(fd, type, pid);
            }
            case F_GETOWN_EX -> {
                FdTable.Owner o = k.fds.owner(fd);
                k.memory.writeInt(arg, o.type());
                k.memory.writeInt(arg + 4, o.pid());
                yield 0;
            }
            case F_SETSIG -> {
                if (arg < 0 || arg > SignalSyscalls.NSIG) yield -Errno.EINVAL;
                k.fds.setOwner(fd, k.fds.owner(fd).withSignal((int) arg));
                yield 0;
            }
            case F_GETSIG -> k.fds.owner(fd).signal();
            default -> -Errno.EINVAL; // F_SETLEASE, F_NOTIFY, and what goemu does not know
        };
    }

    /** F_SETOWN, F_SETOWN_EX: the target must exist, as Linux checks (ESRCH); it is only remembered. */
    private long setOwner(int fd, int type, int pid) {
        if (pid != 0) {
            long target = type == F_OWNER_PGRP ? -(long) pid : pid;
            long r = Host.syscall(Sys.KILL.nr, target, 0, 0);
            if (r == -Errno.ESRCH) return r;
        }
        k.fds.setOwner(fd, new FdTable.Owner(type, pid, k.fds.owner(fd).signal()));
        return 0;
    }

    private long ioctl(Task task, long[] a) {
        int fd = (int) a[0];
        if (k.fds.host(fd) < 0) return -Errno.EBADF;
        long req = a[1] & 0xffffffffL;
        if (req == TIOCSCTTY || req == TIOCNOTTY) return controllingTty(fd, req == TIOCSCTTY);
        int size = switch ((int) req) {
            case 0x5401, 0x5402, 0x5403, 0x5404 -> 36; // TCGETS, TCSETS* (struct termios)
            case 0x5413, 0x5414 -> 8;                   // TIOCGWINSZ, TIOCSWINSZ
            case 0x540f, 0x5410, 0x541b, 0x5421 -> 4;   // TIOCGPGRP, TIOCSPGRP, FIONREAD, FIONBIO
            case 0x5450, 0x5451 -> 0;                   // FIONCLEX, FIOCLEX
            case 0x80045430, 0x40045431 -> 4;           // TIOCGPTN, TIOCSPTLCK: a new pty's number and lock
            default -> -1;
        };
        if (size < 0) return -Errno.ENOTTY;
        boolean fillsIn = req == 0x5401 || req == 0x5413 || req == 0x540f || req == 0x541b || req == 0x80045430; // the others only read
        long r = k.passthrough.call(Sys.IOCTL, size == 0 ? "fx" : "fxp", size, fillsIn ? AddressSpace.WRITE : AddressSpace.READ, a);
        if (req == 0x5421 && r >= 0) k.fds.refresh(fd);
        return r;
    }

    /**
     * TIOCSCTTY and TIOCNOTTY (Go's Setctty and Noctty) act on the guest's session, which is table state (setsid
     * never reaches the host), so the controlling terminal is the process's too: its path, which a native program
     * the process execs acquires as its own (NativeSpawn opens it after setsid). The JVM's terminal is never touched.
     */
    private long controllingTty(int fd, boolean set) {
        try (Arena arena = Arena.ofConfined()) {
            if (Host.syscall(Sys.IOCTL.nr, k.fds.host(fd), TCGETS, arena.allocate(60, 8).address()) < 0) return -Errno.ENOTTY;
        }
        String tty = k.fds.pathOf(fd);
        GuestProcess p = k.process;
        if (!set) {
            if (p.ctty != null && !p.ctty.equals(tty)) return -Errno.ENOTTY;
            p.ctty = null;
            return 0;
        }
        if (p.sid != p.pid()) return -Errno.EPERM; // only a session leader takes a terminal
        if (p.ctty != null) return p.ctty.equals(tty) ? 0 : -Errno.EPERM;
        p.ctty = tty;
        return 0;
    }
}
