package dev.goemu.emulator;

import dev.goemu.syscalls.AddressSpace;
import dev.goemu.unicorn.Unicorn;

import java.lang.foreign.MemorySegment;

/** Shows the kernel's mappings to the CPU: host memory mapped in place, so both see the same bytes. */
final class UnicornMapper implements AddressSpace.Mapper {
    private final Unicorn cpu;

    UnicornMapper(Unicorn cpu) {
        this.cpu = cpu;
    }

    @Override
    public void map(long guest, long size, int perms, MemorySegment host) {
        cpu.mapPtr(guest, size, perms, host);
    }

    @Override
    public void unmap(long guest, long size) {
        cpu.unmap(guest, size);
    }

    @Override
    public void protect(long guest, long size, int perms) {
        cpu.protect(guest, size, perms);
    }
}
