package dev.goemu.unicorn;

import static dev.goemu.unicorn.Asm.asm;
import static dev.goemu.unicorn.Asm.imm32;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MemoryTest extends EngineTestBase {
    static final long PTR = 0x200000;
    static final long PAGE = 0x1000;

    Arena arena;
    MemorySegment host; // 4 pages backing PTR

    @BeforeEach
    void mapHost() {
        arena = Arena.ofConfined();
        host = arena.allocate(4 * PAGE, PAGE);
        uc.mapPtr(PTR, 4 * PAGE, Perm.ALL, host);
    }

    @AfterEach
    void freeHost() {
        uc.close(); // before the host memory goes away
        arena.close();
    }

    static String loadRax(long addr) {
        return "48 8b 04 25 " + imm32((int) addr); // mov rax, [addr]
    }

    static String storeRbx(long addr) {
        return "48 89 1c 25 " + imm32((int) addr); // mov [addr], rbx
    }

    @Test
    void mapPtrIsSharedBothWays() {
        host.set(JAVA_LONG, 0x100, 0x1122334455667788L);
        uc.setReg(X86.RBX, 0xcafe_f00dL);
        run(asm(
                loadRax(PTR + 0x100),    // mov rax, [0x200100]   ; written by the host
                storeRbx(PTR + 0x200))); // mov [0x200200], rbx   ; seen by the host
        assertEquals(0x1122334455667788L, uc.reg(X86.RAX));
        assertEquals(0xcafe_f00dL, host.get(JAVA_LONG, 0x200));
        // uc_mem_read/write go to the same bytes
        uc.write(PTR + 0x300, RegistersTest.le(42));
        assertEquals(42, host.get(JAVA_LONG, 0x300));
        host.set(JAVA_LONG, 0x308, 43);
        assertArrayEquals(RegistersTest.le(43), uc.read(PTR + 0x308, 8));
        // code in host memory runs
        MemorySegment.copy(asm("48 c7 c0 2a 00 00 00"), 0, host, java.lang.foreign.ValueLayout.JAVA_BYTE, 0x800, 7); // mov rax, 42
        uc.start(PTR + 0x800, PTR + 0x807);
        assertEquals(42, uc.reg(X86.RAX));
        // MemorySegment overloads
        MemorySegment buf = arena.allocate(16);
        uc.read(PTR + 0x100, buf);
        assertEquals(0x1122334455667788L, buf.get(JAVA_LONG, 0));
        buf.set(JAVA_LONG, 8, 77);
        uc.write(PTR + 0x400, buf);
        assertEquals(77, host.get(JAVA_LONG, 0x408));
    }

    @Test
    void partialUnmapOfMapPtrRegion() {
        uc.unmap(PTR + PAGE, PAGE); // hole in the second page
        assertEquals(List.of(new Unicorn.Region(PTR, PTR + PAGE - 1, Perm.ALL),
                new Unicorn.Region(PTR + 2 * PAGE, PTR + 4 * PAGE - 1, Perm.ALL)), regionsFrom(PTR));
        UnicornException e = assertThrows(UnicornException.class, () -> uc.read(PTR + PAGE, 8));
        assertEquals(UnicornException.READ_UNMAPPED, e.code());
        // The remaining pieces are still backed by the same host bytes, at the same offsets.
        host.set(JAVA_LONG, 2 * PAGE + 8, 0x5151);
        uc.setReg(X86.RBX, 0x6262);
        run(asm(
                loadRax(PTR + 2 * PAGE + 8),      // mov rax, [0x202008]
                storeRbx(PTR + 3 * PAGE + 16)));  // mov [0x203010], rbx
        assertEquals(0x5151, uc.reg(X86.RAX));
        assertEquals(0x6262, host.get(JAVA_LONG, 3 * PAGE + 16));
        // A guest access to the hole faults.
        uc.write(CODE, asm(loadRax(PTR + PAGE)));
        e = assertThrows(UnicornException.class, () -> uc.start(CODE, CODE + 8));
        assertEquals(UnicornException.READ_UNMAPPED, e.code());
        // Re-map the hole onto the same host page.
        host.set(JAVA_LONG, PAGE, 0x7373);
        uc.mapPtr(PTR + PAGE, PAGE, Perm.ALL, host.asSlice(PAGE));
        assertEquals(0x7373, run64(loadRax(PTR + PAGE)));
        // Unmap the head and the tail pages, then a range spanning two separately mapped regions.
        uc.unmap(PTR, PAGE);
        uc.unmap(PTR + 3 * PAGE, PAGE);
        assertEquals(List.of(new Unicorn.Region(PTR + PAGE, PTR + 2 * PAGE - 1, Perm.ALL),
                new Unicorn.Region(PTR + 2 * PAGE, PTR + 3 * PAGE - 1, Perm.ALL)), regionsFrom(PTR));
        uc.unmap(PTR + PAGE, 2 * PAGE);
        assertEquals(List.of(), regionsFrom(PTR));
    }

    @Test
    void partialProtectOfMapPtrRegion() {
        List<String> faults = new ArrayList<>();
        uc.onInvalidMemory((type, address, size, value) -> {
            faults.add(MemType.name(type) + "@" + Long.toHexString(address) + "/" + size);
            return false;
        });
        uc.protect(PTR + PAGE, PAGE, Perm.READ);
        assertEquals(List.of(new Unicorn.Region(PTR, PTR + PAGE - 1, Perm.ALL),
                new Unicorn.Region(PTR + PAGE, PTR + 2 * PAGE - 1, Perm.READ),
                new Unicorn.Region(PTR + 2 * PAGE, PTR + 4 * PAGE - 1, Perm.ALL)), regionsFrom(PTR));
        // still shared with the host, readable by the guest
        host.set(JAVA_LONG, PAGE + 8, 0x4242);
        assertEquals(0x4242, run64(loadRax(PTR + PAGE + 8)));
        // guest writes fault
        uc.write(CODE, asm(storeRbx(PTR + PAGE + 16)));
        UnicornException e = assertThrows(UnicornException.class, () -> uc.start(CODE, CODE + 8));
        assertEquals(UnicornException.WRITE_PROT, e.code());
        assertEquals(List.of("WRITE_PROT@201010/8"), faults);
        // the neighbours keep their permissions and backing
        uc.setReg(X86.RBX, 9);
        run(asm(storeRbx(PTR + 2 * PAGE)));
        assertEquals(9, host.get(JAVA_LONG, 2 * PAGE));
        // NONE: reads fault; back to RW: writes land in the host page
        uc.protect(PTR + PAGE, PAGE, Perm.NONE);
        uc.write(CODE, asm(loadRax(PTR + PAGE)));
        e = assertThrows(UnicornException.class, () -> uc.start(CODE, CODE + 8));
        assertEquals(UnicornException.READ_PROT, e.code());
        uc.protect(PTR + PAGE, PAGE, Perm.READ | Perm.WRITE);
        uc.setReg(X86.RBX, 10);
        run(asm(storeRbx(PTR + PAGE + 24)));
        assertEquals(10, host.get(JAVA_LONG, PAGE + 24));
        // not executable: fetch faults
        uc.write(CODE, asm(
                "48 c7 c0 " + imm32((int) (PTR + PAGE)), // mov rax, 0x201000
                "ff e0"));                                // jmp rax
        e = assertThrows(UnicornException.class, () -> uc.start(CODE, CODE + 9));
        assertEquals(UnicornException.FETCH_PROT, e.code());
        assertEquals("FETCH_PROT@201000/1", faults.getLast().replaceAll("/\\d+$", "/1"));
        // protect across two separately mapped regions (a mapPtr one and a Unicorn-owned one)
        uc.map(PTR + 4 * PAGE, PAGE, Perm.ALL);
        uc.protect(PTR + 3 * PAGE, 2 * PAGE, Perm.READ);
        assertEquals(List.of(new Unicorn.Region(PTR + 3 * PAGE, PTR + 4 * PAGE - 1, Perm.READ),
                new Unicorn.Region(PTR + 4 * PAGE, PTR + 5 * PAGE - 1, Perm.READ)),
                regionsFrom(PTR + 3 * PAGE));
        // unaligned: UC_ERR_ARG with a readable message
        e = assertThrows(UnicornException.class, () -> uc.protect(PTR + 0x800, PAGE, Perm.READ));
        assertEquals(UnicornException.ARG, e.code());
        assertEquals("uc_mem_protect(0x200800, 0x1000, r--): Invalid argument (UC_ERR_ARG)", e.getMessage());
    }

    @Test
    void errorMessages() {
        UnicornException e = assertThrows(UnicornException.class, () -> uc.mapPtr(PTR, PAGE, Perm.ALL, host));
        assertEquals(UnicornException.MAP, e.code());
        assertEquals("uc_mem_map_ptr(0x200000, 0x1000, rwx): Invalid memory mapping (UC_ERR_MAP)", e.getMessage());
        e = assertThrows(UnicornException.class, () -> uc.unmap(0x900000, PAGE));
        assertEquals(UnicornException.NOMEM, e.code(), e.getMessage());
        e = assertThrows(UnicornException.class, () -> uc.read(0x900000, 4));
        assertEquals(UnicornException.READ_UNMAPPED, e.code());
        assertThrows(IllegalArgumentException.class, () -> uc.mapPtr(0x900000, PAGE, Perm.ALL, MemorySegment.ofArray(new byte[4096])));
    }

    @Test
    void invalidMemoryHookReportsAddressTypeSizeValue() {
        List<String> faults = new ArrayList<>();
        List<Long> rips = new ArrayList<>();
        uc.onInvalidMemory((type, address, size, value) -> {
            faults.add(MemType.name(type) + " " + Long.toHexString(address) + " " + size + " " + Long.toHexString(value));
            rips.add(uc.reg(X86.RIP));
            return false;
        });
        // read of unmapped memory
        uc.write(CODE, asm("90", loadRax(0x500000))); // nop; mov rax, [0x500000]
        UnicornException e = assertThrows(UnicornException.class, () -> uc.start(CODE, CODE + 9));
        assertEquals(UnicornException.READ_UNMAPPED, e.code());
        assertEquals("READ_UNMAPPED 500000 8 0", faults.getLast());
        assertEquals(CODE + 1, rips.getLast(), "RIP in the hook is the faulting instruction");
        assertEquals(CODE + 1, uc.reg(X86.RIP), "RIP after start() failed");
        // write of unmapped memory, with the value
        uc.setReg(X86.RBX, 0x77);
        uc.write(CODE, asm(storeRbx(0x500008)));
        e = assertThrows(UnicornException.class, () -> uc.start(CODE, CODE + 8));
        assertEquals(UnicornException.WRITE_UNMAPPED, e.code());
        assertEquals("WRITE_UNMAPPED 500008 8 77", faults.getLast());
        // 4-byte write to read-only memory
        uc.map(0x700000, PAGE, Perm.READ);
        uc.write(CODE, asm("89 1c 25 00 00 70 00")); // mov [0x700000], ebx
        e = assertThrows(UnicornException.class, () -> uc.start(CODE, CODE + 7));
        assertEquals(UnicornException.WRITE_PROT, e.code());
        assertEquals("WRITE_PROT 700000 4 77", faults.getLast());
        // fetch from unmapped memory, and from non-executable memory
        uc.write(CODE, asm(
                "48 c7 c0 00 00 60 00", // mov rax, 0x600000
                "ff e0"));              // jmp rax
        e = assertThrows(UnicornException.class, () -> uc.start(CODE, CODE + 9));
        assertEquals(UnicornException.FETCH_UNMAPPED, e.code());
        assertTrue(faults.getLast().startsWith("FETCH_UNMAPPED 600000 "), faults.getLast());
        assertEquals(0x600000, uc.reg(X86.RIP));
        uc.write(CODE, asm(
                "48 c7 c0 " + imm32((int) DATA), // mov rax, DATA (rw-)
                "ff e0"));                       // jmp rax
        e = assertThrows(UnicornException.class, () -> uc.start(CODE, CODE + 9));
        assertEquals(UnicornException.FETCH_PROT, e.code());
        assertTrue(faults.getLast().startsWith("FETCH_PROT 30000 "), faults.getLast());
    }

    @Test
    void invalidMemoryHookCanMapThePageAndRetry() {
        uc.onInvalidMemory((type, address, size, value) -> {
            if (type != MemType.READ_UNMAPPED) return false;
            long page = address & -PAGE;
            uc.map(page, PAGE, Perm.READ | Perm.WRITE);
            uc.write(address, RegistersTest.le(0x99));
            return true;
        });
        assertEquals(0x99, run64(loadRax(0x500010)));
        assertTrue(uc.regions().contains(new Unicorn.Region(0x500000, 0x500fff, Perm.READ | Perm.WRITE)));
    }

    /** Runs one instruction that loads rax, returns rax. */
    long run64(String insn) {
        run(asm(insn));
        return uc.reg(X86.RAX);
    }

    List<Unicorn.Region> regionsFrom(long from) {
        return uc.regions().stream().filter(r -> r.begin() >= from && r.begin() < from + 0x100000).toList();
    }
}
