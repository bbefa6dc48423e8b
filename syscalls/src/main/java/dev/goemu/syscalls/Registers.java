package dev.goemu.syscalls;

/**
 * A thread's user-visible registers, as a signal frame saves them: the general registers in the kernel's
 * {@code struct sigcontext} order, and the FPU/SSE state in FXSAVE format (512 bytes).
 */
public final class Registers {
    /** r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags: sigcontext's first 18 words. */
    public static final int R8 = 0, R9 = 1, R10 = 2, R11 = 3, R12 = 4, R13 = 5, R14 = 6, R15 = 7, RDI = 8, RSI = 9,
            RBP = 10, RBX = 11, RDX = 12, RAX = 13, RCX = 14, RSP = 15, RIP = 16, EFLAGS = 17, COUNT = 18;
    public static final int FXSAVE_SIZE = 512;

    /** The registers' names, lower case, in the order of the indices above. */
    private static final java.util.List<String> NAMES = java.util.List.of("r8", "r9", "r10", "r11", "r12", "r13", "r14",
            "r15", "rdi", "rsi", "rbp", "rbx", "rdx", "rax", "rcx", "rsp", "rip", "eflags");

    public final long[] gpr = new long[COUNT];

    /** The index of a register by name ("rax", "r14", "rip", "eflags"), or -1. */
    public static int index(String name) {
        return NAMES.indexOf(name);
    }

    public final byte[] fxsave = new byte[FXSAVE_SIZE];

    public long get(int i) { return gpr[i]; }

    public void set(int i, long v) { gpr[i] = v; }

    public Registers copy() {
        Registers r = new Registers();
        System.arraycopy(gpr, 0, r.gpr, 0, COUNT);
        System.arraycopy(fxsave, 0, r.fxsave, 0, FXSAVE_SIZE);
        return r;
    }
}
