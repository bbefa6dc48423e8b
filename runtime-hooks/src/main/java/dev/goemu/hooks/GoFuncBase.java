package dev.goemu.hooks;

import dev.goemu.loader.ElfFile;
import dev.goemu.loader.Section;
import dev.goemu.loader.Symbol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;

/**
 * Finds {@code go:func.*}, the base that Go 1.18+ funcdata offsets (inline trees) are relative to: the symbol when
 * .symtab survives, else {@code runtime.firstmoduledata.gofunc}, found as the data word that points at .gopclntab
 * (moduledata starts with its pcHeader) and checked against the moduledata's own text address.
 */
final class GoFuncBase {
    /**
     * Offsets in moduledata (runtime/symtab.go): text, and gofunc: 1.18-1.19; 1.20-1.26 (covctrs added); 1.27
     * (typedesclen, itaboffset, itabsize added). The slot after a 1.27 gofunc holds a small length in 1.20-1.26.
     */
    private static final int TEXT = 22 * 8, GOFUNC_118 = 38 * 8, GOFUNC_120 = 40 * 8, GOFUNC_127 = 43 * 8;

    private GoFuncBase() {}

    /** The go:func.* address, or 0 if neither way finds it (inline frames are then left out). */
    static long find(ElfFile elf, long pclntabAddr, boolean go120) {
        for (String name : new String[] {"go:func.*", "go.func.*"}) {
            Optional<Symbol> s = elf.symbols().lookup(name);
            if (s.isPresent()) return s.get().value();
        }
        return fromModuledata(elf, pclntabAddr, go120);
    }

    /** runtime.firstmoduledata.gofunc, for binaries without .symtab. */
    static long fromModuledata(ElfFile elf, long pclntabAddr, boolean go120) {
        long text = elf.section(".text").map(Section::addr).orElse(0L);
        for (Section s : elf.sections()) {
            // Go 1.26 gives moduledata a section of its own; earlier releases keep it in .noptrdata.
            boolean candidate = s.name().equals(".go.module") || s.name().equals(".noptrdata");
            if (!candidate || s.type() == Section.SHT_NOBITS || s.size() > Integer.MAX_VALUE) continue;
            ByteBuffer data = ByteBuffer.wrap(elf.bytes(s.offset(), (int) s.size())).order(ByteOrder.LITTLE_ENDIAN);
            int[] slots = go120 ? new int[] {GOFUNC_127, GOFUNC_120} : new int[] {GOFUNC_118};
            for (int at = 0; at + GOFUNC_127 + 8 <= data.capacity(); at += 8) {
                if (data.getLong(at) != pclntabAddr || data.getLong(at + TEXT) != text) continue;
                for (int slot : slots) {
                    long gofunc = data.getLong(at + slot);
                    if (isReadOnlyData(elf, gofunc)) return gofunc;
                }
                return 0;
            }
        }
        return 0;
    }

    /** go:func.* is read-only data: in .rodata, or (Go 1.26) inside .gopclntab. */
    private static boolean isReadOnlyData(ElfFile elf, long addr) {
        return elf.sections().stream().anyMatch(s -> (s.flags() & Section.SHF_ALLOC) != 0
                && (s.flags() & (Section.SHF_WRITE | Section.SHF_EXECINSTR)) == 0
                && addr >= s.addr() && addr < s.addr() + s.size());
    }
}
