package dev.goemu.syscalls;

/** What the kernel needs from the CPU layer (the emulator) while it handles the calling thread's syscall. */
public interface Machine {
    long fsBase();

    void setFsBase(long value);

    long gsBase();

    void setGsBase(long value);

    /** The CPU must return to the scheduler once this syscall returns (the caller blocked, yielded, exited or cloned). */
    void stopAfterSyscall();
}
