package dev.goemu.unicorn;

import static dev.goemu.unicorn.Asm.asm;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * {@link Unicorn#interrupt()} from another thread, as goemu's time slices use it. Unicorn's own uc_emu_stop from
 * another thread could stop after the store of a read-modify-write instruction and restart it (it then ran twice),
 * or between a hook and its instruction (the hook then ran twice); goemu's engine patch takes interrupts only at the
 * start of a translated block, before its hooks. These tests stop the engine thousands of times and check the
 * guest's state at every stop.
 */
class InterruptTest extends EngineTestBase {
    /**
     * One translated block: three memory read-modify-writes (one locked), a push/pop pair and a register counter,
     * so at every block boundary [rbx], [rbx+8] and [rbx+16] all equal rdx and rsp is back where it was.
     */
    private static final byte[] LOOP = asm(
            "48 83 03 01",        // 0x10000: add qword [rbx], 1
            "b9 01 00 00 00",     // 0x10004: mov ecx, 1
            "f0 48 0f c1 4b 08",  // 0x10009: lock xadd [rbx+8], rcx
            "48 ff 43 10",        // 0x1000f: inc qword [rbx+16]
            "50",                 // 0x10013: push rax
            "58",                 // 0x10014: pop rax
            "48 ff c2",           // 0x10015: inc rdx
            "4c 39 c2",           // 0x10018: cmp rdx, r8
            "75 e3");             // 0x1001b: jne 0x10000
    private static final long MOV_ECX = CODE + 4;

    /** Calls interrupt() every ~20 us until closed. */
    private static final class Interrupter implements AutoCloseable {
        final AtomicBoolean done = new AtomicBoolean();
        final Thread thread;

        Interrupter(Unicorn uc) {
            thread = Thread.ofPlatform().start(() -> {
                while (!done.get()) {
                    uc.interrupt();
                    LockSupport.parkNanos(20_000);
                }
            });
        }

        @Override
        public void close() throws InterruptedException {
            done.set(true);
            thread.join();
        }
    }

    private long counter(int offset) {
        return ByteBuffer.wrap(uc.read(DATA + offset, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /** Runs LOOP under interrupts until it has been stopped {@code stops} times, checking the state at each stop. */
    private void runInterrupted(int stops, Runnable atEachStop) throws InterruptedException {
        uc.write(CODE, LOOP);
        uc.setReg(X86.RBX, DATA);
        uc.setReg(X86.R8, Long.MAX_VALUE);
        long rsp = uc.reg(X86.RSP);
        long lastRdx = -1;
        try (Interrupter ignored = new Interrupter(uc)) {
            for (int i = 0; i < stops; i++) {
                uc.start(i == 0 ? CODE : uc.reg(X86.RIP));
                long rdx = uc.reg(X86.RDX);
                assertEquals(CODE, uc.reg(X86.RIP), "stopped inside the block, stop " + i);
                assertEquals(rdx, counter(0), "add [mem] ran a different number of times, stop " + i);
                assertEquals(rdx, counter(8), "lock xadd ran a different number of times, stop " + i);
                assertEquals(rdx, counter(16), "inc [mem] ran a different number of times, stop " + i);
                assertEquals(rsp, uc.reg(X86.RSP), "push/pop cut, stop " + i);
                assertTrue(rdx >= lastRdx);
                lastRdx = rdx;
                atEachStop.run();
            }
        }
        assertTrue(lastRdx > 0, "the loop ran");
    }

    @Test
    void stopsAnInfiniteLoopAgainAndAgain() throws Exception {
        uc.write(CODE, asm("eb fe")); // jmp $
        for (int round = 0; round < 5; round++) {
            Thread timer = Thread.ofPlatform().start(() -> {
                LockSupport.parkNanos(50_000_000);
                uc.interrupt();
            });
            long t0 = System.nanoTime();
            uc.start(round == 0 ? CODE : uc.reg(X86.RIP));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            timer.join();
            assertTrue(ms >= 45, "stopped after " + ms + " ms");
            assertEquals(CODE, uc.reg(X86.RIP));
        }
    }

    @Test
    void thousandsOfInterruptsNeverCutAnInstruction() throws Exception {
        runInterrupted(3000, () -> {});
    }

    /** Breakpoints and tracers rely on this: every hook runs exactly once per execution of its instruction or block. */
    @Test
    void interruptsNeverRunAHookTwice() throws Exception {
        long[] codeHooks = {0}, blockHooks = {0};
        uc.onCode(MOV_ECX, MOV_ECX, (a, s) -> codeHooks[0]++);
        uc.onBlock(CODE, CODE, (a, s) -> blockHooks[0]++);
        runInterrupted(500, () -> {
            long rdx = uc.reg(X86.RDX);
            assertEquals(rdx, codeHooks[0], "code hook runs");
            assertEquals(rdx, blockHooks[0], "block hook runs");
        });
    }

    @Test
    void interruptWhileIdleStopsTheNextStartBeforeItsFirstBlock() {
        uc.write(CODE, asm(
                "48 ff c0",   // 0x10000: inc rax
                "eb fb"));    // 0x10003: jmp 0x10000
        uc.interrupt();
        uc.start(CODE);
        assertEquals(CODE, uc.reg(X86.RIP));
        assertEquals(0, uc.reg(X86.RAX), "nothing ran");
        // Taken once: the next start runs until something else stops it.
        uc.onCode(CODE, CODE, (a, s) -> {
            if (uc.reg(X86.RAX) >= 10) uc.stop();
        });
        uc.start(CODE);
        assertEquals(10, uc.reg(X86.RAX));
    }

    @Test
    void hookStopsStillStopAtOnce() {
        uc.write(CODE, asm(
                "0f 05",      // syscall
                "90"));       // nop
        uc.onSyscall(uc::stop);
        uc.start(CODE, CODE + 3);
        assertEquals(CODE + 2, uc.reg(X86.RIP));
    }

    @Test
    void interruptAfterCloseIsIgnored() {
        uc.close();
        uc.interrupt();
    }
}
