package dev.goemu.syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * pidfds of guest processes (pidfd_open, CLONE_PIDFD), JVM-wide. A pidfd is the guest's end of a host socketpair
 * whose other end goemu keeps: one byte is sent on it when the process ends, so the guest's end polls readable then
 * (POLLIN, as Linux's pidfd), in poll, epoll and the scheduler's waits alike. The guest end's inode names the
 * process, so dup, fork and SCM_RIGHTS copies of a pidfd all find it. The same works for emulated and native
 * processes (a native one's reaper records its end), and for a vfork child whose pidfd exists before it exec'd.
 */
final class Pidfds {
    private static final int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_CLOEXEC = 0x80000, O_NONBLOCK = 0x800;
    private static final int MSG_DONTWAIT = 0x40, MSG_NOSIGNAL = 0x4000;
    private static final short POLLHUP = 0x10;

    /** goemu's end of one pidfd's socketpair and the process it names. */
    private record Entry(GuestProcess process, int ownEnd) {}

    /** By the inode of the guest's end. Guarded by the process table's lock, which {@link #ended} is called under. */
    private final Map<Long, Entry> byInode = new HashMap<>();
    private final Processes table;

    Pidfds(Processes table) {
        this.table = table;
    }

    /** A new pidfd (always close-on-exec; O_NONBLOCK if asked) for {@code p} in {@code fds}: the guest fd or -errno. */
    long open(GuestProcess p, FdTable fds, boolean nonblock) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pair = arena.allocate(8, 4);
            long r = Host.syscall(Sys.SOCKETPAIR.nr, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? O_NONBLOCK : 0), 0, pair.address(), 0, 0);
            if (r < 0) return r;
            int guestEnd = pair.get(JAVA_INT, 0), ownEnd = pair.get(JAVA_INT, 4);
            long ino = inode(guestEnd);
            synchronized (table) {
                prune();
                byInode.put(ino, new Entry(p, ownEnd));
                if (p.ended) signal(ownEnd);
            }
            long fd = fds.install(guestEnd);
            if (fd < 0) {
                synchronized (table) {
                    byInode.remove(ino);
                }
                Host.syscall(Sys.CLOSE.nr, ownEnd, 0, 0);
            }
            return fd;
        }
    }

    /** The process host fd {@code hostFd} is a pidfd of, or null if it is not one of goemu's pidfds. */
    GuestProcess process(int hostFd) {
        long ino = inode(hostFd);
        synchronized (table) {
            Entry e = byInode.get(ino);
            return e == null ? null : e.process();
        }
    }

    /** {@code p} ended (the table's lock held): its pidfds become readable. */
    void ended(GuestProcess p) {
        for (Entry e : byInode.values()) if (e.process() == p) signal(e.ownEnd());
    }

    private static void signal(int ownEnd) {
        try (Arena arena = Arena.ofConfined()) {
            Host.syscall(Sys.SENDTO.nr, ownEnd, arena.allocate(1).address(), 1, MSG_DONTWAIT | MSG_NOSIGNAL, 0, 0);
        }
    }

    /** Drops the pidfds of ended processes whose every guest copy is closed (goemu's end then sees POLLHUP). */
    private void prune() {
        List<Long> gone = new ArrayList<>();
        for (Map.Entry<Long, Entry> e : byInode.entrySet()) {
            if (!e.getValue().process().ended) continue;
            short[] revents = new short[1];
            Host.poll(new int[] {e.getValue().ownEnd()}, new short[] {POLLHUP}, revents, 0);
            if ((revents[0] & POLLHUP) != 0) gone.add(e.getKey());
        }
        for (Long ino : gone) Host.syscall(Sys.CLOSE.nr, byInode.remove(ino).ownEnd(), 0, 0);
    }

    private static long inode(int hostFd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment stat = arena.allocate(144, 8);
            return Host.syscall(Sys.FSTAT.nr, hostFd, stat.address(), 0) < 0 ? -1 : stat.get(JAVA_LONG, 8);
        }
    }
}
