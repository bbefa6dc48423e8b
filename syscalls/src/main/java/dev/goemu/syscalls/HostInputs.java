package dev.goemu.syscalls;

/**
 * The calls whose result a deterministic run cannot make a function of its inputs (binary, arguments, environment,
 * file contents, stdin's bytes) and its seed, because the host decides it: {@code --strace} marks them with
 * {@code <nondeterministic: why>}. Decided here, in one place, from what a call does and, for the calls that take
 * data in from an fd, from where the fd's data comes from ({@link FdTable#origin}, fixed when the fd is made):
 *
 * <ul>
 * <li>{@value #OUTSIDE_DATA}: reads, receives, accepts and splices from a pipe, FIFO, socket or terminal that
 *     something outside the run feeds (how much has arrived by then is host timing; a pipe or socketpair the
 *     process made itself is not, until a child process holds it too), or from an inotify fd;</li>
 * <li>{@value #MACHINE_STATE}: the host machine's state: reads of /proc, /sys and cgroup files the host answers,
 *     uid and gid, groups, resource usage, sysinfo, times, statfs (resource limits are fixed,
 *     {@link Determinism#RLIMITS});</li>
 * <li>{@value #FILE_METADATA}: stat's times and inode numbers, a directory listing's order;</li>
 * <li>{@value #CHILD_TIMING}: when a native child's end is seen (emulated children take turns with the process,
 *     {@link Baton}), for a wait while the process has one.</li>
 * </ul>
 *
 * poll, select and epoll are not marked: which fds they report ready follows from the same sources, and the read
 * that takes the data is.
 */
final class HostInputs {
    /**
     * Where what a read of an fd returns comes from: the run itself, outside the run, the machine's state, or the
     * seed (/dev/random and /dev/urandom in a deterministic run).
     */
    static final byte RUN = 0, OUTSIDE = 1, MACHINE = 2, SEEDED = 3;
    static final String OUTSIDE_DATA = "outside data", MACHINE_STATE = "host machine",
            FILE_METADATA = "file metadata", CHILD_TIMING = "child timing";

    private HostInputs() {}

    /** Why the result of {@code sys} with {@code args} is the host's, or null if it is the run's own. */
    static String reason(Sys sys, long[] args, FdTable fds, java.util.function.BooleanSupplier nativeChildren) {
        return switch (sys) {
            case READ, READV, PREAD64, PREADV, PREADV2, RECVFROM, RECVMSG, RECVMMSG, ACCEPT, ACCEPT4, SPLICE, TEE,
                 COPY_FILE_RANGE -> of(fds.origin((int) args[0]));
            case SENDFILE -> of(fds.origin((int) args[1]));
            case GETUID, GETEUID, GETGID, GETEGID, GETGROUPS, GETRUSAGE, SYSINFO, TIMES, STATFS, FSTATFS -> MACHINE_STATE;
            case STAT, FSTAT, LSTAT, NEWFSTATAT, STATX, GETDENTS, GETDENTS64 -> FILE_METADATA;
            case WAIT4, WAITID -> nativeChildren.getAsBoolean() ? CHILD_TIMING : null;
            default -> null;
        };
    }

    private static String of(byte origin) {
        return switch (origin) {
            case OUTSIDE -> OUTSIDE_DATA;
            case MACHINE -> MACHINE_STATE;
            default -> null;
        };
    }
}
