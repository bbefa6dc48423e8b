package dev.goemu.syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which guest thread runs next: round robin over runnable tasks; blocked tasks wake on futex wakes, deadlines,
 * or readiness of a host fd (then their syscall is re-run). When nothing is runnable the scheduler sleeps in a
 * host ppoll(2) until the next deadline or fd event, so an idle guest costs no CPU and sleeps last as long as
 * they do on Linux. One host thread drives the CPU; this class is only called from it, except {@link #interrupt}.
 *
 * <p>A decision is on the path of every thread switch, so it costs O(1) when nothing is due and allocates
 * nothing: the run queue, futex buckets and fd waiters are linked or indexed through the tasks; deadlines are one
 * heap of {@link Timer}s: blocked threads' timeouts, the guest's timers, the CPU layer's alarm for the views. Host fds are polled when the scheduler goes idle, at a decision after the guest used an fd, and otherwise
 * at most every {@link #FD_POLL_INTERVAL} ns, so readiness from outside (a network peer) is seen within about
 * 1 ms while other threads run.
 */
public final class Scheduler {
    /** Re-runs a blocked task's syscall after its fd became ready; returns {@link Kernel#BLOCKED} if it blocked again. */
    interface Retrier {
        long retry(Task task, int nr, long[] args);

        /** A blocked syscall finished (for strace). */
        void resumed(Task task, int nr, long result);

        /** Events from other host threads (signals sent to goemu) become kernel state now, before choosing. */
        void beforeDecision();
    }

    static final long FD_POLL_INTERVAL = 1_000_000;
    private static final short POLLIN = 1;
    private static final int POLLFD_SIZE = 8;
    /** Futex waiters are hashed by address into FIFO buckets, as Linux's futex hash table does (a power of two). */
    private static final int FUTEX_BUCKETS = 256;

    private final Map<Integer, Task> tasks = new LinkedHashMap<>();
    private final ArrayDeque<Task> runQueue = new ArrayDeque<>();
    /** Each bucket lists its waiters in the order they blocked (Task.futexNext/futexPrev), so wakes are FIFO. */
    private final Task[] futexHead = new Task[FUTEX_BUCKETS], futexTail = new Task[FUTEX_BUCKETS];
    /** Armed timers: a binary min-heap on Timer.deadline, each timer knowing its index. */
    private Timer[] timers = new Timer[16];
    private int timerCount;
    /** Blocked tasks waiting for a host fd, each knowing its index; polled in one ppoll with the wake fd. */
    private final ArrayList<Task> fdWaiters = new ArrayList<>();
    private final ArrayList<Task> fdReady = new ArrayList<>();
    private final FdTable fds;
    private final Arena arena = Arena.ofAuto();
    private MemorySegment pollFds = arena.allocate(POLLFD_SIZE * 16L, 8);
    private final MemorySegment timespec = arena.allocate(16, 8);
    private long lastFdPoll;
    private final Clock clock;
    /** Deterministic mode's choices, or null: round robin. */
    private final Schedule schedule;
    private final Retrier retrier;
    /** Deterministic mode: the run's baton, or null; and the process whose turns these threads run in (their own,
     *  or for a vfork child the parent it runs for, on the parent's thread). */
    private final Baton baton;
    private GuestProcess seat;
    private final int wakeFd;
    /** Told the time each thread ran, at each decision, while the guest has a CPU-time timer armed; else null. */
    private CpuCharge cpuCharge;
    /** When the thread now running was chosen (kept only while cpuCharge is set). */
    private long dispatchedAt;

    /**
     * An action run from {@link #next} once the clock reaches its deadline, even while every thread waits. Made
     * once by its owner and re-armed as often as needed, so arming allocates nothing.
     */
    public static final class Timer {
        private final Runnable action;
        private long deadline = Wait.NO_DEADLINE;
        private int index = -1;

        public Timer(Runnable action) {
            this.action = action;
        }

        public boolean armed() { return index >= 0; }

        /** The deadline on the scheduler's clock, if armed. */
        public long deadline() { return deadline; }
    }

    /** Receives the time a thread ran (on the scheduler's clock) when the scheduler takes it off the CPU. */
    interface CpuCharge {
        void ran(Task task, long nanos);
    }

    Scheduler(Retrier retrier, FdTable fds, Clock clock, Schedule schedule, GuestProcess process) {
        this.retrier = retrier;
        this.seat = process;
        this.baton = schedule != null ? process.table.baton : null;
        this.fds = fds;
        this.clock = clock;
        this.schedule = schedule;
        final int sysEventfd2 = 290, efdCloexecNonblock = 0x80000 | 0x800;
        this.wakeFd = (int) Host.syscall(sysEventfd2, 0, efdCloexecNonblock, 0);
        this.lastFdPoll = clock.monotonic() - FD_POLL_INTERVAL;
    }

    public Collection<Task> tasks() {
        return tasks.values();
    }

    public Task task(int tid) {
        return tasks.get(tid);
    }

    void add(Task t) {
        t.timeout = new Timer(() -> wake(t, t.wait.onTimeout != null ? t.wait.onTimeout.getAsLong() : t.wait.timeoutResult));
        tasks.put(t.tid, t);
        enqueue(t);
    }

    /** {@code t} blocks in syscall {@code nr}, its arguments in t.blockedArgs. */
    void block(Task t, Wait w, int nr) {
        dequeue(t);
        t.state = Task.State.BLOCKED;
        t.wait = w;
        t.blockedNr = nr;
        if (w.isFutex()) futexAppend(t);
        arm(t.timeout, w.deadline);
        if (w.hostFd >= 0) {
            t.fdIndex = fdWaiters.size();
            fdWaiters.add(t);
        }
    }

    void wake(Task t, long result) {
        if (t.state != Task.State.BLOCKED) return;
        unblock(t);
        finish(t, result);
    }

    /** Takes a blocked task out of every wait structure; it is runnable but not yet queued. */
    private void unblock(Task t) {
        if (t.wait.isFutex()) futexUnlink(t);
        disarm(t.timeout);
        if (t.fdIndex >= 0) fdRemove(t);
        if (t.wait.ownedFd >= 0) {
            Host.syscall(Sys.CLOSE.nr, t.wait.ownedFd, 0, 0);
            t.wait.ownedFd = -1;
        }
        t.state = Task.State.RUNNABLE;
        t.wait = null;
    }

    private void finish(Task t, long result) {
        t.complete(result);
        retrier.resumed(t, t.blockedNr, result);
        enqueue(t);
    }

    int futexWake(long addr, int count, int bitset) {
        int woken = 0;
        for (Task t = futexHead[futexBucket(addr)], next; t != null && woken < count; t = next) {
            next = t.futexNext;
            if (t.wait.futexAddr == addr && (t.wait.futexBitset & bitset) != 0) {
                wake(t, 0);
                woken++;
            }
        }
        return woken;
    }

    void exit(Task t) {
        if (t.state == Task.State.BLOCKED) unblock(t);
        dequeue(t);
        t.state = Task.State.EXITED;
        tasks.remove(t.tid);
    }

    void yield(Task t) {
        t.yielded = true;
    }

    /**
     * The task to run after {@code prev} (the one that just ran, or null) stopped. Sleeps in the host while
     * nothing is runnable; returns null when no task is left.
     */
    public Task next(Task prev) {
        if (cpuCharge != null && prev != null) cpuCharge.ran(prev, clock.monotonic() - dispatchedAt);
        if (schedule != null) return dispatch(nextDeterministic(prev));
        if (prev != null && prev.state == Task.State.RUNNABLE && !prev.queued) {
            if (prev.yielded) runQueue.addLast(prev); else runQueue.addFirst(prev);
            prev.queued = true;
            prev.yielded = false;
        }
        retrier.beforeDecision();
        collectEvents(false);
        if (prev != null && runQueue.peekFirst() == prev && runQueue.size() > 1) {
            runQueue.addLast(runQueue.pollFirst()); // its slice ended and others are waiting
        }
        if (!awaitRunnable()) return null;
        Task t = runQueue.pollFirst();
        t.queued = false;
        return dispatch(t);
    }

    /** Waits (idle, in the host or on the virtual clock) until a thread is runnable; false when none is left. */
    private boolean awaitRunnable() {
        while (runQueue.isEmpty()) {
            if (tasks.isEmpty()) return false;
            collectEvents(true);
            retrier.beforeDecision();
        }
        return true;
    }

    private Task dispatch(Task t) {
        if (cpuCharge != null) dispatchedAt = clock.monotonic();
        return t;
    }

    /**
     * Deterministic mode: the same events as {@link #next}, taken at the same points (fds are polled at every
     * decision, not by host time), then the {@link Schedule} chooses among every runnable thread. Each decision is
     * also a turn of the run's {@link Baton}: other processes of the run may run before this one goes on.
     */
    private Task nextDeterministic(Task prev) {
        if (prev != null) {
            if (prev.state == Task.State.RUNNABLE) enqueue(prev);
            prev.yielded = false; // every runnable thread is a candidate anyway
        }
        if (baton != null) baton.turn(seat, clock);
        retrier.beforeDecision();
        collectEvents(false);
        if (!awaitRunnable()) return null;
        Task t = schedule.choose(runQueue, prev);
        t.queued = false;
        return t;
    }

    /** A vfork child's threads run in the turns of {@code parent}'s process, on whose thread they run. */
    void runsInTurnsOf(Scheduler parent) {
        seat = parent.seat;
    }

    /** Deterministic mode: how many translated blocks the chosen thread may run before the next decision. */
    public long sliceBlocks() {
        return schedule.slice();
    }

    /** The clock deadlines are on. */
    public Clock clock() {
        return clock;
    }

    /** Runs {@code t}'s action once the clock reaches {@code deadline} (NO_DEADLINE: never); replaces its earlier deadline. */
    public void arm(Timer t, long deadline) {
        if (t.index >= 0) heapRemove(t);
        t.deadline = deadline;
        if (deadline != Wait.NO_DEADLINE) heapAdd(t);
    }

    public void disarm(Timer t) {
        if (t.index >= 0) heapRemove(t);
    }

    /**
     * From now on, tell {@code charge} at each decision how long the thread taken off the CPU ran (null: stop). Only
     * while the guest has a CPU-time timer: otherwise a decision pays nothing for it but one null check.
     */
    void chargeCpu(CpuCharge charge) {
        if (charge != null && cpuCharge == null) dispatchedAt = clock.monotonic(); // the caller runs since about now
        cpuCharge = charge;
    }

    /** Wakes the scheduler from an idle wait; safe from any thread (host signal forwarding, tests). */
    public void interrupt() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment one = arena.allocate(8);
            one.set(ValueLayout.JAVA_LONG, 0, 1);
            Host.syscall(Sys.WRITE.nr, wakeFd, one.address(), 8);
        }
    }

    /**
     * Wakes tasks whose fd is ready or whose deadline passed. Idle, it first sleeps in the host until the next
     * deadline, an fd event or {@link #interrupt}; otherwise it polls fds only when they may have changed.
     */
    private void collectEvents(boolean idle) {
        boolean fdsUsed = fds.takeUsed();
        if (idle && clock.isVirtual()) {
            idleVirtual();
        } else if (idle) {
            pollHost(idleTimeout());
        } else if (!fdWaiters.isEmpty()
                && (clock.isVirtual() || fdsUsed || clock.monotonic() - lastFdPoll >= FD_POLL_INTERVAL)) {
            pollHost(0);
        }
        long now = clock.monotonic();
        while (timerCount > 0 && timers[0].deadline <= now) { // an action re-arming its timer must do so after now
            Timer t = timers[0];
            heapRemove(t);
            t.action.run();
        }
    }

    /** Nanoseconds until the earliest deadline, or -1 for none. */
    private long idleTimeout() {
        long earliest = earliestDeadline();
        if (earliest == Wait.NO_DEADLINE) return -1;
        return Math.max(0, earliest - clock.monotonic());
    }

    private long earliestDeadline() {
        return timerCount > 0 ? timers[0].deadline : Wait.NO_DEADLINE;
    }

    /**
     * Every thread waits, on a virtual clock: ready fds first (what the guest itself wrote is ready by now), else
     * time passes at once to the next deadline. Only a guest waiting for the host alone (a pipe from another
     * process, a signal) waits in the host, for as long as that takes. With other processes in the run, the
     * baton decides instead: this process passes it, and time moves or the host is waited for only when every
     * process is idle.
     */
    private void idleVirtual() {
        long earliest = earliestDeadline();
        if (baton != null && baton.shared(seat)) {
            if (baton.idle(seat, clock, earliest)) pollHost(Baton.HOST_WAIT_NANOS);
            else if (!fdWaiters.isEmpty()) pollHost(0);
            return;
        }
        if (earliest == Wait.NO_DEADLINE) {
            pollHost(-1);
            return;
        }
        if (!fdWaiters.isEmpty()) {
            pollHost(0);
            if (!runQueue.isEmpty()) return;
        }
        clock.advanceTo(earliest);
    }

    /** One ppoll over every fd waiter and the wake fd ({@code timeoutNs} -1: forever); re-runs the ready waiters' calls. */
    private void pollHost(long timeoutNs) {
        int n = fdWaiters.size();
        if (pollFds.byteSize() < POLLFD_SIZE * (n + 1L)) pollFds = arena.allocate(POLLFD_SIZE * 2L * (n + 1), 8);
        for (int i = 0; i <= n; i++) {
            Task t = i < n ? fdWaiters.get(i) : null;
            pollFds.set(ValueLayout.JAVA_INT, POLLFD_SIZE * i, t != null ? t.wait.hostFd : wakeFd);
            pollFds.set(ValueLayout.JAVA_INT, POLLFD_SIZE * i + 4, t != null ? t.wait.events : POLLIN); // revents = 0
        }
        if (timeoutNs >= 0) {
            timespec.set(ValueLayout.JAVA_LONG, 0, timeoutNs / 1_000_000_000L);
            timespec.set(ValueLayout.JAVA_LONG, 8, timeoutNs % 1_000_000_000L);
        }
        Host.syscall(Sys.PPOLL.nr, pollFds.address(), n + 1, timeoutNs >= 0 ? timespec.address() : 0, 0, 8, 0);
        lastFdPoll = clock.monotonic();
        if (revents(n) != 0) drainWakeFd();
        for (int i = 0; i < n; i++) if (revents(i) != 0) fdReady.add(fdWaiters.get(i));
        // Re-run after the scan: a call that blocks again re-enters fdWaiters.
        for (int i = 0; i < fdReady.size(); i++) retry(fdReady.get(i));
        fdReady.clear();
    }

    private short revents(int i) {
        return pollFds.get(ValueLayout.JAVA_SHORT, POLLFD_SIZE * i + 6);
    }

    /** Re-runs a blocked task's syscall now (its fd became ready, or a child it waits for changed). */
    void retry(Task t) {
        if (t.state != Task.State.BLOCKED) return;
        long deadline = t.wait.deadline, timeoutResult = t.wait.timeoutResult;
        unblock(t);
        t.resumedDeadline = deadline;
        long r = retrier.retry(t, t.blockedNr, t.blockedArgs);
        t.resumedDeadline = Wait.NO_DEADLINE;
        if (r == Kernel.BLOCKED) { // blocked again: keep the original timeout
            t.wait.deadline = deadline;
            t.wait.timeoutResult = timeoutResult;
            arm(t.timeout, deadline);
            return;
        }
        finish(t, r);
    }

    private void drainWakeFd() {
        try (Arena arena = Arena.ofConfined()) {
            Host.syscall(Sys.READ.nr, wakeFd, arena.allocate(8).address(), 8);
        }
    }

    // ---- the run queue: Task.queued makes membership O(1)

    private void enqueue(Task t) {
        if (t.queued) return;
        runQueue.addLast(t);
        t.queued = true;
    }

    private void dequeue(Task t) {
        if (!t.queued) return; // the usual case: a task blocks or exits while running, out of the queue
        runQueue.remove(t);
        t.queued = false;
    }

    // ---- futex buckets

    private static int futexBucket(long addr) {
        long h = (addr >>> 2) * 0x9E3779B97F4A7C15L; // futex words are 4-aligned
        return (int) (h >>> 56) & (FUTEX_BUCKETS - 1);
    }

    private void futexAppend(Task t) {
        int b = futexBucket(t.wait.futexAddr);
        t.futexPrev = futexTail[b];
        t.futexNext = null;
        if (futexTail[b] != null) futexTail[b].futexNext = t; else futexHead[b] = t;
        futexTail[b] = t;
    }

    private void futexUnlink(Task t) {
        int b = futexBucket(t.wait.futexAddr);
        if (t.futexPrev != null) t.futexPrev.futexNext = t.futexNext; else futexHead[b] = t.futexNext;
        if (t.futexNext != null) t.futexNext.futexPrev = t.futexPrev; else futexTail[b] = t.futexPrev;
        t.futexPrev = t.futexNext = null;
    }

    // ---- fd waiters: removal swaps the last one into the hole

    private void fdRemove(Task t) {
        Task last = fdWaiters.removeLast();
        if (last != t) {
            fdWaiters.set(t.fdIndex, last);
            last.fdIndex = t.fdIndex;
        }
        t.fdIndex = -1;
    }

    // ---- the timer heap

    private void heapAdd(Timer t) {
        if (timerCount == timers.length) timers = java.util.Arrays.copyOf(timers, 2 * timerCount);
        timerCount++;
        siftUp(t, timerCount - 1);
    }

    private void heapRemove(Timer t) {
        int i = t.index;
        t.index = -1;
        Timer last = timers[--timerCount];
        timers[timerCount] = null;
        if (last == t) return;
        if (i > 0 && last.deadline < timers[(i - 1) / 2].deadline) siftUp(last, i); else siftDown(last, i);
    }

    private void siftUp(Timer t, int i) {
        long d = t.deadline;
        while (i > 0) {
            int parent = (i - 1) / 2;
            Timer p = timers[parent];
            if (p.deadline <= d) break;
            place(p, i);
            i = parent;
        }
        place(t, i);
    }

    private void siftDown(Timer t, int i) {
        long d = t.deadline;
        while (true) {
            int child = 2 * i + 1;
            if (child >= timerCount) break;
            if (child + 1 < timerCount && timers[child + 1].deadline < timers[child].deadline) child++;
            if (timers[child].deadline >= d) break;
            place(timers[child], i);
            i = child;
        }
        place(t, i);
    }

    private void place(Timer t, int i) {
        timers[i] = t;
        t.index = i;
    }
}
