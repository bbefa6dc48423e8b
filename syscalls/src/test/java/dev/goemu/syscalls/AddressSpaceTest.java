package dev.goemu.syscalls;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.*;

class AddressSpaceTest {
    private final TestKernel tk = new TestKernel();
    private final AddressSpace mem = tk.memory;

    @Test
    void mapFixedOverReservationReusesAndZeroesPages() {
        long base = 0xc000000000L;
        mem.mapFixed(base, 16 * 4096, 0);            // PROT_NONE reservation, as Go's arena hints
        mem.protect(base, 4096, 3);
        mem.writeLong(base, 42);
        assertTrue(mem.mapOnFault(base), "the CPU touches the page");
        assertFalse(mem.mapOnFault(base + 4096), "PROT_NONE is never given to the CPU");
        tk.mapperCalls.clear();
        mem.mapFixed(base, 2 * 4096, 3);             // MAP_FIXED inside the reservation
        assertEquals(0, mem.readLong(base), "fresh mapping reads as zero");
        assertEquals(java.util.List.of("protect c000000000 1000 3"), tk.mapperCalls,
                "no new CPU mapping, only a protection change where the CPU has the pages");
    }

    @Test
    void mapFixedOverAPrivateFileCopyReusesItsPagesAsAnonymousMemory() {
        long base = 0xc000000000L;
        mem.mapFixed(base, 2 * 4096, 3, AddressSpace.Kind.PRIVATE_FILE);
        mem.writeLong(base + 4096, 42);
        assertTrue(mem.mapOnFault(base));
        tk.mapperCalls.clear();
        mem.mapFixed(base + 4096, 4096, 3);
        assertEquals(java.util.List.of("protect c000001000 1000 3"), tk.mapperCalls);
        assertEquals(AddressSpace.Kind.PRIVATE_FILE, mem.kindAt(base));
        assertEquals(AddressSpace.Kind.PRIVATE, mem.kindAt(base + 4096));
        assertEquals(0, mem.readLong(base + 4096));
    }

    @Test
    void partialUnmapLeavesBothEnds() {
        long base = 0x20000000L;
        mem.mapFixed(base, 3 * 4096, 3);
        mem.writeLong(base, 1);
        mem.writeLong(base + 2 * 4096, 3);
        mem.unmap(base + 4096, 4096);
        assertEquals(1, mem.readLong(base));
        assertEquals(3, mem.readLong(base + 2 * 4096));
        assertThrows(GuestFault.class, () -> mem.readLong(base + 4096));
        assertTrue(mem.isFree(base + 4096, 4096));
        assertFalse(mem.isFullyMapped(base, 3 * 4096));
    }

    @Test
    void hintIsHonouredWhenFreeElseAFreeGapBelowTheTop() {
        long hint = 0xc000000000L;
        assertEquals(hint, mem.chooseAddress(hint, 1 << 26));
        mem.mapFixed(hint, 1 << 26, 0);
        long other = mem.chooseAddress(hint, 1 << 26);
        assertNotEquals(hint, other);
        assertTrue(mem.isFree(other, 1 << 26));
        assertTrue(other + (1 << 26) <= AddressSpace.USER_TOP);
    }

    @Test
    void accessesSpanningTwoMappingsAndBounceViews() {
        long base = 0x30000000L;
        mem.mapFixed(base, 4096, 3);
        mem.mapFixed(base + 4096, 4096, 3);          // adjacent, separate host memory
        mem.writeLong(base + 4092, 0x1122334455667788L);
        assertEquals(0x1122334455667788L, mem.readLong(base + 4092));
        try (Arena arena = Arena.ofConfined()) {
            AddressSpace.HostView v = mem.view(base + 4090, 12, AddressSpace.WRITE, arena);
            assertNotNull(v.bounce(), "a range over two host allocations needs a bounce buffer");
            v.bounce().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 11, (byte) 0x7f);
            v.copyBack();
            assertEquals(0x7f, mem.read(base + 4101, 1)[0]);
            assertNull(mem.view(base, 16, AddressSpace.READ, arena).bounce(), "inside one mapping the guest memory is used in place");
        }
    }

    @Test
    void breakGrowsAndShrinks() {
        mem.initBreak(0x50001234L);
        assertEquals(0x50001234L, mem.setBreak(0));
        assertEquals(0x50005000L, mem.setBreak(0x50005000L));
        mem.writeLong(0x50004ff0L, 9);
        assertEquals(0x50002000L, mem.setBreak(0x50002000L));
        assertThrows(GuestFault.class, () -> mem.readLong(0x50004ff0L));
    }

    @Test
    void cStrings() {
        mem.write(TestKernel.SCRATCH, "hello\0world".getBytes());
        assertEquals("hello", mem.readCString(TestKernel.SCRATCH, 100));
        assertEquals("hel", mem.readCString(TestKernel.SCRATCH, 3));
    }
}
