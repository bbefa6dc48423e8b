package dev.goemu.unicorn;

import static dev.goemu.unicorn.Asm.asm;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class HooksTest extends EngineTestBase {

    static final byte[] TWO_SYSCALLS = asm(
            "b8 27 00 00 00", // 0x10000: mov eax, 39
            "0f 05",          // 0x10005: syscall
            "48 89 c3",       // 0x10007: mov rbx, rax
            "0f 05",          // 0x1000a: syscall
            "48 ff c3");      // 0x1000c: inc rbx
    static final long END = CODE + 0xf;

    /**
     * The scheduler's contract: in the hook RIP is at the 0f 05; stop() from the hook makes start() return with RIP
     * just past the syscall; start(RIP) continues with the next instruction and the hook's RAX.
     */
    @Test
    void syscallHookRipAndStopRestart() {
        uc.write(CODE, TWO_SYSCALLS);
        List<Long> ripInHook = new ArrayList<>();
        List<Long> raxInHook = new ArrayList<>();
        uc.onSyscall(() -> {
            ripInHook.add(uc.reg(X86.RIP));
            raxInHook.add(uc.reg(X86.RAX));
            uc.setReg(X86.RAX, 1000 + ripInHook.size());
            uc.stop();
        });
        uc.start(CODE, END);
        assertEquals(List.of(CODE + 5), ripInHook);
        assertEquals(List.of(39L), raxInHook);
        assertEquals(CODE + 7, uc.reg(X86.RIP), "after stop from the hook: RIP past the syscall");
        assertEquals(1001, uc.reg(X86.RAX));

        uc.start(uc.reg(X86.RIP), END);
        assertEquals(List.of(CODE + 5, CODE + 0xa), ripInHook);
        assertEquals(1001, uc.reg(X86.RBX), "mov rbx, rax ran exactly once, after the first syscall");
        assertEquals(CODE + 0xc, uc.reg(X86.RIP));

        uc.start(uc.reg(X86.RIP), END);
        assertEquals(2, ripInHook.size(), "no syscall re-executed");
        assertEquals(1002, uc.reg(X86.RBX), "inc rbx after the restart");
        assertEquals(END, uc.reg(X86.RIP));
    }

    @Test
    void syscallHookWithoutStopContinues() {
        uc.write(CODE, TWO_SYSCALLS);
        List<Long> ripInHook = new ArrayList<>();
        uc.setReg(X86.RCX, 0x5555);
        uc.setReg(X86.R11, 0x6666);
        uc.onSyscall(() -> {
            ripInHook.add(uc.reg(X86.RIP));
            uc.setReg(X86.RAX, 7);
        });
        uc.start(CODE, END);
        assertEquals(List.of(CODE + 5, CODE + 0xa), ripInHook);
        assertEquals(8, uc.reg(X86.RBX));
        // Unicorn's hooked SYSCALL does not emulate the kernel's RCX/R11 clobbering: the kernel model must.
        assertEquals(0x5555, uc.reg(X86.RCX));
        assertEquals(0x6666, uc.reg(X86.R11));
    }

    /** Writing FS_BASE in the syscall hook (arch_prctl) takes effect and does not disturb RIP. */
    @Test
    void fsBaseWrittenInSyscallHook() {
        uc.write(DATA + 0x40, RegistersTest.le(0xabcdef));
        uc.write(CODE, asm(
                "0f 05",                          // syscall                 ; hook sets FS_BASE
                "64 48 8b 04 25 00 00 00 00"));   // mov rax, fs:[0]
        uc.onSyscall(() -> uc.setReg(X86.FS_BASE, DATA + 0x40));
        long end = CODE + 11;
        // Prior art (2.0.1): start() may return right after such a syscall; the scheduler treats that as "continue".
        int starts = 0;
        for (long rip = CODE; rip != end && starts < 5; rip = uc.reg(X86.RIP)) {
            uc.start(rip, end);
            starts++;
        }
        assertEquals(end, uc.reg(X86.RIP));
        assertEquals(0xabcdef, uc.reg(X86.RAX));
        System.out.println("[observed] FS_BASE written in the SYSCALL hook: start() calls needed = " + starts);
    }

    /** Writing RIP in the SYSCALL hook (signal delivery at a syscall): Unicorn still adds 2 to it afterwards. */
    @Test
    void ripWrittenInSyscallHookGetsPlusTwo() {
        uc.write(CODE, asm(
                "0f 05",          // 0x10000: syscall           ; hook sets RIP
                "48 ff c1"));     // 0x10002: inc rcx           ; must not run
        uc.write(CODE + 0x20, asm(
                "90", "90",       // 0x10020: nop; nop
                "48 ff c3"));     // 0x10022: inc rbx
        List<Long> executed = new ArrayList<>();
        uc.onCode(1, 0, (address, size) -> executed.add(address - CODE));
        long[] target = {CODE + 0x20};
        uc.onSyscall(() -> uc.setReg(X86.RIP, target[0]));
        uc.start(CODE, CODE + 0x25);
        assertEquals(List.of(0L, 0x22L), executed, "RIP = X in the hook continues at X + 2");
        assertEquals(0, uc.reg(X86.RCX));

        executed.clear();
        target[0] = CODE + 0x20 - 2; // so: write target - 2
        uc.start(CODE, CODE + 0x25);
        assertEquals(List.of(0L, 0x20L, 0x21L, 0x22L), executed);
        assertEquals(2, uc.reg(X86.RBX));
        assertEquals(0, uc.reg(X86.RCX));
    }

    @Test
    void hooksRunOnTheThreadThatCalledStart() throws Exception {
        uc.write(CODE, TWO_SYSCALLS);
        AtomicReference<Thread> seen = new AtomicReference<>();
        uc.onSyscall(() -> seen.set(Thread.currentThread()));
        Thread t = new Thread(() -> uc.start(CODE, END), "engine");
        t.start();
        t.join();
        assertSame(t, seen.get());
    }

    @Test
    void int3IsInterrupt3() {
        List<String> seen = new ArrayList<>();
        uc.onInterrupt(intno -> {
            seen.add(intno + "@" + Long.toHexString(uc.reg(X86.RIP)));
            uc.stop();
        });
        uc.write(CODE, asm(
                "90",    // 0x10000: nop
                "cc",    // 0x10001: int3
                "90"));  // 0x10002: nop
        uc.start(CODE, CODE + 3);
        assertEquals(List.of("3@10002"), seen, "int3: intno 3, RIP already past the int3");
        assertEquals(CODE + 2, uc.reg(X86.RIP));
    }

    @Test
    void divideErrorIsInterrupt0AtTheDiv() {
        List<String> seen = new ArrayList<>();
        uc.onInterrupt(intno -> {
            seen.add(intno + "@" + Long.toHexString(uc.reg(X86.RIP)));
            uc.stop(); // returning without stop or a new RIP would re-run the div forever
        });
        uc.write(CODE, asm(
                "31 c9",      // 0x10000: xor ecx, ecx
                "48 f7 f1",   // 0x10002: div rcx          ; #DE
                "90"));       // 0x10005: nop
        uc.start(CODE, CODE + 6);
        assertEquals(List.of("0@10002"), seen, "#DE: intno 0, RIP at the div");
        assertEquals(CODE + 2, uc.reg(X86.RIP));
    }

    @Test
    void ud2IsNotAnInterruptButInvalidInstruction() {
        List<Integer> interrupts = new ArrayList<>();
        uc.onInterrupt(interrupts::add);
        uc.write(CODE, asm(
                "90",       // 0x10000: nop
                "0f 0b"));  // 0x10001: ud2
        UnicornException e = assertThrows(UnicornException.class, () -> uc.start(CODE, CODE + 3));
        assertEquals(UnicornException.INSN_INVALID, e.code());
        assertEquals(List.of(), interrupts, "#UD does not reach UC_HOOK_INTR");
        assertEquals(CODE + 1, uc.reg(X86.RIP), "RIP at the ud2 after the failure");

        List<Long> rips = new ArrayList<>();
        uc.onInvalidInstruction(() -> {
            rips.add(uc.reg(X86.RIP));
            uc.stop();
            return true;
        });
        uc.start(CODE, CODE + 3);
        assertEquals(List.of(CODE + 1), rips);
        assertEquals(CODE + 1, uc.reg(X86.RIP));
    }

    @Test
    void codeAndBlockHooks() {
        List<String> code = new ArrayList<>();
        List<String> blocks = new ArrayList<>();
        Hook c = uc.onCode(1, 0, (address, size) -> code.add(Long.toHexString(address) + "/" + size));
        uc.onBlock(CODE, CODE + 0xfff, (address, size) -> blocks.add(Long.toHexString(address) + "/" + size));
        uc.write(CODE, asm(
                "48 c7 c1 02 00 00 00", // 0x10000: mov rcx, 2
                "48 ff c9",             // 0x10007: dec rcx
                "75 fb",                // 0x1000a: jnz 0x10007
                "90"));                 // 0x1000c: nop
        uc.start(CODE, CODE + 0xd);
        assertEquals(List.of("10000/7", "10007/3", "1000a/2", "10007/3", "1000a/2", "1000c/1"), code);
        assertEquals(List.of("10000/12", "10007/5", "1000c/1"), blocks);
        c.close();
        c.close(); // idempotent
        code.clear();
        uc.start(CODE, CODE + 0xd);
        assertEquals(List.of(), code);
    }

    /** What breakpoints rely on: stop() in a code hook returns before that instruction runs, RIP at it. */
    @Test
    void stopInCodeHookPausesBeforeTheInstruction() {
        uc.write(CODE, asm(
                "48 ff c3",   // 0x10000: inc rbx
                "48 ff c3",   // 0x10003: inc rbx
                "48 ff c3")); // 0x10006: inc rbx
        int[] hits = {0};
        Hook bp = uc.onCode(CODE + 3, CODE + 3, (address, size) -> {
            if (hits[0]++ == 0) uc.stop();
        });
        uc.start(CODE, CODE + 9);
        assertEquals(CODE + 3, uc.reg(X86.RIP));
        assertEquals(1, uc.reg(X86.RBX), "the instruction at the breakpoint has not run");
        uc.start(CODE + 3, CODE + 9);
        assertEquals(3, uc.reg(X86.RBX));
        assertEquals(2, hits[0], "resuming at the breakpoint runs its hook again");
        bp.close();
    }

    // ------------------------------------------------------------------ exceptions in hooks

    @Test
    void runtimeExceptionInHookPropagatesFromStart() {
        uc.write(CODE, TWO_SYSCALLS);
        Hook h = uc.onSyscall(() -> {
            throw new IllegalStateException("boom");
        });
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> uc.start(CODE, END));
        assertEquals("boom", e.getMessage());
        assertEquals(CODE + 7, uc.reg(X86.RIP), "stopped right after the failing syscall");
        // The engine is still usable.
        h.close();
        uc.start(uc.reg(X86.RIP), END);
        assertEquals(END, uc.reg(X86.RIP));
    }

    @Test
    void errorAndCheckedExceptionsInHooks() {
        uc.write(CODE, TWO_SYSCALLS);
        Hook h = uc.onSyscall(() -> {
            throw new AssertionError("assert in hook");
        });
        AssertionError a = assertThrows(AssertionError.class, () -> uc.start(CODE, END));
        assertEquals("assert in hook", a.getMessage());
        h.close();

        h = uc.onSyscall(() -> sneakyThrow(new IOException("checked")));
        UnicornException u = assertThrows(UnicornException.class, () -> uc.start(CODE, END));
        assertInstanceOf(IOException.class, u.getCause());
        h.close();

        // A stack overflow inside a hook is caught too.
        h = uc.onSyscall(HooksTest::recurse);
        assertThrows(StackOverflowError.class, () -> uc.start(CODE, END));
        h.close();
        uc.start(CODE, END);
        assertEquals(END, uc.reg(X86.RIP));
    }

    @Test
    void exceptionInMemoryHookWinsOverTheFault() {
        uc.onInvalidMemory((type, address, size, value) -> {
            throw new IllegalArgumentException("fault at " + Long.toHexString(address));
        });
        uc.write(CODE, asm("48 8b 04 25 00 00 50 00")); // mov rax, [0x500000]
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> uc.start(CODE, CODE + 8));
        assertEquals("fault at 500000", e.getMessage());
        assertTrue(e.getSuppressed().length == 1
                && ((UnicornException) e.getSuppressed()[0]).code() == UnicornException.READ_UNMAPPED);
    }

    @Test
    void exceptionInInterruptAndCodeHooks() {
        Hook h = uc.onInterrupt(intno -> {
            throw new IllegalStateException("intr " + intno);
        });
        uc.write(CODE, asm("cc", "90")); // int3; nop
        assertEquals("intr 3", assertThrows(IllegalStateException.class, () -> uc.start(CODE, CODE + 2)).getMessage());
        h.close();
        uc.onCode(1, 0, (address, size) -> {
            if (address == CODE + 0x101) throw new IllegalStateException("code " + Long.toHexString(address));
        });
        uc.write(CODE + 0x100, asm("90", "90", "90")); // nop; nop; nop
        assertEquals("code 10101", assertThrows(IllegalStateException.class,
                () -> uc.start(CODE + 0x100, CODE + 0x103)).getMessage());
    }

    /** Unicorn 2.1.4 keeps a translated block made of a lone int3 after uc_mem_write replaces it. */
    @Test
    void rewrittenInt3NeedsInvalidateCode() {
        List<Long> interrupts = new ArrayList<>();
        uc.onInterrupt(intno -> interrupts.add(uc.reg(X86.RIP)));
        uc.write(CODE, asm("cc", "90")); // int3; nop
        uc.start(CODE, CODE + 2);
        assertEquals(List.of(CODE + 1), interrupts);
        uc.write(CODE, asm("90", "90")); // nop; nop      (a debugger removing its breakpoint)
        uc.start(CODE, CODE + 2);
        assertEquals(2, interrupts.size(), "stale int3 block ran again (if this fails, Unicorn fixed it)");
        uc.invalidateCode(CODE, CODE + 2);
        uc.start(CODE, CODE + 2);
        assertEquals(2, interrupts.size(), "after invalidateCode the new bytes run");
    }

    static int depth;

    static void recurse() {
        depth++;
        recurse();
    }

    @SuppressWarnings("unchecked")
    static <T extends Throwable> void sneakyThrow(Throwable t) throws T {
        throw (T) t;
    }
}
