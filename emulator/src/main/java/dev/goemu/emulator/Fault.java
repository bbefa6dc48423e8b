package dev.goemu.emulator;

import dev.goemu.unicorn.MemType;
import dev.goemu.unicorn.UnicornException;

/** A CPU exception as Linux reports it to the process: signal, si_code, fault address, trap number, and a description. */
record Fault(int signal, int code, long address, int trapno, String description) {
    static final int SIGILL = 4, SIGTRAP = 5, SIGBUS = 7, SIGFPE = 8, SIGSEGV = 11;
    private static final int BUS_ADRERR = 2, SEGV_MAPERR = 1, SEGV_ACCERR = 2, FPE_INTDIV = 1, ILL_ILLOPN = 2, SI_KERNEL = 0x80;
    private static final int TRAP_DE = 0, TRAP_BP = 3, TRAP_UD = 6, TRAP_GP = 13, TRAP_PF = 14;

    static boolean unmapped(int type) {
        return type == MemType.READ_UNMAPPED || type == MemType.WRITE_UNMAPPED || type == MemType.FETCH_UNMAPPED;
    }

    /** A bad access; mapped: the guest has a mapping there (PROT_NONE, or the wrong protections): SEGV_ACCERR. */
    static Fault memory(int type, long address, boolean mapped) {
        String what = switch (type) {
            case MemType.READ_UNMAPPED -> "read of unmapped address";
            case MemType.WRITE_UNMAPPED -> "write to unmapped address";
            case MemType.FETCH_UNMAPPED -> "jump to unmapped address";
            case MemType.WRITE_PROT -> "write to read-only address";
            case MemType.READ_PROT -> "read of protected address";
            case MemType.FETCH_PROT -> "jump to non-executable address";
            default -> "bad access to address";
        };
        return new Fault(SIGSEGV, mapped ? SEGV_ACCERR : SEGV_MAPERR, address, TRAP_PF,
                String.format("SIGSEGV (%s 0x%x)", what, address));
    }

    /** An access to a mapped file's page past the end of the file (a shared mapping's or the binary's): SIGBUS. */
    static Fault pastEndOfFile(long address) {
        return new Fault(SIGBUS, BUS_ADRERR, address, TRAP_PF,
                String.format("SIGBUS (access to 0x%x, past the end of a mapped file)", address));
    }

    static Fault interrupt(int intno, long pc) {
        return switch (intno) {
            case TRAP_DE -> new Fault(SIGFPE, FPE_INTDIV, pc, TRAP_DE, "SIGFPE (integer divide error)");
            case TRAP_BP -> new Fault(SIGTRAP, SI_KERNEL, 0, TRAP_BP, "SIGTRAP (breakpoint)");
            case TRAP_UD -> new Fault(SIGILL, ILL_ILLOPN, pc, TRAP_UD, "SIGILL (invalid instruction)");
            default -> new Fault(SIGSEGV, SI_KERNEL, 0, TRAP_GP, "SIGSEGV (CPU exception " + intno + ")");
        };
    }

    /** An error Unicorn returned without a hook seeing it first (an instruction it cannot decode, mostly). */
    static Fault engine(UnicornException e, long pc) {
        if (e.code() == UnicornException.INSN_INVALID) return interrupt(TRAP_UD, pc);
        return new Fault(SIGSEGV, SI_KERNEL, 0, TRAP_GP, "SIGSEGV (" + e.getMessage() + ")");
    }
}
