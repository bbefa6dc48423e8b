package dev.goemu.syscalls;

/**
 * The x86-64 Linux {@code struct rt_sigframe} the kernel pushes for a handler, and its reading back by
 * rt_sigreturn. Layout: return address (sa_restorer) at 0, {@code struct ucontext} at 8 (flags, link, stack_t,
 * sigcontext of 32 words, sigmask), {@code siginfo} at 312; the FXSAVE area sits above the frame, 64-aligned.
 */
final class SignalFrame {
    static final int UC = 8, UC_STACK = UC + 16, MCONTEXT = UC + 40, SIGMASK = MCONTEXT + 256, SIGINFO = 312;
    static final int SIZE = SIGINFO + 128;
    /** sigcontext words after the 18 general registers. */
    private static final int SEGMENTS = 18 * 8, ERR = 19 * 8, TRAPNO = 20 * 8, OLDMASK = 21 * 8, CR2 = 22 * 8, FPSTATE = 23 * 8;
    private static final long UC_FLAGS = 0x2 | 0x4; // UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS, as Linux sets them
    private static final long USER_CS = 0x33, USER_SS = 0x2b;
    private static final int REDZONE = 128;

    /**
     * Why a signal was sent: the siginfo fields goemu fills in. pid and uid are the first two int words of
     * {@code _sifields}, which for SI_TIMER are the timer id and overrun count; value is SI_TIMER's si_value.
     */
    record Info(int signo, int code, int pid, int uid, long addr, int trapno, long value) {
        static final int SI_USER = 0, SI_TIMER = -2, SI_TKILL = -6, SI_KERNEL = 0x80;

        Info(int signo, int code, int pid, int uid, long addr, int trapno) {
            this(signo, code, pid, uid, addr, trapno, 0);
        }

        /** A POSIX timer's signal: si_timerid, si_overrun, si_value. */
        static Info timer(int signo, int timerId, int overrun, long value) {
            return new Info(signo, SI_TIMER, timerId, overrun, 0, 0, value);
        }
    }

    private SignalFrame() {}

    /** Where the handler's stack starts: the alternate stack if asked for and not already on it, else below the red zone. */
    static long stackTop(long sp, boolean onStackRequested, long altSp, long altSize, int altFlags) {
        boolean onAlt = altSize > 0 && sp > altSp && sp <= altSp + altSize;
        if (onStackRequested && altFlags != SignalSyscalls.SS_DISABLE && !onAlt) return altSp + altSize;
        return sp - REDZONE;
    }

    /** Writes the frame below {@code top}; returns its address (the handler's RSP). */
    static long push(AddressSpace mem, long top, Registers regs, long restorer, long blockedMask, Info info,
                     long altSp, long altSize, int altFlags) {
        long fpstate = (top - Registers.FXSAVE_SIZE) & ~63L;
        long frame = ((fpstate - SIZE) & ~15L) - 8; // at handler entry RSP+8 is 16-aligned, as after a call
        mem.write(fpstate, regs.fxsave);
        mem.writeLong(frame, restorer);
        mem.writeLong(frame + UC, UC_FLAGS);
        mem.writeLong(frame + UC + 8, 0);
        mem.writeLong(frame + UC_STACK, altSp);
        mem.writeLong(frame + UC_STACK + 8, altFlags);
        mem.writeLong(frame + UC_STACK + 16, altSize);
        long mc = frame + MCONTEXT;
        for (int i = 0; i < Registers.COUNT; i++) mem.writeLong(mc + 8L * i, regs.gpr[i]);
        mem.writeLong(mc + SEGMENTS, USER_CS | (USER_SS << 48));
        mem.writeLong(mc + ERR, 0);
        mem.writeLong(mc + TRAPNO, info.trapno());
        mem.writeLong(mc + OLDMASK, blockedMask);
        mem.writeLong(mc + CR2, info.addr());
        mem.writeLong(mc + FPSTATE, fpstate);
        for (int i = 0; i < 8; i++) mem.writeLong(mc + FPSTATE + 8 + 8L * i, 0);
        mem.writeLong(frame + SIGMASK, blockedMask);
        long si = frame + SIGINFO;
        mem.write(si, new byte[128]);
        mem.writeInt(si, info.signo());
        mem.writeInt(si + 8, info.code());
        if (info.code() <= 0) { // sent by a process (who: si_pid, si_uid) or a timer (si_timerid, si_overrun, si_value)
            mem.writeInt(si + 16, info.pid());
            mem.writeInt(si + 20, info.uid());
            if (info.code() == Info.SI_TIMER) mem.writeLong(si + 24, info.value());
        } else {                // raised by a fault: where
            mem.writeLong(si + 16, info.addr());
        }
        return frame;
    }

    /** rt_sigreturn's view: the registers and mask saved at {@code uc} (the RSP at the rt_sigreturn syscall). */
    static Registers restore(AddressSpace mem, long uc, Registers into) {
        long mc = uc - UC + MCONTEXT;
        for (int i = 0; i < Registers.COUNT; i++) into.gpr[i] = mem.readLong(mc + 8L * i);
        long fpstate = mem.readLong(mc + FPSTATE);
        if (fpstate != 0) System.arraycopy(mem.read(fpstate, Registers.FXSAVE_SIZE), 0, into.fxsave, 0, Registers.FXSAVE_SIZE);
        return into;
    }

    static long savedMask(AddressSpace mem, long uc) {
        return mem.readLong(uc - UC + SIGMASK);
    }
}
