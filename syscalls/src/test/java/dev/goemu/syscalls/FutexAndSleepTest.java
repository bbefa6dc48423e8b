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
        assertEquals(-Errno.ENOSYS, tk.call(main, CLONE, 17 /* SIGCHLD: fork */, 0, 0, 0, 0));
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
        assertEquals(-Errno.ENOSYS, tk.call(main, 59 /* execve */));
        assertEquals(-Errno.ENOSYS, tk.call(main, 59));
        String report = tk.diagnostics.toString();
        assertTrue(report.contains("unimplemented syscall execve (59)"), report);
        assertEquals(report.indexOf("execve"), report.lastIndexOf("execve"), "reported once");
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

    private Task spawn() {
        return tk.kernel.newTask();
    }
}
