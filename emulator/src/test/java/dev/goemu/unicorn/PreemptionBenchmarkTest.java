package dev.goemu.unicorn;

import static dev.goemu.unicorn.Asm.asm;
import static dev.goemu.unicorn.Asm.imm32;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Cost of the native preemption hook on a tight loop (2 instructions and 1 block per iteration). Prints, asserts
 * nothing about time. Run: mvn ... test -Dtest=PreemptionBenchmarkTest -Dgoemu.bench=true
 */
@EnabledIfSystemProperty(named = "goemu.bench", matches = "true")
class PreemptionBenchmarkTest extends EngineTestBase {
    static final int ITERATIONS = 100_000_000; // 200 M instructions

    static byte[] loop(int iterations) {
        return asm(
                "48 c7 c1 " + imm32(iterations), // mov rcx, iterations
                "48 ff c9",                      // L: dec rcx
                "75 fb");                        // jnz L
    }

    /** Runs the loop to its end, restarting after every stop; returns {nanoseconds, stops}. */
    long[] time(int iterations) {
        byte[] code = loop(iterations);
        uc.write(CODE, code);
        long end = CODE + code.length;
        long stops = 0;
        long t0 = System.nanoTime();
        uc.start(CODE, end);
        while (uc.reg(X86.RIP) != end) {
            stops++;
            uc.start(uc.reg(X86.RIP), end);
        }
        long ns = System.nanoTime() - t0;
        assertEquals(0, uc.reg(X86.RCX));
        return new long[] {ns, stops};
    }

    long best(int iterations, int runs) {
        long best = Long.MAX_VALUE;
        for (int i = 0; i < runs; i++) best = Math.min(best, time(iterations)[0]);
        return best;
    }

    void report(String what, long ns, int iterations, long stops) {
        System.out.printf("[bench] %-44s %7.0f ms  %6.1f M instr/s  %5.2f ns/block  stops=%d%n", what, ns / 1e6,
                2.0 * iterations / (ns / 1e3), (double) ns / iterations, stops);
    }

    @Test
    void preemptionHookCost() throws Exception {
        time(1000); // translate once
        long bare = best(ITERATIONS, 3);
        report("no hooks", bare, ITERATIONS, 0);

        Preemption p = uc.installPreemption();
        time(1000);
        long idle = best(ITERATIONS, 3);
        report("native preemption hook, no requests", idle, ITERATIONS, 0);

        System.out.printf("[bench] idle native hook: %+.1f%%, %.2f ns per block%n", 100.0 * (idle - bare) / bare,
                (double) (idle - bare) / ITERATIONS);

        // Cost of one stop + restart: a syscall hook that stops every time.
        uc.write(CODE + 0x100, asm(
                "0f 05",   // L: syscall
                "eb fc")); //    jmp L
        Hook stopper = uc.onSyscall(uc::stop);
        uc.start(CODE + 0x100);
        int n = 200_000;
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) uc.start(uc.reg(X86.RIP));
        long perStop = (System.nanoTime() - t0) / n;
        stopper.close();
        System.out.printf("[bench] syscall hook + stop + reg(RIP) + start: %d ns per round trip%n", perStop);

        for (int periodUs : new int[] {10_000, 1_000, 100}) {
            AtomicBoolean stopTimer = new AtomicBoolean();
            Thread t = Thread.ofPlatform().daemon().start(() -> {
                long next = System.nanoTime();
                while (!stopTimer.get()) {
                    next += periodUs * 1000L;
                    long wait;
                    while ((wait = next - System.nanoTime()) > 0) java.util.concurrent.locks.LockSupport.parkNanos(wait);
                    p.request();
                }
            });
            long[] r = time(ITERATIONS);
            stopTimer.set(true);
            t.join();
            p.consume();
            report("native hook + request every " + periodUs + " us, restart", r[0], ITERATIONS, r[1]);
            System.out.printf("[bench]   vs no hooks %+.1f%%%n", 100.0 * (r[0] - bare) / bare);
        }

        // Reference: an empty Java block hook (FFM upcall per block), on 1/20 of the loop.
        int small = ITERATIONS / 20;
        long bareSmall = best(small, 1);
        uc.onBlock(1, 0, (address, size) -> {});
        time(1000);
        long java = best(small, 1);
        report("empty Java block hook (1/20 of the loop)", java, small, 0);
        System.out.printf("[bench] Java block hook: %.1fx, %.0f ns per block%n", (double) java / bareSmall,
                (double) (java - bareSmall) / small);
    }
}
