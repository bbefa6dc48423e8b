package dev.goemu.syscalls;

import org.junit.jupiter.api.Test;

import static dev.goemu.syscalls.TestKernel.SCRATCH;
import static org.junit.jupiter.api.Assertions.*;

/** Futex, sleep and scheduling semantics, driven the way the CPU layer drives the kernel. */
class FutexAndSleepTest {
    private static final int FUTEX = 202, NANOSLEEP = 35, SCHED_YIELD = 24, EXIT = 60, EXIT_GROUP = 231, CLONE = 56;
    private static final int WAIT_PRIVATE = 128, WAKE_PRIVATE = 129, WAIT_BITSET = 9, WAKE_BITSET = 10;
    private final TestKernel tk = new TestKernel();
    private final Scheduler sched = tk.kernel.scheduler();
    private final Task main = tk.kernel.createMainTask();

    @Test
    void waitOnChangedWordFailsWithEagain() {
        tk.memory.writeInt(SCRATCH, 1);
        assertEquals(-Errno.EAGAIN, tk.call(main, FUTEX, SCRATCH, WAIT_PRIVATE, 0, 0));
        assertEquals(Task.State.RUNNABLE, main.state());
    }

    @Test
    void waitBlocksUntilWakeAndWakeCountsWaiters() {
        Task other = spawn();
        assertEquals(Kernel.BLOCKED, tk.call(main, FUTEX, SCRATCH, WAIT_PRIVATE, 0, 0));
        assertEquals(Task.State.BLOCKED, main.state());
        assertEquals(0, tk.call(other, FUTEX, SCRATCH + 4, WAKE_PRIVATE, 1), "other address: nobody woken");
        assertEquals(1, tk.call(other, FUTEX, SCRATCH, WAKE_PRIVATE, 10));
        assertEquals(Task.State.RUNNABLE, main.state());
        assertEquals(0, TestKernel.result(main));
    }

    @Test
    void wakeIsFifoAndBitsetFiltered() {
        Task a = spawn(), b = spawn();
        tk.call(a, FUTEX, SCRATCH, WAIT_BITSET, 0, 0, 0, 0b01);
        tk.call(b, FUTEX, SCRATCH, WAIT_BITSET, 0, 0, 0, 0b10);
        assertEquals(1, tk.call(main, FUTEX, SCRATCH, WAKE_BITSET, 5, 0, 0, 0b10));
        assertEquals(Task.State.BLOCKED, a.state());
        assertEquals(Task.State.RUNNABLE, b.state());
        assertEquals(-Errno.EINVAL, tk.call(main, FUTEX, SCRATCH, WAIT_BITSET, 0, 0, 0, 0));
    }

    /** More addresses than hash buckets, several waiters each: a wake finds its own address's waiters, oldest first. */
    @Test
    void wakesFindTheirAddressOldestFirst() {
        int addresses = 300, perAddress = 3;
        Task[][] waiters = new Task[addresses][perAddress];
        for (int round = 0; round < perAddress; round++) {
            for (int i = 0; i < addresses; i++) {
                waiters[i][round] = spawn();
                assertEquals(Kernel.BLOCKED, tk.call(waiters[i][round], FUTEX, SCRATCH + 4L * i, WAIT_PRIVATE, 0, 0));
            }
        }
        for (int i = 0; i < addresses; i += 2) {
            assertEquals(2, tk.call(main, FUTEX, SCRATCH + 4L * i, WAKE_PRIVATE, 2));
            assertEquals(Task.State.RUNNABLE, waiters[i][0].state());
            assertEquals(Task.State.RUNNABLE, waiters[i][1].state());
            assertEquals(Task.State.BLOCKED, waiters[i][2].state(), "the newest waiter stays");
            assertEquals(Task.State.BLOCKED, waiters[i + 1][0].state(), "other addresses stay");
        }
        for (int i = 0; i < addresses; i++) {
            assertEquals(i % 2 == 0 ? 1 : perAddress, tk.call(main, FUTEX, SCRATCH + 4L * i, WAKE_PRIVATE, Integer.MAX_VALUE));
        }
        assertSame(main, sched.next(null));
        for (int i = 0; i < addresses; i += 2) {
            assertSame(waiters[i][0], sched.next(null), "woken tasks run in the order they were woken");
            assertSame(waiters[i][1], sched.next(null));
        }
    }

    /** A waiter that timed out, was interrupted or exited is no longer there for a wake to count. */
    @Test
    void aWaiterThatLeftIsNotWokenAgain() {
        Task timed = spawn(), exiting = spawn(), waiting = spawn();
        tk.writeTimespec(SCRATCH + 64, 1_000_000);
        assertEquals(Kernel.BLOCKED, tk.call(timed, FUTEX, SCRATCH, WAIT_PRIVATE, 0, SCRATCH + 64));
        assertEquals(Kernel.BLOCKED, tk.call(exiting, FUTEX, SCRATCH, WAIT_PRIVATE, 0, 0));
        assertEquals(Kernel.BLOCKED, tk.call(waiting, FUTEX, SCRATCH, WAIT_PRIVATE, 0, 0));
        sched.exit(exiting);
        sleepMillis(3);
        assertSame(main, sched.next(null));
        assertEquals(-Errno.ETIMEDOUT, TestKernel.result(timed));
        assertEquals(1, tk.call(main, FUTEX, SCRATCH, WAKE_PRIVATE, 3), "only the one still waiting");
        assertEquals(0, TestKernel.result(waiting));
        assertEquals(0, tk.call(main, FUTEX, SCRATCH, WAKE_PRIVATE, 3));
    }

    /**
     * Deadlines that have all passed wake in deadline order, whatever order the waits began in and whichever
     * waits a futex wake took out first: the deadline heap stays ordered through removals.
     */
    @Test
    void passedDeadlinesWakeInDeadlineOrder() {
        int n = 200;
        java.util.Random random = new java.util.Random(42);
        long base = System.nanoTime() - 1_000_000_000L;
        java.util.List<Integer> order = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) order.add(i);
        java.util.Collections.shuffle(order, random);
        Task[] byDeadline = new Task[n];
        for (int i : order) {
            byDeadline[i] = spawn();
            long addr = SCRATCH + 4L * (i % 2); // even deadlines wait at SCRATCH, odd ones at SCRATCH + 4
            tk.writeTimespec(SCRATCH + 64, base + 1000L * i);
            assertEquals(Kernel.BLOCKED, tk.call(byDeadline[i], FUTEX, addr, WAIT_BITSET, 0, SCRATCH + 64, 0, -1));
        }
        assertEquals(n / 2, tk.call(main, FUTEX, SCRATCH + 4, WAKE_PRIVATE, n), "the odd ones leave the heap early");
        for (int i = 1; i < n; i += 2) assertEquals(0, TestKernel.result(byDeadline[i]));
        assertSame(main, sched.next(null));
        for (int i : order) if (i % 2 == 1) assertSame(byDeadline[i], sched.next(null), "woken first, in the order they waited");
        for (int i = 0; i < n; i += 2) {
            assertSame(byDeadline[i], sched.next(null), "deadline " + i);
            assertEquals(-Errno.ETIMEDOUT, TestKernel.result(byDeadline[i]));
        }
    }

    @Test
    void relativeTimeoutEndsWithEtimedout() {
        tk.writeTimespec(SCRATCH + 64, 30_000_000);
        long start = System.nanoTime();
        assertEquals(Kernel.BLOCKED, tk.call(main, FUTEX, SCRATCH, WAIT_PRIVATE, 0, SCRATCH + 64));
        assertSame(main, sched.next(null), "the scheduler sleeps until the timeout");
        long waited = System.nanoTime() - start;
        assertEquals(-Errno.ETIMEDOUT, TestKernel.result(main));
        assertTrue(waited >= 30_000_000 && waited < 500_000_000, "waited " + waited + " ns");
    }

    @Test
    void absoluteBitsetTimeoutUsesTheMonotonicClock() {
        tk.writeTimespec(SCRATCH + 64, System.nanoTime() + 20_000_000);
        tk.call(main, FUTEX, SCRATCH, WAIT_BITSET, 0, SCRATCH + 64, 0, -1);
        assertSame(main, sched.next(null));
        assertEquals(-Errno.ETIMEDOUT, TestKernel.result(main));
    }

    @Test
    void nanosleepBlocksOnlyTheCaller() {
        Task other = spawn();
        tk.writeTimespec(SCRATCH, 50_000_000);
        long start = System.nanoTime();
        assertEquals(Kernel.BLOCKED, tk.call(main, NANOSLEEP, SCRATCH, 0));
        assertSame(other, sched.next(null), "the other thread runs while main sleeps");
        tk.call(other, EXIT, 0);
        assertSame(main, sched.next(other));
        assertTrue(System.nanoTime() - start >= 50_000_000);
        assertEquals(0, TestKernel.result(main));
    }

    @Test
    void yieldRotatesTheRunQueue() {
        Task other = spawn();
        assertSame(main, sched.next(null));
        tk.call(main, SCHED_YIELD);
        assertSame(other, sched.next(main));
        assertSame(main, sched.next(other), "a thread whose slice ended goes behind the others");
    }

    @Test
    void cloneMakesARunnableChildWithItsStartRequest() {
        long flags = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000 | 0x80000;
        long tid = tk.call(main, CLONE, flags, 0xc000100000L, 0, 0, 0xc000200000L);
        Task child = sched.task((int) tid);
        assertNotNull(child);
        Task.CloneStart start = child.takeCloneStart();
        assertEquals(new Task.CloneStart(0xc000100000L, 0xc000200000L, true), start);
        assertEquals(1, tk.stops, "the CPU stops so the child's registers can be copied");
    }

    @Test
    void lastThreadExitEndsTheProcessAndExitGroupSetsTheStatus() {
        Task other = spawn();
        tk.call(other, EXIT, 0);
        assertFalse(tk.kernel.exited());
        tk.call(main, EXIT_GROUP, 3);
        assertTrue(tk.kernel.exited());
        assertEquals(3, tk.kernel.exitStatus());
    }

    @Test
    void schedGetaffinityReportsTheConfiguredCpus() {
        assertEquals(8, tk.call(main, 204, 0, 128, SCRATCH));
        assertEquals(0b111, tk.memory.readLong(SCRATCH));
    }

    @Test
    void unimplementedCallsAnswerEnosysAndAreReportedOnce() {
        assertEquals(-Errno.ENOSYS, tk.call(main, 101 /* ptrace */));
        assertEquals(-Errno.ENOSYS, tk.call(main, 101));
        String report = tk.diagnostics.toString();
        assertTrue(report.contains("unimplemented syscall ptrace (101)"), report);
        assertEquals(report.indexOf("ptrace"), report.lastIndexOf("ptrace"), "reported once");
    }

    /** The time calls fill guest memory through the host: gettimeofday's timeval at its first argument. */
    @Test
    void timeCallsWriteTheGuestStructs() {
        final int gettimeofday = 96, clockGettime = 228, clockRealtime = 0;
        tk.memory.writeLong(SCRATCH + 16, -1);
        assertEquals(0, tk.call(main, gettimeofday, SCRATCH, SCRATCH + 16));
        long now = System.currentTimeMillis() / 1000;
        assertTrue(Math.abs(tk.memory.readLong(SCRATCH) - now) <= 2, "tv_sec " + tk.memory.readLong(SCRATCH));
        assertTrue(tk.memory.readLong(SCRATCH + 8) < 1_000_000, "tv_usec");
        assertEquals(0, tk.memory.readLong(SCRATCH + 16), "struct timezone: UTC");
        assertEquals(0, tk.call(main, clockGettime, clockRealtime, SCRATCH + 32));
        assertTrue(Math.abs(tk.memory.readLong(SCRATCH + 32) - now) <= 2);
    }

    private static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private Task spawn() {
        return tk.kernel.newTask();
    }
}
