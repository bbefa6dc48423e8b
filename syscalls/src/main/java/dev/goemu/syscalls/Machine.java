package dev.goemu.syscalls;

/** What the kernel needs from the CPU layer (the emulator) while it handles the calling thread's syscall. */
public interface Machine {
    long fsBase();

    void setFsBase(long value);

    long gsBase();

    void setGsBase(long value);

    /** The calling thread's registers, for building a signal frame. */
    Registers registers();

    /**
     * Replaces the calling thread's registers, RIP included, as rt_sigreturn and signal delivery do. During a
     * syscall they take effect when the syscall returns, overriding its result.
     */
    void setRegisters(Registers registers);

    /** The CPU must return to the scheduler once this syscall returns (the caller blocked, yielded, exited or cloned). */
    void stopAfterSyscall();

    /** The guest's clock: the host's unless the CPU layer keeps a virtual one (deterministic mode). */
    default Clock clock() {
        return Clock.HOST;
    }
}
