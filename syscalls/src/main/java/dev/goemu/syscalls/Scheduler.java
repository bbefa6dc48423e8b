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
 * nothing: the run queue, futex buckets and fd waiters are linked or indexed through the tasks, deadlines are a
 * heap. Host fds are polled when the scheduler goes idle, at a decision after the guest used an fd, and otherwise
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
    /** Blocked tasks with a deadline: a binary min-heap on Wait.deadline, each task knowing its index. */
    private Task[] deadlines = new Task[16];
    private int deadlineCount;
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
    /** The CPU layer's own timer (periodic views of the guest), run from next() when due, even while idle. */
    private long alarmDeadline = Wait.NO_DEADLINE;
    private Runnable alarmAction;

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
        if (w.deadline != Wait.NO_DEADLINE) deadlineAdd(t);
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
        if (t.deadlineIndex >= 0) deadlineRemove(t);
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
        if (schedule != null) return nextDeterministic(prev);
        if (prev != null && prev.state == Task.State.RUNNABLE && !prev.queued) {
            if (prev.yielded) runQueue.addLast(prev); else runQueue.addFirst(prev);
            prev.queued = true;
            prev.yielded = false;
        }
        retrier.beforeDecision();
        collectEvents(false);
        runAlarmIfDue();
        if (prev != null && runQueue.peekFirst() == prev && runQueue.size() > 1) {
            runQueue.addLast(runQueue.pollFirst()); // its slice ended and others are waiting
        }
        while (runQueue.isEmpty()) {
            if (tasks.isEmpty()) return null;
            collectEvents(true);
            retrier.beforeDecision();
            runAlarmIfDue();
        }
        Task t = runQueue.pollFirst();
        t.queued = false;
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
        runAlarmIfDue();
        while (runQueue.isEmpty()) {
            if (tasks.isEmpty()) return null;
            collectEvents(true);
            retrier.beforeDecision();
            runAlarmIfDue();
        }
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

    /** Runs {@code action} from {@link #next} once the clock reaches {@code deadline}; replaces any earlier alarm. */
    public void setAlarm(long deadline, Runnable action) {
        alarmDeadline = deadline;
        alarmAction = action;
    }

    public void cancelAlarm() {
        alarmDeadline = Wait.NO_DEADLINE;
        alarmAction = null;
    }

    private void runAlarmIfDue() {
        if (alarmAction == null || clock.monotonic() < alarmDeadline) return;
        Runnable action = alarmAction;
        cancelAlarm();
        action.run();
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
        while (deadlineCount > 0 && deadlines[0].wait.deadline <= now) {
            Task t = deadlines[0];
            wake(t, t.wait.timeoutResult);
        }
    }

    /** Nanoseconds until the earliest deadline or alarm, or -1 for none. */
    private long idleTimeout() {
        long earliest = earliestDeadline();
        if (earliest == Wait.NO_DEADLINE) return -1;
        return Math.max(0, earliest - clock.monotonic());
    }

    private long earliestDeadline() {
        long earliest = alarmAction != null ? alarmDeadline : Wait.NO_DEADLINE;
        return deadlineCount > 0 ? Math.min(earliest, deadlines[0].wait.deadline) : earliest;
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
        long r = retrier.retry(t, t.blockedNr, t.blockedArgs);
        if (r == Kernel.BLOCKED) { // blocked again: keep the original timeout
            if (t.deadlineIndex >= 0) deadlineRemove(t);
            t.wait.deadline = deadline;
            t.wait.timeoutResult = timeoutResult;
            if (deadline != Wait.NO_DEADLINE) deadlineAdd(t);
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

    // ---- the deadline heap

    private void deadlineAdd(Task t) {
        if (deadlineCount == deadlines.length) deadlines = java.util.Arrays.copyOf(deadlines, 2 * deadlineCount);
        deadlineCount++;
        siftUp(t, deadlineCount - 1);
    }

    private void deadlineRemove(Task t) {
        int i = t.deadlineIndex;
        t.deadlineIndex = -1;
        Task last = deadlines[--deadlineCount];
        deadlines[deadlineCount] = null;
        if (last == t) return;
        if (i > 0 && last.wait.deadline < deadlines[(i - 1) / 2].wait.deadline) siftUp(last, i); else siftDown(last, i);
    }

    private void siftUp(Task t, int i) {
        long d = t.wait.deadline;
        while (i > 0) {
            int parent = (i - 1) / 2;
            Task p = deadlines[parent];
            if (p.wait.deadline <= d) break;
            place(p, i);
            i = parent;
        }
        place(t, i);
    }

    private void siftDown(Task t, int i) {
        long d = t.wait.deadline;
        while (true) {
            int child = 2 * i + 1;
            if (child >= deadlineCount) break;
            if (child + 1 < deadlineCount && deadlines[child + 1].wait.deadline < deadlines[child].wait.deadline) child++;
            if (deadlines[child].wait.deadline >= d) break;
            place(deadlines[child], i);
            i = child;
        }
        place(t, i);
    }

    private void place(Task t, int i) {
        deadlines[i] = t;
        t.deadlineIndex = i;
    }
}
