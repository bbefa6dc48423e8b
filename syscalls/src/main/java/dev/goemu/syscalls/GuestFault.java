package dev.goemu.syscalls;

/** A kernel access to guest memory that is not mapped: the syscall answers -EFAULT. */
public final class GuestFault extends RuntimeException {
    public GuestFault(long address) {
        super(String.format("bad guest address 0x%x", address), null, false, false);
    }
}
