package dev.goemu.loader;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AuxvTest {
    @TempDir
    Path dir;

    @Test
    void forBinaryHasWhatLinuxGivesAStaticBinary() throws Exception {
        ElfFile elf = ElfFile.read(new TinyElf().write(dir));
        Auxv auxv = Auxv.forBinary(elf, 0, 1000, 1001, 100, 101, 0x178bfbff);
        List<Long> types = auxv.entries().stream().map(e -> e[0]).toList();
        assertEquals(List.of(Auxv.AT_HWCAP, Auxv.AT_PAGESZ, Auxv.AT_CLKTCK, Auxv.AT_PHDR, Auxv.AT_PHENT, Auxv.AT_PHNUM,
                Auxv.AT_BASE, Auxv.AT_FLAGS, Auxv.AT_ENTRY, Auxv.AT_UID, Auxv.AT_EUID, Auxv.AT_GID, Auxv.AT_EGID,
                Auxv.AT_SECURE, Auxv.AT_HWCAP2), types, "create_elf_tables() order, no AT_SYSINFO_EHDR");
        assertEquals(0x178bfbff, auxv.get(Auxv.AT_HWCAP).orElseThrow());
        assertEquals(4096, auxv.get(Auxv.AT_PAGESZ).orElseThrow());
        assertEquals(100, auxv.get(Auxv.AT_CLKTCK).orElseThrow());
        assertEquals(TinyElf.BASE + 0x40, auxv.get(Auxv.AT_PHDR).orElseThrow());
        assertEquals(56, auxv.get(Auxv.AT_PHENT).orElseThrow());
        assertEquals(1, auxv.get(Auxv.AT_PHNUM).orElseThrow());
        assertEquals(0, auxv.get(Auxv.AT_BASE).orElseThrow());
        assertEquals(elf.entry(), auxv.get(Auxv.AT_ENTRY).orElseThrow());
        assertEquals(1000, auxv.get(Auxv.AT_UID).orElseThrow());
        assertEquals(1001, auxv.get(Auxv.AT_EUID).orElseThrow());
        assertEquals(100, auxv.get(Auxv.AT_GID).orElseThrow());
        assertEquals(101, auxv.get(Auxv.AT_EGID).orElseThrow());
        assertEquals(0, auxv.get(Auxv.AT_SECURE).orElseThrow());
        assertTrue(auxv.get(33).isEmpty(), "no vDSO");
    }

    @Test
    void biasMovesAddresses() throws Exception {
        ElfFile elf = ElfFile.read(new TinyElf().u16(16, ElfFile.ET_DYN).u64(24, 0x1000)
                .load(0, ProgramHeader.PF_R | ProgramHeader.PF_X, 0, 0, 0x2000, 0x2000).write(dir));
        Auxv auxv = Auxv.forBinary(elf, 0x555555554000L, 0, 0, 0, 0, 0);
        assertEquals(0x555555554040L, auxv.get(Auxv.AT_PHDR).orElseThrow());
        assertEquals(0x555555555000L, auxv.get(Auxv.AT_ENTRY).orElseThrow());
    }

    @Test
    void putReplacesInPlace() {
        Auxv auxv = new Auxv().put(Auxv.AT_UID, 1).put(Auxv.AT_GID, 2).put(Auxv.AT_UID, 3);
        assertEquals(2, auxv.entries().size());
        assertArrayEquals(new long[] {Auxv.AT_UID, 3}, auxv.entries().get(0));
        assertThrows(IllegalArgumentException.class, () -> auxv.put(Auxv.AT_NULL, 0));
    }
}
