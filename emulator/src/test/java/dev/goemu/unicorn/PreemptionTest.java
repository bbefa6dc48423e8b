package dev.goemu.unicorn;

import static dev.goemu.unicorn.Asm.asm;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class PreemptionTest extends EngineTestBase {

    static Thread requestAfter(Preemption p, long millis) {
        return Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                return;
            }
            p.request();
        });
    }

    @Test
    void stopsAnInfiniteLoopAgainAndAgain() throws Exception {
        uc.write(CODE, asm("eb fe")); // jmp $
        Preemption p = uc.installPreemption();
        assertSame(p, uc.installPreemption());
        for (int round = 0; round < 5; round++) {
            Thread timer = requestAfter(p, 50);
            long t0 = System.nanoTime();
            uc.start(round == 0 ? CODE : uc.reg(X86.RIP));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            timer.join();
            assertTrue(ms >= 45, "stopped after " + ms + " ms");
            assertTrue(p.consume(), "stop caused by the request");
            assertFalse(p.consume(), "consume clears");
            assertFalse(p.pending());
            assertEquals(CODE, uc.reg(X86.RIP));
        }
    }

    /** Stops land on block boundaries: the two increments of one block are never split. */
    @Test
    void frequentRequestsKeepStateConsistent() throws Exception {
        uc.write(CODE, asm(
                "48 ff c0",   // 0x10000: inc rax
                "48 ff c3",   // 0x10003: inc rbx
                "eb f8"));    // 0x10006: jmp 0x10000
        Preemption p = uc.installPreemption();
        AtomicBoolean done = new AtomicBoolean();
        Thread timer = Thread.ofPlatform().start(() -> {
            while (!done.get()) {
                p.request();
                try {
                    Thread.sleep(0, 200_000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        long last = -1;
        try {
            for (int i = 0; i < 300; i++) {
                uc.start(i == 0 ? CODE : uc.reg(X86.RIP));
                assertTrue(p.consume());
                long rax = uc.reg(X86.RAX);
                assertEquals(rax, uc.reg(X86.RBX), "stop inside a block");
                assertEquals(CODE, uc.reg(X86.RIP));
                assertTrue(rax >= last, rax + " < " + last);
                last = rax;
            }
        } finally {
            done.set(true);
            timer.join();
        }
        assertTrue(last > 0);
    }

    /** Breakpoints and stepping rely on this: a preempted block stops before its first instruction's code hooks. */
    @Test
    void aPreemptedBlockRunsNoCodeHooks() {
        uc.write(CODE, asm("48 ff c0", "48 ff c0")); // inc rax; inc rax
        Preemption p = uc.installPreemption();
        List<Long> hooked = new ArrayList<>();
        uc.onCode(CODE, CODE, (a, s) -> hooked.add(a));
        p.request();
        uc.start(CODE, CODE + 6);
        assertTrue(p.consume());
        assertEquals(0, uc.reg(X86.RAX), "the preempted block did not run");
        assertEquals(List.of(), hooked, "nor did its code hooks");
        uc.start(CODE, CODE + 6);
        assertEquals(2, uc.reg(X86.RAX));
        assertEquals(List.of(CODE), hooked);
    }

    @Test
    void requestWhileIdleStopsAtTheFirstBlockOfTheNextStart() {
        uc.write(CODE, asm(
                "48 ff c0",   // 0x10000: inc rax
                "eb fb"));    // 0x10003: jmp 0x10000
        Preemption p = uc.installPreemption();
        p.request();
        assertTrue(p.pending());
        uc.start(CODE);
        assertTrue(p.consume());
        System.out.println("[observed] request while idle: stopped at RIP=0x" + Long.toHexString(uc.reg(X86.RIP))
                + " after " + uc.reg(X86.RAX) + " increments");
        assertTrue(uc.reg(X86.RAX) <= 1);
        // cancel withdraws a request
        p.request();
        p.cancel();
        uc.onCode(CODE, CODE, (a, s) -> {
            if (uc.reg(X86.RAX) >= 10) uc.stop();
        });
        uc.start(uc.reg(X86.RIP));
        assertFalse(p.consume(), "stop came from the code hook, not the request");
        assertEquals(10, uc.reg(X86.RAX));
    }

    @Test
    void otherStopsAreNotPreemptions() {
        uc.write(CODE, asm(
                "0f 05",      // syscall
                "90"));       // nop
        Preemption p = uc.installPreemption();
        uc.onSyscall(uc::stop);
        uc.start(CODE, CODE + 3);
        assertFalse(p.consume());
        assertEquals(CODE + 2, uc.reg(X86.RIP));
    }

    @Test
    void requestAfterCloseIsIgnored() {
        Preemption p = uc.installPreemption();
        uc.close();
        p.request();
        p.cancel();
    }
}
