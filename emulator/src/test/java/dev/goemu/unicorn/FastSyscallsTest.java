package dev.goemu.unicorn;

import static dev.goemu.unicorn.Asm.asm;
import static dev.goemu.unicorn.Asm.imm32;
import static dev.goemu.unicorn.Asm.imm64;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.goemu.syscalls.Host;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The native SYSCALL hook: time syscalls answered in C as the Java kernel would, everything else handed to Java. */
class FastSyscallsTest extends EngineTestBase {
    static final long OUT = DATA + 0x100;
    static final long OUT2 = DATA + 0x200;
    static final long UNMAPPED = 0x50000;
    static final long RCX_BEFORE = 0x5555, R11_BEFORE = 0x6666;
    static final int GETTIMEOFDAY = 96, TIME = 201, CLOCK_GETTIME = 228, GETCPU = 309, EFAULT = 14;

    FastSyscalls fast;
    /** Syscall numbers the Java handler saw. */
    final List<Long> toJava = new ArrayList<>();
    /** What the Java handler does after recording the number: answer 1000 + nr. */
    Runnable javaHandler = () -> uc.setReg(X86.RAX, 1000 + uc.reg(X86.RAX));

    @BeforeEach
    void install() {
        fast = uc.onSyscallWithFastPath(() -> {
            toJava.add(uc.reg(X86.RAX));
            javaHandler.run();
        });
    }

    /** Runs one {@code syscall} with RAX, RDI, RSI set; returns RAX. */
    long syscall(long nr, long a0, long a1) {
        uc.setReg(X86.RCX, RCX_BEFORE);
        uc.setReg(X86.R11, R11_BEFORE);
        run(asm(
                "48 b8 " + imm64(nr),  // mov rax, nr
                "48 bf " + imm64(a0),  // mov rdi, a0
                "48 be " + imm64(a1),  // mov rsi, a1
                "0f 05"));             // syscall
        return uc.reg(X86.RAX);
    }

    /** Like {@link #syscall}, for a call the fast path answers: no Java, RCX and R11 as after a real SYSCALL. */
    long fastSyscall(long nr, long a0, long a1) {
        long r = syscall(nr, a0, a1);
        assertEquals(List.of(), toJava, "answered in C");
        assertEquals(CODE + 32, uc.reg(X86.RCX), "RCX: the return address");
        assertEquals(uc.reg(X86.RFLAGS), uc.reg(X86.R11), "R11: RFLAGS");
        return r;
    }

    long guestLong(long addr) {
        return MemorySegment.ofArray(uc.read(addr, 8)).get(JAVA_LONG_UNALIGNED, 0);
    }

    static long hostClock(int clock) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ts = arena.allocate(16, 8);
            assertEquals(0, Host.syscall(CLOCK_GETTIME, clock, ts.address(), 0));
            return ts.get(JAVA_LONG, 0) * 1_000_000_000L + ts.get(JAVA_LONG, 8);
        }
    }

    long guestTimespec(long addr) {
        long sec = guestLong(addr), nsec = guestLong(addr + 8);
        assertTrue(nsec >= 0 && nsec < 1_000_000_000L, "tv_nsec " + nsec);
        return sec * 1_000_000_000L + nsec;
    }

    @Test
    void clockGettimeReadsTheHostClocks() {
        // REALTIME, MONOTONIC, MONOTONIC_RAW, REALTIME_COARSE, MONOTONIC_COARSE, BOOTTIME
        for (int clock : new int[] {0, 1, 4, 5, 6, 7}) {
            long before = hostClock(clock);
            assertEquals(0, fastSyscall(CLOCK_GETTIME, clock, OUT));
            long t = guestTimespec(OUT);
            long after = hostClock(clock);
            assertTrue(before <= t && t <= after, "clock " + clock + ": " + before + " <= " + t + " <= " + after);
        }
        // The Java kernel's deadlines are System.nanoTime, which must be the guest's CLOCK_MONOTONIC.
        long before = System.nanoTime();
        fastSyscall(CLOCK_GETTIME, 1, OUT);
        long t = guestTimespec(OUT);
        assertTrue(before <= t && t <= System.nanoTime());
        // The kernel takes the clock id as an int.
        fastSyscall(CLOCK_GETTIME, 0xffff_ffff_0000_0001L, OUT);
        assertTrue(guestTimespec(OUT) >= t);
    }

    @Test
    void gettimeofdayTimeAndGetcpu() {
        byte[] ones = new byte[16];
        Arrays.fill(ones, (byte) -1);
        uc.write(OUT2, ones);
        long before = System.currentTimeMillis() * 1000;
        assertEquals(0, fastSyscall(GETTIMEOFDAY, OUT, OUT2));
        long usec = guestLong(OUT + 8), t = guestLong(OUT) * 1_000_000 + usec;
        assertTrue(usec >= 0 && usec < 1_000_000 && before <= t && t < (System.currentTimeMillis() + 1) * 1000);
        assertEquals(0, guestLong(OUT2), "struct timezone: UTC");
        assertEquals(0, fastSyscall(GETTIMEOFDAY, 0, 0));

        long from = Host.syscall(TIME, 0, 0, 0);
        long now = fastSyscall(TIME, OUT, 0);
        assertTrue(from <= now && now <= Host.syscall(TIME, 0, 0, 0));
        assertEquals(now, guestLong(OUT));
        assertTrue(fastSyscall(TIME, 0, 0) >= now);

        uc.write(OUT, ones);
        assertEquals(0, fastSyscall(GETCPU, OUT, OUT + 4));
        assertEquals(0, guestLong(OUT), "CPU 0, node 0");
        assertEquals(0, fastSyscall(GETCPU, 0, 0));
    }

    @Test
    void otherSyscallsAndClocksGoToJava() {
        assertEquals(1039, syscall(39, 0, 0));
        assertEquals(RCX_BEFORE, uc.reg(X86.RCX), "RCX and R11 stay the Java handler's job");
        assertEquals(R11_BEFORE, uc.reg(X86.R11));
        // PROCESS_CPUTIME, THREAD_CPUTIME, REALTIME_ALARM, TAI, a bad id; a syscall number with high bits set
        for (long clock : new long[] {2, 3, 8, 11, -1, 100}) assertEquals(1228, syscall(CLOCK_GETTIME, clock, OUT));
        assertEquals(1000 + (1L << 32) + CLOCK_GETTIME, syscall((1L << 32) + CLOCK_GETTIME, 1, OUT));
        assertEquals(List.of(39L, 228L, 228L, 228L, 228L, 228L, 228L, (1L << 32) + 228), toJava);
    }

    @Test
    void badPointersAreEfaultAndWriteNothing() {
        long straddling = DATA + SIZE - 2; // 2 mapped bytes, then unmapped
        uc.write(straddling, asm("4d 4d"));
        assertEquals(-EFAULT, fastSyscall(CLOCK_GETTIME, 1, 0));
        for (long bad : new long[] {UNMAPPED, -8, straddling, 1L << 47}) {
            assertEquals(-EFAULT, fastSyscall(CLOCK_GETTIME, 1, bad));
            assertEquals(-EFAULT, fastSyscall(GETTIMEOFDAY, bad, 0));
            assertEquals(-EFAULT, fastSyscall(TIME, bad, 0));
            assertEquals(-EFAULT, fastSyscall(GETCPU, bad, 0));
        }
        assertArrayEquals(asm("4d 4d"), uc.read(straddling, 2), "no partial write");
        // As Linux, a later bad pointer fails the call after the earlier writes.
        uc.write(OUT, new byte[16]);
        uc.write(OUT2, RegistersTest.le(-1));
        assertEquals(-EFAULT, fastSyscall(GETTIMEOFDAY, OUT, UNMAPPED));
        assertTrue(guestLong(OUT) > 0, "timeval written");
        assertEquals(-EFAULT, fastSyscall(GETCPU, UNMAPPED, OUT2));
        assertEquals(0xffff_ffff_0000_0000L, guestLong(OUT2), "node written");
    }

    /**
     * Page protection is ignored, as the Java kernel's AddressSpace ignores it (both write read-only guest pages): a
     * target in read-only memory or in the code being run is written and execution goes on; the guest's own stores
     * still respect the protection.
     */
    @Test
    void protectedTargets() {
        long readOnly = 0x60000;
        uc.map(readOnly, 0x1000, Perm.READ);
        assertEquals(0, fastSyscall(CLOCK_GETTIME, 1, readOnly));
        assertTrue(guestTimespec(readOnly) > 0);
        UnicornException e = assertThrows(UnicornException.class,
                () -> run(asm("48 89 1c 25 " + imm32((int) readOnly)))); // mov [readOnly], rbx
        assertEquals(UnicornException.WRITE_PROT, e.code());

        uc.setReg(X86.RBX, 0);
        uc.write(CODE, asm(
                "b8 e4 00 00 00",                   // 0x10000: mov eax, 228
                "bf 01 00 00 00",                   // 0x10005: mov edi, 1
                "be " + imm32((int) (CODE + 0x20)), // 0x1000a: mov esi, 0x10020: this code's page
                "0f 05",                            // 0x1000f: syscall
                "eb 2d"));                          // 0x10011: jmp 0x10040
        uc.write(CODE + 0x40, asm("48 ff c3"));     // 0x10040: inc rbx
        uc.start(CODE, CODE + 0x43);
        assertEquals(0, uc.reg(X86.RAX));
        assertEquals(1, uc.reg(X86.RBX), "execution continued");
    }

    @Test
    void offSwitchSendsEverythingToJava() {
        fast.setEnabled(false);
        assertEquals(1228, syscall(CLOCK_GETTIME, 1, OUT));
        assertEquals(1201, syscall(TIME, 0, 0));
        assertEquals(List.of(228L, 201L), toJava);
        toJava.clear();
        fast.setEnabled(true);
        assertEquals(0, fastSyscall(CLOCK_GETTIME, 1, OUT));
    }

    /** Forwarded calls keep onSyscall's contract: a stop lands after the syscall, an exception leaves start(). */
    @Test
    void forwardedHandlerMayStopOrThrow() {
        byte[] twoSyscalls = asm(
                "b8 27 00 00 00",   // mov eax, 39
                "0f 05",            // syscall        ; stops
                "b8 e4 00 00 00",   // mov eax, 228
                "bf 01 00 00 00",   // mov edi, 1
                "be " + imm32((int) OUT),
                "0f 05",            // syscall        ; clock_gettime in C, on the same run
                "b8 27 00 00 00",   // mov eax, 39
                "0f 05");           // syscall        ; throws
        uc.write(CODE, twoSyscalls);
        long end = CODE + twoSyscalls.length;
        javaHandler = uc::stop;
        uc.start(CODE, end);
        assertEquals(CODE + 7, uc.reg(X86.RIP));
        javaHandler = () -> {
            throw new IllegalStateException("boom");
        };
        assertEquals("boom", assertThrows(IllegalStateException.class, () -> uc.start(CODE + 7, end)).getMessage());
        assertEquals(end, uc.reg(X86.RIP));
        assertEquals(List.of(39L, 39L), toJava);
        assertTrue(guestTimespec(OUT) > 0);
    }

    /** Prints the cost of one clock_gettime answered in C against a Java handler that does nothing. */
    @Test
    void costPerCall() {
        int n = 200_000;
        byte[] loop = asm(
                "bb " + imm32(n),           // mov ebx, n
                "b8 e4 00 00 00",           // L: mov eax, 228
                "bf 01 00 00 00",           // mov edi, 1
                "be " + imm32((int) OUT),   // mov esi, OUT
                "0f 05",                    // syscall
                "ff cb",                    // dec ebx
                "75 eb");                   // jnz L
        javaHandler = () -> {};
        long[] ns = new long[2];
        for (int round = 0; round < 3; round++) {
            for (int enabled = 0; enabled < 2; enabled++) {
                fast.setEnabled(enabled == 1);
                long t0 = System.nanoTime();
                run(loop);
                long t = System.nanoTime() - t0;
                if (round == 0 || t < ns[enabled]) ns[enabled] = t;
            }
        }
        assertEquals(0, uc.reg(X86.RBX));
        System.out.printf("[observed] clock_gettime in C: %.0f ns a call; an empty Java handler: %.0f ns%n",
                (double) ns[1] / n, (double) ns[0] / n);
    }
}
