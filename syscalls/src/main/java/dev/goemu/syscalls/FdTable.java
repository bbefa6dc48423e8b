package dev.goemu.syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Guest file descriptors: numbered like Linux (lowest free first), each naming a host fd that goemu opened on
 * the guest's behalf. The guest can reach no other host fd (the JVM's own stay out of its reach).
 */
public final class FdTable {
    private static final int F_DUPFD = 0, F_GETFD = 1, F_GETFL = 3, F_DUPFD_CLOEXEC = 1030, FD_CLOEXEC = 1, O_NONBLOCK = 0x800;
    static final int F_OWNER_PID = 1;
    private static final int S_IFMT = 0170000, S_IFREG = 0100000, S_IFDIR = 0040000, S_IFBLK = 0060000,
            S_IFCHR = 0020000;
    /** statfs f_type of the file systems whose files are the host's state: proc, sysfs, cgroup, cgroup2. */
    private static final long PROC_MAGIC = 0x9fa0, SYSFS_MAGIC = 0x62656572, CGROUP_MAGIC = 0x27e0eb,
            CGROUP2_MAGIC = 0x63677270;
    /** The character devices' major number of /dev/null, zero, full, random and urandom: no outside data. */
    private static final int MEM_MAJOR = 1, RANDOM_MINOR = 8, URANDOM_MINOR = 9;

    /** Linux's default fs.nr_open: no RLIMIT_NOFILE reaches beyond it, so neither does the table. */
    static final int MAX_FDS = 1 << 20;
    private int[] hostFds = new int[64];
    private int limit = MAX_FDS;
    /** Whether an operation on the fd can block the host thread: not a regular file and not O_NONBLOCK. */
    private boolean[] mayBlock = new boolean[64];
    /**
     * Which fds are goemu's own /proc files ({@link ProcSelf#kindOf}): /proc/self/mem, whose reads and writes go to
     * guest memory, and synthesized directories, refreshed when listed from the start; {@link ProcSelf#NONE} else.
     */
    private byte[] procKind = new byte[64];
    /**
     * Where what a read of the fd returns comes from ({@link HostInputs#RUN}, OUTSIDE, MACHINE, SEEDED), fixed when
     * installed; kept in a deterministic run's table only (RUN elsewhere).
     */
    private byte[] origin = new byte[64];
    /** F_SETOWN, F_SETOWN_EX and F_SETSIG of the fds that have them: the guest's state, never the host fd's. */
    private final Map<Integer, Owner> owners = new HashMap<>();
    /** A deterministic run's table: fds have an origin, and reads of /dev/random and /dev/urandom the seed's bytes. */
    private boolean seeded;
    /** An fd was used or closed since the scheduler last asked: host fd readiness may have changed. */
    private boolean used;

    private FdTable() {
        Arrays.fill(hostFds, -1);
    }

    /** The root guest's table: goemu's own stdin, stdout and stderr, where open. */
    static FdTable standard() {
        FdTable t = new FdTable();
        for (int fd = 0; fd <= 2; fd++) {
            if (Host.syscall(Sys.FCNTL.nr, fd, F_GETFD, 0) >= 0) t.installAt(fd, fd);
        }
        return t;
    }

    /** A root guest's table holding {@code hostFds} as its fds 0, 1, 2, ... (taken over: the table closes them). */
    public static FdTable of(java.util.List<Integer> hostFds) {
        FdTable t = new FdTable();
        for (int fd = 0; fd < hostFds.size(); fd++) t.installAt(fd, hostFds.get(fd));
        return t;
    }

    /** From now on, fds on /dev/random and /dev/urandom read the seed's bytes (deterministic mode; once per table). */
    void seedRandomDevices() {
        if (seeded) return;
        seeded = true;
        for (int fd : openFds()) inspect(fd, true); // fds it started with: only the random devices change
    }

    /** A child's table (fork, vfork): every fd duplicated on the host, close-on-exec flags kept. */
    FdTable copy() {
        FdTable t = new FdTable();
        t.seeded = seeded;
        for (int fd = 0; fd < hostFds.length; fd++) {
            if (hostFds[fd] < 0) continue;
            boolean cloexec = (Host.syscall(Sys.FCNTL.nr, hostFds[fd], F_GETFD, 0) & FD_CLOEXEC) != 0;
            long dup = Host.syscall(Sys.FCNTL.nr, hostFds[fd], cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, 3);
            if (dup < 0) continue;
            t.installAt(fd, (int) dup);
            // Another process writes what this one reads now, on its own host thread: the child's end is outside.
            if (t.origin[fd] == HostInputs.OUTSIDE) origin[fd] = HostInputs.OUTSIDE;
        }
        return t;
    }

    /** execve: the fds marked close-on-exec go. */
    public void closeOnExec() {
        for (int fd = 0; fd < hostFds.length; fd++) {
            if (hostFds[fd] >= 0 && (Host.syscall(Sys.FCNTL.nr, hostFds[fd], F_GETFD, 0) & FD_CLOEXEC) != 0) close(fd);
        }
    }

    /** The process ended (or became a native one, which has its own copies): every fd goes, so pipes see EOF. */
    public void closeAll() {
        for (int fd = 0; fd < hostFds.length; fd++) if (hostFds[fd] >= 0) close(fd);
    }

    /** What a native program exec'd now gets: guest fd number to host fd (-1: closed or close-on-exec). */
    int[] inheritedByExec() {
        int[] out = new int[hostFds.length];
        int last = -1;
        for (int fd = 0; fd < hostFds.length; fd++) {
            boolean keep = hostFds[fd] >= 0 && (Host.syscall(Sys.FCNTL.nr, hostFds[fd], F_GETFD, 0) & FD_CLOEXEC) == 0;
            out[fd] = keep ? hostFds[fd] : -1;
            if (keep) last = fd;
        }
        return Arrays.copyOf(out, last + 1);
    }

    /** The path of what guest fd {@code guestFd} names (a directory for fchdir, *at and fexecve), or null. */
    String pathOf(int guestFd) {
        int h = host(guestFd);
        return h < 0 ? null : hostFdPath(h);
    }

    static String hostFdPath(int hostFd) {
        try {
            return java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/" + hostFd)).toString();
        } catch (java.io.IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    /** The host fd behind a guest fd, or -EBADF. AT_FDCWD passes through for the *at calls. */
    public int host(int guestFd) {
        used = true;
        if (guestFd == -100) return -100;
        return guestFd >= 0 && guestFd < hostFds.length && hostFds[guestFd] >= 0 ? hostFds[guestFd] : -Errno.EBADF;
    }

    /** How many fds the table has room for now (Linux's max_fds: it grows as fds are opened). */
    int capacity() {
        return hostFds.length;
    }

    /** Whether an fd was used since the last call. */
    boolean takeUsed() {
        boolean u = used;
        used = false;
        return u;
    }

    boolean mayBlock(int guestFd) {
        return mayBlock[guestFd];
    }

    /** What kind of goemu /proc file the fd is ({@link ProcSelf#MEM}, {@link ProcSelf#DIR}), or NONE. */
    byte procKind(int guestFd) {
        return guestFd >= 0 && guestFd < procKind.length ? procKind[guestFd] : ProcSelf.NONE;
    }

    /** Where what a read of the fd returns comes from ({@link HostInputs}); RUN for a closed fd. */
    byte origin(int guestFd) {
        return guestFd >= 0 && guestFd < origin.length ? origin[guestFd] : HostInputs.RUN;
    }

    /** {@code newFd} (or -errno) was made by duplicating {@code oldFd}: it has the same origin; returns newFd. */
    long duplicated(long oldFd, long newFd) {
        if (newFd >= 0) origin[(int) newFd] = origin((int) oldFd);
        return newFd;
    }

    /** The open guest fds, in order. */
    int[] openFds() {
        int n = 0;
        int[] out = new int[hostFds.length];
        for (int fd = 0; fd < hostFds.length; fd++) if (hostFds[fd] >= 0) out[n++] = fd;
        return Arrays.copyOf(out, n);
    }

    /**
     * Takes ownership of a new host fd (or passes an error through); returns the lowest free guest fd >= min, or
     * -EMFILE (closing the host fd) if none is free below the guest's RLIMIT_NOFILE.
     */
    long install(long hostFd, int min) {
        if (hostFd < 0) return hostFd;
        int fd = min;
        while (fd < hostFds.length && hostFds[fd] >= 0) fd++;
        if (fd >= limit) {
            Host.syscall(Sys.CLOSE.nr, hostFd, 0, 0);
            return -Errno.EMFILE;
        }
        installAt(fd, (int) hostFd);
        return fd;
    }

    /** The guest's RLIMIT_NOFILE: guest fds are below it. */
    int limit() {
        return limit;
    }

    void setLimit(long nofile) {
        limit = (int) Math.min(nofile, MAX_FDS);
    }

    long install(long hostFd) {
        return install(hostFd, 0);
    }

    /**
     * Installs two new host fds (int[2] at {@code pair}, from pipe2 or socketpair) and stores their guest numbers;
     * if the guest's int[2] is not writable, or no guest fd is free for them, they are closed again: -errno.
     */
    long installPair(java.lang.foreign.MemorySegment pair, AddressSpace memory, long guestAddr) {
        int h0 = pair.get(ValueLayout.JAVA_INT, 0), h1 = pair.get(ValueLayout.JAVA_INT, 4);
        try {
            memory.write(guestAddr, new byte[8]);
        } catch (GuestFault f) {
            Host.syscall(Sys.CLOSE.nr, h0, 0, 0);
            Host.syscall(Sys.CLOSE.nr, h1, 0, 0);
            throw f;
        }
        long fd0 = install(h0);
        if (fd0 < 0) {
            Host.syscall(Sys.CLOSE.nr, h1, 0, 0);
            return fd0;
        }
        long fd1 = install(h1);
        if (fd1 < 0) {
            close((int) fd0);
            return fd1;
        }
        memory.writeInt(guestAddr, (int) fd0);
        memory.writeInt(guestAddr + 4, (int) fd1);
        origin[(int) fd0] = origin[(int) fd1] = HostInputs.RUN; // only this process has both ends so far
        return 0;
    }

    /** dup2/dup3: makes guestFd name hostFd, closing what it named before. */
    void installAt(int guestFd, int hostFd) {
        if (guestFd >= hostFds.length) {
            int n = Math.max(guestFd + 1, hostFds.length * 2);
            int old = hostFds.length;
            hostFds = Arrays.copyOf(hostFds, n);
            mayBlock = Arrays.copyOf(mayBlock, n);
            procKind = Arrays.copyOf(procKind, n);
            origin = Arrays.copyOf(origin, n);
            Arrays.fill(hostFds, old, n, -1);
        }
        if (hostFds[guestFd] >= 0) close(guestFd);
        hostFds[guestFd] = hostFd;
        inspect(guestFd, true);
    }

    long close(int guestFd) {
        int h = host(guestFd);
        if (h < 0 || guestFd < 0) return -Errno.EBADF;
        hostFds[guestFd] = -1;
        procKind[guestFd] = ProcSelf.NONE;
        origin[guestFd] = HostInputs.RUN;
        owners.remove(guestFd);
        // goemu's own stdin/stdout/stderr stay open: the guest only loses its name for them.
        return h <= 2 ? 0 : Host.syscall(Sys.CLOSE.nr, h, 0, 0);
    }

    /** Who would get SIGIO for an fd (type F_OWNER_TID/PID/PGRP and id) and which signal (0: SIGIO). */
    record Owner(int type, int pid, int signal) {
        static final Owner NONE = new Owner(0, 0, 0);
        Owner withSignal(int sig) { return new Owner(type, pid, sig); }
    }

    Owner owner(int guestFd) {
        return owners.getOrDefault(guestFd, Owner.NONE);
    }

    void setOwner(int guestFd, Owner o) {
        owners.put(guestFd, o);
    }

    /** Re-reads the fd's kind and O_NONBLOCK flag (after fcntl or ioctl changed them). */
    void refresh(int guestFd) {
        inspect(guestFd, false);
    }

    /** Reads the fd's kind and O_NONBLOCK flag, and when it is {@code installed} where its data comes from. */
    private void inspect(int guestFd, boolean installed) {
        int h = hostFds[guestFd];
        try (Arena arena = Arena.ofConfined()) {
            var stat = arena.allocate(144, 8);
            long r = Host.syscall(Sys.FSTAT.nr, h, stat.address(), 0);
            int type = r < 0 ? 0 : stat.get(ValueLayout.JAVA_INT, 24) & S_IFMT;
            procKind[guestFd] = r < 0 ? ProcSelf.NONE
                    : ProcSelf.kindOf(stat.get(ValueLayout.JAVA_LONG, 0), stat.get(ValueLayout.JAVA_LONG, 8));
            boolean neverBlocks = type == S_IFREG || type == S_IFDIR || type == S_IFBLK;
            long fl = Host.syscall(Sys.FCNTL.nr, h, F_GETFL, 0);
            mayBlock[guestFd] = !neverBlocks && fl >= 0 && (fl & O_NONBLOCK) == 0;
            // Only a deterministic run's strace and random devices ask: a plain run spends no fstatfs on it.
            if (installed && seeded) origin[guestFd] = r < 0 ? HostInputs.RUN : origin(h, type, stat.get(ValueLayout.JAVA_LONG, 40), arena);
        }
    }

    /**
     * Where a new host fd's data comes from: pipes, FIFOs, sockets and terminals are fed from outside the run (a
     * pipe the guest made itself is marked RUN by {@link #installPair}), as is an inotify fd; regular files and
     * directories of /proc, /sys and the cgroup file systems are the machine's state; other files are inputs. The
     * random devices are the seed's in a {@link #seedRandomDevices seeded} table.
     */
    private static byte origin(int hostFd, int type, long rdev, Arena arena) {
        return switch (type) {
            case S_IFREG, S_IFDIR -> {
                var fs = arena.allocate(120, 8);
                if (Host.syscall(Sys.FSTATFS.nr, hostFd, fs.address(), 0) < 0) yield HostInputs.RUN;
                long magic = fs.get(ValueLayout.JAVA_LONG, 0);
                yield magic == PROC_MAGIC || magic == SYSFS_MAGIC || magic == CGROUP_MAGIC || magic == CGROUP2_MAGIC
                        ? HostInputs.MACHINE : HostInputs.RUN;
            }
            case S_IFCHR -> {
                if (((rdev >>> 8) & 0xfff) != MEM_MAJOR) yield HostInputs.OUTSIDE;
                long minor = rdev & 0xff;
                yield minor == RANDOM_MINOR || minor == URANDOM_MINOR ? HostInputs.SEEDED : HostInputs.RUN;
            }
            case S_IFBLK -> HostInputs.RUN;
            case 0 -> "anon_inode:inotify".equals(hostFdPath(hostFd)) ? HostInputs.OUTSIDE : HostInputs.RUN;
            default -> HostInputs.OUTSIDE; // FIFO, socket
        };
    }
}
