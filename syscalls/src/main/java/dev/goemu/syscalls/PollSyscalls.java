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
