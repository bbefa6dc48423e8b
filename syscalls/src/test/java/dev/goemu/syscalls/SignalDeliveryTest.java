package dev.goemu.syscalls;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static dev.goemu.syscalls.TestKernel.SCRATCH;
import static org.junit.jupiter.api.Assertions.*;

/** Signal frames laid out as the x86-64 kernel does, and rt_sigreturn honouring edits to them (Go's asyncPreempt). */
class SignalDeliveryTest {
    private static final int RT_SIGACTION = 13, RT_SIGRETURN = 15, SIGALTSTACK = 131, TGKILL = 234, FUTEX = 202;
    private static final int SIGUSR1 = 10, SIGTERM = 15, SIGURG = 23;
    private static final long SA_SIGINFO = 4, SA_ONSTACK = 0x08000000L, SA_RESTART = 0x10000000L, SA_RESTORER = 0x04000000L;
    private static final long HANDLER = 0x401000, RESTORER = 0x402000;
    private static final long ALT = SCRATCH + 0x40000, ALT_SIZE = 0x8000;

    private final TestKernel tk = new TestKernel();
    private final Task main = tk.kernel.createMainTask();

    @BeforeEach
    void threadIsRunningOnItsStack() {
        tk.kernel.scheduler().next(null);
        tk.cpu.set(Registers.RSP, SCRATCH + 0x20008);
        tk.cpu.set(Registers.RIP, 0x4abcde);
        tk.cpu.set(Registers.RBX, 77);
        tk.cpu.fxsave[160] = 0x5a; // XMM0's first byte
    }

    private void install(int sig, long flags) {
        long act = SCRATCH + 0x100;
        tk.memory.writeLong(act, HANDLER);
        tk.memory.writeLong(act + 8, flags | SA_SIGINFO | SA_RESTORER);
        tk.memory.writeLong(act + 16, RESTORER);
        tk.memory.writeLong(act + 24, 0);
        assertEquals(0, tk.call(main, RT_SIGACTION, sig, act, 0, 8));
    }

    private void altStack() {
        long ss = SCRATCH + 0x200;
        tk.memory.writeLong(ss, ALT);
        tk.memory.writeInt(ss + 8, 0);
        tk.memory.writeLong(ss + 16, ALT_SIZE);
        assertEquals(0, tk.call(main, SIGALTSTACK, ss, 0));
    }

    @Test
    void frameOnTheAlternateStackMatchesTheKernelLayout() {
        install(SIGUSR1, SA_ONSTACK);
        altStack();
        assertEquals(0, tk.call(main, TGKILL, tk.kernel.pid, main.tid, SIGUSR1));
        tk.kernel.deliverSignals(main);

        long frame = tk.cpu.get(Registers.RSP);
        assertTrue(frame >= ALT && frame < ALT + ALT_SIZE, "frame on the alternate stack");
        assertEquals(0, (frame + 8) % 16, "RSP+8 is 16-aligned at handler entry");
        assertEquals(HANDLER, tk.cpu.get(Registers.RIP));
        assertEquals(SIGUSR1, tk.cpu.get(Registers.RDI));
        assertEquals(frame + 312, tk.cpu.get(Registers.RSI), "&siginfo");
        assertEquals(frame + 8, tk.cpu.get(Registers.RDX), "&ucontext");
        assertEquals(RESTORER, tk.memory.readLong(frame), "return address is sa_restorer");

        long mc = frame + 8 + 40;
        assertEquals(77, tk.memory.readLong(mc + 8 * Registers.RBX));
        assertEquals(0x4abcde, tk.memory.readLong(mc + 8 * Registers.RIP));
        assertEquals(SCRATCH + 0x20008, tk.memory.readLong(mc + 8 * Registers.RSP));
        long fpstate = tk.memory.readLong(mc + 23 * 8);
        assertEquals(0, fpstate % 64);
        assertTrue(fpstate > frame);
        assertEquals(0x5a, tk.memory.read(fpstate + 160, 1)[0], "XMM0 saved in FXSAVE layout");
        assertEquals(ALT, tk.memory.readLong(frame + 8 + 16), "uc_stack.ss_sp");

        long si = frame + 312;
        assertEquals(SIGUSR1, tk.memory.readInt(si));
        assertEquals(-6, tk.memory.readInt(si + 8), "si_code SI_TKILL");
        assertEquals(tk.kernel.pid, tk.memory.readInt(si + 16), "si_pid");
        assertTrue((main.signalMask & (1L << (SIGUSR1 - 1))) != 0, "the signal is blocked while its handler runs");
    }

    @Test
    void sigreturnRestoresAnEditedContext() {
        install(SIGUSR1, 0);
        tk.call(main, TGKILL, tk.kernel.pid, main.tid, SIGUSR1);
        tk.kernel.deliverSignals(main);
        long frame = tk.cpu.get(Registers.RSP);
        assertTrue(frame < SCRATCH + 0x20008 - 128, "below the red zone");
        long mc = frame + 8 + 40;
        tk.memory.writeLong(mc + 8 * Registers.RIP, 0x4fffff);         // as Go's pushCall(asyncPreempt) does
        tk.memory.writeLong(mc + 8 * Registers.RSP, SCRATCH + 0x20000);

        tk.cpu.set(Registers.RSP, frame + 8);                             // the handler returned into the restorer
        tk.call(main, RT_SIGRETURN);
        assertEquals(0x4fffff, tk.cpu.get(Registers.RIP));
        assertEquals(SCRATCH + 0x20000, tk.cpu.get(Registers.RSP));
        assertEquals(77, tk.cpu.get(Registers.RBX));
        assertEquals(0x5a, tk.cpu.fxsave[160]);
        assertEquals(0, main.signalMask, "the mask from before the handler");
    }

    @Test
    void interruptedWaitRestartsWithSaRestartOrFailsWithEintr() {
        install(SIGUSR1, SA_RESTART);
        Task other = tk.kernel.newTask();
        assertEquals(Kernel.BLOCKED, tk.call(main, FUTEX, SCRATCH, 128, 0, 0));
        tk.call(other, TGKILL, tk.kernel.pid, main.tid, SIGUSR1);
        assertEquals(Task.State.RUNNABLE, main.state(), "a signal wakes the blocked thread");
        assertEquals(-Errno.EINTR, TestKernel.result(main));
        tk.cpu.set(Registers.RIP, 0x4abce0);                               // just after its syscall instruction
        tk.kernel.deliverSignals(main);
        long mc = tk.cpu.get(Registers.RSP) + 8 + 40;
        assertEquals(FUTEX, tk.memory.readLong(mc + 8 * Registers.RAX), "RAX = syscall number again");
        assertEquals(0x4abcde, tk.memory.readLong(mc + 8 * Registers.RIP), "RIP back on the syscall instruction");
    }

    @Test
    void defaultActionsTerminateOrIgnore() {
        tk.call(main, TGKILL, tk.kernel.pid, main.tid, SIGURG);
        tk.kernel.deliverSignals(main);
        assertFalse(tk.kernel.exited(), "SIGURG is ignored by default");
        tk.kernel.hostSignal(SIGTERM);
        tk.kernel.scheduler().next(main);
        tk.kernel.deliverSignals(main);
        assertTrue(tk.kernel.exited());
        assertEquals(128 + SIGTERM, tk.kernel.exitStatus());
    }
}
