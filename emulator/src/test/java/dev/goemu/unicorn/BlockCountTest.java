package dev.goemu.unicorn;

import static dev.goemu.unicorn.Asm.asm;
import static dev.goemu.unicorn.Asm.imm64;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Deterministic mode's slices: translated blocks count themselves (goemu's engine patch, goemu_engine_count_blocks),
 * the engine stops before the first block past the budget, and the virtual clock answered in C is a function of the
 * blocks executed. A slice must end at the same instruction however the blocks are chained or were translated.
 */
class BlockCountTest extends EngineTestBase {
    static final long NS_PER_BLOCK = 2, CLOCK_OUT = DATA + 0x100;
    /** loop: inc rax; jmp loop (one block per iteration). */
    static final byte[] LOOP = asm("48 ff c0", "eb fb");

    FastSyscalls fast;

    @BeforeEach
    void install() {
        fast = uc.onSyscallWithFastPath(() -> {
            throw new AssertionError("only the clock is asked, and C answers it");
        }, NS_PER_BLOCK);
        fast.setMonotonicBase(1_000_000);
        uc.write(CODE, LOOP);
        uc.setReg(X86.RAX, 0);
    }

    @Test
    void aSliceRunsExactlyItsBlocks() {
        fast.setBudget(1000);
        uc.start(CODE);
        assertEquals(1000, uc.reg(X86.RAX), "iterations run");
        assertEquals(CODE, uc.reg(X86.RIP), "stopped before the next block, none of it run");
        assertEquals(1000, fast.blocks());

        // Chained blocks, already translated, count the same.
        fast.setBudget(fast.blocks() + 12345);
        uc.start(CODE);
        assertEquals(13345, uc.reg(X86.RAX));
        assertEquals(13345, fast.blocks());
    }

    @Test
    void anEmptySliceRunsNothing() {
        fast.setBudget(0);
        uc.start(CODE);
        assertEquals(0, uc.reg(X86.RAX));
        assertEquals(0, fast.blocks());
    }

    @Test
    void theClockInCIsTheBlocksExecuted() {
        fast.setBudget(500);
        uc.start(CODE);
        // clock_gettime(CLOCK_MONOTONIC, CLOCK_OUT): one more block.
        uc.write(CODE + 0x80, asm("48 b8 " + imm64(228), "48 bf " + imm64(1), "48 be " + imm64(CLOCK_OUT), "0f 05"));
        fast.setBudget(fast.blocks() + 10);
        uc.start(CODE + 0x80, CODE + 0x80 + 32);
        MemorySegment ts = MemorySegment.ofArray(uc.read(CLOCK_OUT, 16));
        long nanos = ts.get(JAVA_LONG_UNALIGNED, 0) * 1_000_000_000L + ts.get(JAVA_LONG_UNALIGNED, 8);
        assertEquals(0, uc.reg(X86.RAX));
        assertEquals(1_000_000 + 501 * NS_PER_BLOCK, nanos, "base + (500 loop blocks + the syscall's) x 2 ns");
    }
}
