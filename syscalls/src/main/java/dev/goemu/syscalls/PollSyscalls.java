package dev.goemu.syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * epoll, eventfd and pipes for Go's netpoller, and poll/ppoll: host objects behind guest fds. A waiting
 * epoll_pwait polls the host epoll fd for readiness in the scheduler (an epoll fd is itself pollable), so a Go
 * timer wait of six seconds sleeps six seconds while other guest threads run. A waiting poll does the same with
 * an epoll set made for the wait.
 */
final class PollSyscalls {
    private static final int EPOLL_EVENT_SIZE = 12; // packed struct epoll_event on x86-64
    private static final int POLLFD_SIZE = 8;
    private static final short POLLNVAL = 0x20;
    /** What select's read, write and except sets ask poll for, and the revents that make an fd ready in each (Linux's
     *  POLLIN_SET, POLLOUT_SET, POLLEX_SET). */
    private static final short[] SELECT_EVENTS = {0x1, 0x4, 0x2}, SELECT_READY = {0x1 | 0x40 | 0x80 | 0x10 | 0x8, 0x4 | 0x100 | 0x200 | 0x8, 0x2};
    private static final int EPOLL_CTL_ADD = 1, EPOLL_CLOEXEC = 0x80000, RLIMIT_NOFILE = 7;
    private static final int EP_MAX_EVENTS = Integer.MAX_VALUE / EPOLL_EVENT_SIZE;

    private final Kernel k;

    PollSyscalls(Kernel k) {
        this.k = k;
    }

    void register(SyscallTable t) {
        t.add(Sys.EPOLL_CREATE1, "x", k.passthrough.fd());
        t.add(Sys.EPOLL_CREATE, "d", k.passthrough.fd());
        t.add(Sys.EPOLL_CTL, "fdfp", k.passthrough.input(EPOLL_EVENT_SIZE));
        t.add(Sys.EPOLL_PWAIT, "fxddxd", (task, a) -> epollWait(task, a));
        t.add(Sys.EPOLL_WAIT, "fxdd", (task, a) -> epollWait(task, a));
        t.add(Sys.EVENTFD2, "dx", k.passthrough.fd());
        t.add(Sys.EVENTFD, "d", k.passthrough.fd());
        t.add(Sys.PIPE2, "xx", (task, a) -> pipe(a[0], a[1]));
        t.add(Sys.PIPE, "x", (task, a) -> pipe(a[0], 0));
        t.add(Sys.POLL, "xdd", (task, a) -> poll(task, a[0], a[1], (int) a[2] < 0 ? -1 : (int) a[2] * 1_000_000L));
        t.add(Sys.PPOLL, "xdxxd", this::ppoll);
        t.add(Sys.SELECT, "dxxxx", (task, a) -> select(task, a, a[4] == 0 ? -1 : readTimeval(a[4]), true));
        t.add(Sys.PSELECT6, "dxxxxx", this::pselect6);
    }

    /** A struct timeval as nanoseconds (microseconds past a second carry over, as Linux's select takes them), or -1. */
    private long readTimeval(long addr) {
        long sec = k.memory.readLong(addr), usec = k.memory.readLong(addr + 8);
        if (sec < 0 || usec < 0) return -1;
        sec += usec / 1_000_000;
        return sec > Long.MAX_VALUE / 1_000_000_000L - 1 ? Long.MAX_VALUE : sec * 1_000_000_000L + usec % 1_000_000 * 1000;
    }

    private long pselect6(Task task, long[] a) {
        long timeout = a[4] == 0 ? -1 : TimeSyscalls.readTimespec(k.memory, a[4]);
        if (a[4] != 0 && timeout < 0) return -Errno.EINVAL;
        if (a[5] != 0) { // {const sigset_t *ss; size_t ss_len}
            long mask = k.memory.readLong(a[5]), size = k.memory.readLong(a[5] + 8);
            if (mask != 0 && size != 8) return -Errno.EINVAL;
            // As ppoll: swapping the mask for the wait alone is not done.
            if (mask != 0 && k.memory.readLong(mask) != task.signalMask) return k.unsupported(Sys.PSELECT6.nr, "signal mask");
        }
        return select(task, a, timeout, false);
    }

    /**
     * select over guest fds (a = nfds, readfds, writefds, exceptfds): the fds in the sets polled as poll would, an fd
     * that is not open is EBADF; the sets are rewritten to the ready fds, or cleared when the timeout (ns, -1 none)
     * passes. Blocks as poll does, and is re-run when an fd is ready. As Linux, a timeout (a[4], a timeval or a
     * timespec) is rewritten with the time left, when not zero.
     */
    private long select(Task task, long[] a, long timeoutNs, boolean timeval) {
        if ((int) a[0] < 0 || (a[4] != 0 && timeoutNs < 0)) return -Errno.EINVAL;
        int n = Math.min((int) a[0], k.fds.capacity()); // Linux ignores the bits past its fd table
        int bytes = (n + 63) / 64 * 8;
        byte[][] sets = new byte[3][];
        for (int s = 0; s < 3; s++) if (a[1 + s] != 0) sets[s] = k.memory.read(a[1 + s], bytes);
        try (Arena arena = Arena.ofConfined()) {
            int count = 0;
            for (int fd = 0; fd < n; fd++) if (selectEvents(sets, fd) != 0) count++;
            MemorySegment h = arena.allocate((long) POLLFD_SIZE * Math.max(count, 1), 8);
            for (int fd = 0, i = 0; fd < n; fd++) {
                short events = selectEvents(sets, fd);
                if (events == 0) continue;
                int host = k.fds.host(fd);
                if (host < 0) return -Errno.EBADF;
                h.set(JAVA_INT, (long) POLLFD_SIZE * i, host);
                h.set(JAVA_SHORT, (long) POLLFD_SIZE * i + 4, events);
                i++;
            }
            long r = Host.syscall(Sys.POLL.nr, h.address(), count, 0);
            if (r < 0) return r;
            byte[][] ready = new byte[3][bytes];
            long bits = 0;
            for (int fd = 0, i = 0; fd < n; fd++) {
                short events = selectEvents(sets, fd);
                if (events == 0) continue;
                short revents = h.get(JAVA_SHORT, (long) POLLFD_SIZE * i++ + 6);
                for (int s = 0; s < 3; s++) {
                    if ((events & SELECT_EVENTS[s]) != 0 && (revents & SELECT_READY[s]) != 0) {
                        ready[s][fd >> 3] |= (byte) (1 << (fd & 7));
                        bits++;
                    }
                }
            }
            long deadline = timeoutNs < 0 ? Wait.NO_DEADLINE
                    : task.resumedDeadline != Wait.NO_DEADLINE ? task.resumedDeadline : k.clock.after(timeoutNs);
            if (bits != 0 || timeoutNs == 0) {
                long written = writeSets(a, ready);
                if (timeoutNs > 0) writeTimeLeft(a[4], deadline, timeval);
                return written < 0 ? written : bits;
            }
            int ep = epollSet(h, count, arena);
            if (ep < 0) return ep;
            Wait w = Wait.fd(task, ep, Blocking.POLLIN, deadline, 0);
            w.ownedFd = ep;
            long[] args = a.clone();
            w.onTimeout = () -> { // all clear, no time left
                writeTimeLeft(args[4], deadline, timeval);
                return writeSets(args, ready);
            };
            return k.block(task, w);
        }
    }

    /** Linux's update of select's timeout: the time left until {@code deadline}; a timeout it cannot write stays. */
    private void writeTimeLeft(long addr, long deadline, boolean timeval) {
        long left = Math.max(0, deadline - k.clock.monotonic());
        try {
            k.memory.writeLong(addr, left / 1_000_000_000L);
            k.memory.writeLong(addr + 8, timeval ? left % 1_000_000_000L / 1000 : left % 1_000_000_000L);
        } catch (GuestFault f) {
            // as Linux: the call's result stands
        }
    }

    /** The poll events fd's bits in the read, write and except sets ask for. */
    private static short selectEvents(byte[][] sets, int fd) {
        short events = 0;
        for (int s = 0; s < 3; s++) {
            if (sets[s] != null && (sets[s][fd >> 3] & (1 << (fd & 7))) != 0) events |= SELECT_EVENTS[s];
        }
        return events;
    }

    /** Writes the sets back where the guest passed them: the call's result, bits counted by the caller, or EFAULT. */
    private long writeSets(long[] a, byte[][] sets) {
        try {
            for (int s = 0; s < 3; s++) if (a[1 + s] != 0) k.memory.write(a[1 + s], sets[s]);
            return 0;
        } catch (GuestFault f) {
            return -Errno.EFAULT;
        }
    }

    private long ppoll(Task task, long[] a) {
        long timeout = -1;
        if (a[2] != 0) {
            timeout = TimeSyscalls.readTimespec(k.memory, a[2]);
            if (timeout < 0) return -Errno.EINVAL;
        }
        if (a[3] != 0) {
            if (a[4] != 8) return -Errno.EINVAL;
            // Swapping the mask for the wait alone is not done; the same mask as the thread's changes nothing.
            if (k.memory.readLong(a[3]) != task.signalMask) return k.unsupported(271, "signal mask");
        }
        return poll(task, a[0], a[1], timeout);
    }

    /**
     * poll over guest fds: the pollfd array translated to host fds and polled without waiting (an fd that is
     * not open reports POLLNVAL); if nothing is ready and the timeout (ns, -1 for none) allows, the task waits
     * on an epoll set of the same fds and events, and the call is re-run when it is ready.
     */
    private long poll(Task task, long fdsAddr, long nfdsArg, long timeoutNs) {
        long nfds = nfdsArg & 0xffffffffL;
        if (nfds > openFileLimit()) return -Errno.EINVAL;
        int n = (int) nfds;
        byte[] guest = k.memory.read(fdsAddr, n * POLLFD_SIZE);
        MemorySegment g = MemorySegment.ofArray(guest);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment h = arena.allocate((long) POLLFD_SIZE * Math.max(n, 1), 8);
            MemorySegment.copy(guest, 0, h, JAVA_BYTE, 0, guest.length);
            int invalid = 0;
            for (int i = 0; i < n; i++) {
                int fd = h.get(JAVA_INT, (long) POLLFD_SIZE * i);
                int host = fd < 0 ? -1 : k.fds.host(fd);
                if (fd >= 0 && host < 0) invalid++;
                h.set(JAVA_INT, (long) POLLFD_SIZE * i, host < 0 ? -1 : host); // -1: the host ignores it
            }
            long r = Host.syscall(Sys.POLL.nr, h.address(), n, 0);
            if (r < 0) return r;
            for (int i = 0; i < n; i++) {
                short revents = h.get(JAVA_SHORT, (long) POLLFD_SIZE * i + 6);
                if (h.get(JAVA_INT, (long) POLLFD_SIZE * i) < 0 && g.get(JAVA_INT_UNALIGNED, (long) POLLFD_SIZE * i) >= 0) revents = POLLNVAL;
                g.set(JAVA_SHORT_UNALIGNED, (long) POLLFD_SIZE * i + 6, revents);
            }
            k.memory.write(fdsAddr, guest);
            r += invalid;
            if (r != 0 || timeoutNs == 0) return r;
            int ep = epollSet(h, n, arena);
            if (ep < 0) return ep;
            Wait w = Wait.fd(task, ep, Blocking.POLLIN, timeoutNs < 0 ? Wait.NO_DEADLINE : k.clock.after(timeoutNs), 0);
            w.ownedFd = ep;
            return k.block(task, w);
        }
    }

    /** A new host epoll fd watching the pollfds' host fds (-1 entries skipped), each for the union of its events. */
    private static int epollSet(MemorySegment pollfds, int n, Arena arena) {
        Map<Integer, Integer> events = new HashMap<>();
        for (int i = 0; i < n; i++) {
            int fd = pollfds.get(JAVA_INT, (long) POLLFD_SIZE * i);
            if (fd >= 0) events.merge(fd, pollfds.get(JAVA_SHORT, (long) POLLFD_SIZE * i + 4) & 0xffff, (x, y) -> x | y);
        }
        int ep = (int) Host.syscall(Sys.EPOLL_CREATE1.nr, EPOLL_CLOEXEC, 0, 0);
        if (ep < 0) return ep;
        MemorySegment ev = arena.allocate(EPOLL_EVENT_SIZE, 8);
        for (Map.Entry<Integer, Integer> e : events.entrySet()) {
            ev.set(JAVA_INT, 0, e.getValue()); // poll and epoll event bits are the same
            // A regular file cannot be watched (EPERM): it is always ready for what it can be, so it never wakes.
            Host.syscall(Sys.EPOLL_CTL.nr, ep, EPOLL_CTL_ADD, e.getKey(), ev.address(), 0, 0);
        }
        return ep;
    }

    /** RLIMIT_NOFILE's soft limit, which bounds poll's nfds on Linux; it never exceeds fs.nr_open (at most 2^20 by default). */
    private static long openFileLimit() {
        final long nrOpen = 1 << 20;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment lim = arena.allocate(16, 8);
            long r = Host.syscall(Sys.PRLIMIT64.nr, 0, RLIMIT_NOFILE, 0, lim.address(), 0, 0);
            long soft = lim.get(JAVA_LONG, 0);
            return r < 0 || soft < 0 || soft > nrOpen ? nrOpen : soft;
        }
    }

    /** Polls without waiting; if nothing is ready and the timeout allows, the task waits for the epoll fd. */
    private long epollWait(Task task, long[] a) {
        int ep = k.fds.host((int) a[0]);
        if (ep < 0) return ep;
        int max = (int) a[2], timeoutMs = (int) a[3];
        if (max <= 0 || max > EP_MAX_EVENTS) return -Errno.EINVAL;
        long len = (long) max * EPOLL_EVENT_SIZE;
        if (!AddressSpace.accessOk(a[1], len)) return -Errno.EFAULT;
        long r;
        try (Arena arena = Arena.ofConfined()) {
            // The host fills in at most as many events as the guest's writable memory holds. Like Linux, a buffer
            // that cannot take any is an error (EFAULT) only once there is an event to store.
            AddressSpace.HostView v = null;
            try {
                v = k.memory.view(a[1], len, AddressSpace.WRITE, arena);
            } catch (GuestFault f) {
                if (Host.syscall(Sys.EPOLL_PWAIT.nr, ep, arena.allocate(EPOLL_EVENT_SIZE).address(), 1, 0, 0, 8) > 0) throw f;
            }
            if (v != null && v.len() < EPOLL_EVENT_SIZE) return -Errno.EFAULT;
            r = v == null ? 0 : Host.syscall(Sys.EPOLL_PWAIT.nr, ep, v.address(), v.len() / EPOLL_EVENT_SIZE, 0, 0, 8);
            if (v != null) v.copyBack();
        }
        if (r != 0 || timeoutMs == 0) return r;
        long deadline = timeoutMs < 0 ? Wait.NO_DEADLINE : k.clock.after(timeoutMs * 1_000_000L);
        return k.block(task, Wait.fd(task, ep, Blocking.POLLIN, deadline, 0));
    }

    private long pipe(long fdsAddr, long flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pair = arena.allocate(8, 4);
            long r = Host.syscall(Sys.PIPE2.nr, pair.address(), flags, 0);
            if (r < 0) return r;
            return k.fds.installPair(pair, k.memory, fdsAddr);
        }
    }
}
