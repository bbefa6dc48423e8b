package dev.goemu.hooks;

import dev.goemu.loader.ElfFile;
import dev.goemu.loader.Section;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Go's own symbol table, read from {@code .gopclntab} alone: function names and ranges, and pc → file:line. The
 * linker keeps this section in binaries built with {@code -ldflags='-s -w'} (the runtime needs it for tracebacks),
 * so this symbolizes binaries that have neither .symtab nor DWARF.
 *
 * <p>Formats (see runtime/symtab.go and debug/gosym/pclntab.go): a header — magic, two zero bytes, the pc quantum,
 * the pointer size, then pointer-sized words giving the function and file counts and the offsets of the tables —
 * followed by the function name table, the compilation-unit table (cutab: per CU, offsets into the file table), the
 * file name table, the pc-value tables and the function table. Go 1.16-1.17 ({@code 0xfffffffb}) store absolute
 * pointer-sized entry PCs in the function table; 1.18+ ({@code 0xfffffff0}, and {@code 0xfffffff1} from 1.20, whose
 * _func gained a startLine) store 32-bit offsets from runtime.text.
 */
public final class GoSymbols {
    public static final int MAGIC_116 = 0xfffffffb, MAGIC_118 = 0xfffffff0, MAGIC_120 = 0xfffffff1;

    private final String version;
    private final ByteBuffer tab;
    private final int quantum;
    private final int ptrSize;
    private final long textStart;
    private final int funcnametab, cutab, filetab, pctab, functab;
    private final int nfunc;
    /** Entry PCs, ascending, with one extra: the end of the last function. */
    private final long[] entries;
    /** Offsets of each function's _func record in the table. */
    private final int[] funcOffsets;
    private final List<GoFunc> functions;
    private Map<String, GoFunc> byName;
    /** Reads the loaded image by virtual address (inline trees live in .rodata), and the go:func.* base; or null. */
    private final ImageReader image;
    private final long gofunc;

    /** Bytes of the loaded image at a virtual address, or null outside it. */
    @FunctionalInterface
    interface ImageReader {
        byte[] read(long vaddr, int length);
    }

    /** A frame as Go's traceback names it: a real function, or a call inlined into one ({@code inlined}). */
    public record Frame(String function, Optional<SourceLine> line, boolean inlined) {}

    private static final int PCDATA_INL_TREE_INDEX = 2, FUNCDATA_INL_TREE = 3;

    private GoSymbols(byte[] data, long textSectionAddr, ImageReader image, long gofunc) {
        this.image = image;
        this.gofunc = gofunc;
        if (data.length < 16) throw new GoFormatException(".gopclntab is too short for a header (" + data.length + " bytes)");
        this.tab = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int magic = tab.getInt(0);
        this.version = switch (magic) {
            case MAGIC_116 -> "1.16";
            case MAGIC_118 -> "1.18";
            case MAGIC_120 -> "1.20";
            default -> throw new GoFormatException(String.format(
                    ".gopclntab magic 0x%08x is not a Go 1.16+ pclntab (0xfffffffb, 0xfffffff0, 0xfffffff1)", magic));
        };
        if (data[4] != 0 || data[5] != 0) throw new GoFormatException(".gopclntab header padding is not zero");
        this.quantum = data[6] & 0xff;
        this.ptrSize = data[7] & 0xff;
        if (ptrSize != 8) throw new GoFormatException(".gopclntab pointer size is " + ptrSize + ", expected 8 (amd64)");
        if (quantum != 1) throw new GoFormatException(".gopclntab pc quantum is " + quantum + ", expected 1 (amd64)");
        int words = magic == MAGIC_116 ? 7 : 8;
        if (data.length < 8 + words * ptrSize) throw new GoFormatException(".gopclntab header is truncated");
        this.nfunc = toInt(word(0), "function count");
        word(1); // nfiles: the file table is reached through cutab, so the count is not needed
        int w = 2;
        if (magic == MAGIC_116) {
            this.textStart = 0;
        } else {
            long header = word(w++);
            // Like debug/gosym, prefer the section address: the header word may be unrelocated (0) in some links.
            this.textStart = header != 0 ? header : textSectionAddr;
        }
        this.funcnametab = offset(word(w++), "funcnametab");
        this.cutab = offset(word(w++), "cutab");
        this.filetab = offset(word(w++), "filetab");
        this.pctab = offset(word(w++), "pctab");
        this.functab = offset(word(w), "functab");

        int field = magic == MAGIC_116 ? ptrSize : 4;
        if ((long) functab + (2L * nfunc + 1) * field > data.length) {
            throw new GoFormatException(".gopclntab function table (" + nfunc + " functions) runs past the section");
        }
        this.entries = new long[nfunc + 1];
        this.funcOffsets = new int[nfunc];
        for (int i = 0; i <= nfunc; i++) {
            int at = functab + 2 * i * field;
            entries[i] = field == 8 ? tab.getLong(at) : textStart + Integer.toUnsignedLong(tab.getInt(at));
            if (i < nfunc) {
                long off = field == 8 ? tab.getLong(at + 8) : Integer.toUnsignedLong(tab.getInt(at + 4));
                funcOffsets[i] = offset(functab + off, "_func of function " + i);
            }
            if (i > 0 && Long.compareUnsigned(entries[i], entries[i - 1]) < 0) {
                throw new GoFormatException(".gopclntab function table is not sorted at entry " + i);
            }
        }
        List<GoFunc> out = new ArrayList<>(nfunc);
        for (int i = 0; i < nfunc; i++) out.add(new GoFunc(name(i), entries[i], entries[i + 1]));
        this.functions = List.copyOf(out);
    }

    /**
     * The Go symbols of {@code elf}; empty if it has no {@code .gopclntab} section (not a Go binary, or a Go
     * binary whose linker put the table elsewhere, as for PIE builds in older releases).
     *
     * @throws GoFormatException if the section is there but not a pclntab this reader understands
     */
    public static Optional<GoSymbols> load(ElfFile elf) {
        Optional<Section> found = elf.section(".gopclntab");
        if (found.isEmpty() || found.get().type() == Section.SHT_NOBITS) return Optional.empty();
        Section s = found.get();
        if (s.size() > Integer.MAX_VALUE) throw new GoFormatException(".gopclntab is too large");
        long text = elf.section(".text").map(Section::addr).orElse(0L);
        byte[] data = elf.bytes(s.offset(), (int) s.size());
        boolean go120 = data.length >= 4 && ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).getInt(0) == MAGIC_120;
        ImageReader image = (vaddr, length) -> elf.bytesAt(vaddr, length).orElse(null);
        return Optional.of(new GoSymbols(data, text, image, GoFuncBase.find(elf, s.addr(), go120)));
    }

    /** Parses a pclntab from its bytes; {@code textStart} is used only if the 1.18+ header's runtime.text is 0. */
    public static GoSymbols parse(byte[] pclntab, long textStart) {
        return new GoSymbols(pclntab, textStart, null, 0);
    }

    /** The earliest Go release of this table format: "1.16" (1.16-1.17), "1.18" (1.18-1.19) or "1.20" (1.20+). */
    public String pclntabVersion() {
        return version;
    }

    /** Every function, in address order. */
    public List<GoFunc> functions() {
        return functions;
    }

    /** The function containing {@code pc}. */
    public Optional<GoFunc> function(long pc) {
        int i = index(pc);
        return i < 0 ? Optional.empty() : Optional.of(functions.get(i));
    }

    /** A function by its full Go name ("main.main", "runtime.rt0_go", "fmt.(*pp).doPrintln"). */
    public Optional<GoFunc> lookup(String name) {
        if (byName == null) {
            Map<String, GoFunc> m = new HashMap<>();
            for (GoFunc f : functions) m.putIfAbsent(f.name(), f);
            byName = m;
        }
        return Optional.ofNullable(byName.get(name));
    }

    /** The source file and line of the instruction at {@code pc} (for inlined code, the inlined body's). */
    public Optional<SourceLine> line(long pc) {
        int i = index(pc);
        if (i < 0) return Optional.empty();
        int f = funcOffsets[i];
        int base = fieldBase(f);
        int pcfile = tab.getInt(base + PCFILE), pcln = tab.getInt(base + PCLN), cuOffset = tab.getInt(base + CU_OFFSET);
        long entry = entries[i];
        Integer fileIndex = pcValue(pcfile, entry, pc);
        Integer line = pcValue(pcln, entry, pc);
        if (fileIndex == null || line == null || fileIndex < 0) return Optional.empty();
        long cuSlot = cutab + 4L * (Integer.toUnsignedLong(cuOffset) + fileIndex);
        if (cuSlot + 4 > tab.capacity()) return Optional.empty();
        int fileOff = tab.getInt((int) cuSlot);
        if (fileOff == -1) return Optional.empty(); // the file is not used by this CU
        String file = cString(filetab + Integer.toUnsignedLong(fileOff));
        return file == null ? Optional.empty() : Optional.of(new SourceLine(file, line));
    }

    /**
     * How far SP is below its value at function entry at {@code pc} (the pcsp table): the return address of the
     * frame is at SP + this. Empty outside known functions.
     */
    public OptionalInt spDelta(long pc) {
        int i = index(pc);
        if (i < 0) return OptionalInt.empty();
        if (pc == entries[i]) return OptionalInt.of(0);
        Integer v = pcValue(tab.getInt(fieldBase(funcOffsets[i]) + PCSP), entries[i], pc);
        return v == null ? OptionalInt.empty() : OptionalInt.of(v);
    }

    /**
     * The frames at {@code pc}, innermost first: the calls inlined there (each with the position inside it), then
     * the real function. Without the inline tree (a parsed table with no image) only the real function is given.
     */
    public List<Frame> frames(long pc) {
        int i = index(pc);
        if (i < 0) return List.of();
        List<Frame> out = new ArrayList<>();
        long at = pc;
        int f = funcOffsets[i];
        long tree = inlineTree(f);
        int idx = tree == 0 ? -1 : inlineIndex(f, entries[i], at);
        int entrySize = version.equals("1.20") ? 16 : 20;
        while (idx >= 0) {
            byte[] call = image.read(tree + (long) idx * entrySize, entrySize);
            if (call == null) break;
            ByteBuffer c = ByteBuffer.wrap(call).order(ByteOrder.LITTLE_ENDIAN);
            // 1.20+: funcID u8, pad[3], nameOff, parentPc, startLine; 1.18: parent i16, funcID, pad, file, line, nameOff, parentPc.
            int nameOff = version.equals("1.20") ? c.getInt(4) : c.getInt(12);
            int parentPc = version.equals("1.20") ? c.getInt(8) : c.getInt(16);
            String name = cString(funcnametab + Integer.toUnsignedLong(nameOff));
            out.add(new Frame(name == null ? "?" : name, line(at), true));
            at = entries[i] + parentPc;
            idx = inlineIndex(f, entries[i], at);
        }
        out.add(new Frame(functions.get(i).name(), line(at), false));
        return out;
    }

    /** A run of instructions [start, end) with one source position. */
    public record LineRange(long start, long end, SourceLine line) {}

    /** The source positions of a function's code, in address order (for FILE:LINE breakpoints and line stepping). */
    public List<LineRange> lineTable(GoFunc function) {
        int i = index(function.entry());
        if (i < 0) return List.of();
        int f = funcOffsets[i];
        int pcln = tab.getInt(fieldBase(f) + PCLN);
        List<LineRange> out = new ArrayList<>();
        if (pcln == 0) return out;
        int[] at = {pctab + pcln};
        long pc = entries[i];
        int value = -1;
        boolean first = true;
        while (at[0] < tab.capacity()) {
            long uvdelta = varint(at);
            if (uvdelta == 0 && !first) break;
            first = false;
            value += (uvdelta & 1) != 0 ? ~(int) (uvdelta >>> 1) : (int) (uvdelta >>> 1);
            long end = pc + varint(at) * quantum;
            long start = pc;
            int lineNo = value;
            line(start).filter(l -> l.line() == lineNo).ifPresent(l -> out.add(new LineRange(start, end, l)));
            pc = end;
        }
        return out;
    }

    /**
     * _func fields after the entry (a pointer in 1.16, a 32-bit offset from 1.18): nameOff, args, deferreturn, pcsp,
     * pcfile, pcln, npcdata, cuOffset.
     */
    private static final int PCSP = 12, PCFILE = 16, PCLN = 20, NPCDATA = 24, CU_OFFSET = 28;

    private int fieldBase(int funcOffset) {
        return funcOffset + (version.equals("1.16") ? 8 : 4);
    }

    /** Where the pcdata offsets start: after cuOffset, (1.20+) startLine, and funcID, flag, pad, nfuncdata. */
    private int pcdataArray(int funcOffset) {
        return funcOffset + (version.equals("1.20") ? 44 : 40);
    }

    /** The address of a function's inline tree (FUNCDATA_InlTree), or 0 if it has none or it can't be found. */
    private long inlineTree(int f) {
        if (image == null || gofunc == 0 || version.equals("1.16")) return 0;
        int npcdata = tab.getInt(fieldBase(f) + NPCDATA);
        int nfuncdata = tab.get(pcdataArray(f) - 1) & 0xff; // the last byte of the fixed part
        if (nfuncdata <= FUNCDATA_INL_TREE) return 0;
        long off = Integer.toUnsignedLong(tab.getInt(pcdataArray(f) + 4 * npcdata + 4 * FUNCDATA_INL_TREE));
        return off == 0xffffffffL ? 0 : gofunc + off;
    }

    private int inlineIndex(int f, long entry, long pc) {
        int npcdata = tab.getInt(fieldBase(f) + NPCDATA);
        if (npcdata <= PCDATA_INL_TREE_INDEX) return -1;
        Integer v = pcValue(tab.getInt(pcdataArray(f) + 4 * PCDATA_INL_TREE_INDEX), entry, pc);
        return v == null ? -1 : v;
    }

    private int index(long pc) {
        if (nfunc == 0 || Long.compareUnsigned(pc, entries[0]) < 0 || Long.compareUnsigned(pc, entries[nfunc]) >= 0) {
            return -1;
        }
        int i = Arrays.binarySearch(entries, pc);
        if (i < 0) i = -i - 2;
        // Several entries can share an address only for zero-sized functions: take the last, which has code.
        while (i + 1 < nfunc && entries[i + 1] == pc) i++;
        return i;
    }

    private String name(int i) {
        int nameOff = tab.getInt(funcOffsets[i] + (version.equals("1.16") ? 8 : 4));
        String name = cString(funcnametab + Integer.toUnsignedLong(nameOff));
        return name == null ? "?" : name;
    }

    /**
     * The value that the pc-value table at {@code pctab + off} gives {@code target}, or null if the table has none
     * (off 0 means no table). The table is pairs of varints: a zig-zag value delta, then a pc delta in quanta; each
     * value holds from the previous pc up to (not including) the new one; a zero value delta after the first pair
     * ends it.
     */
    private Integer pcValue(int off, long entry, long target) {
        if (off == 0) return null;
        int[] at = {pctab + off};
        if (at[0] < 0 || at[0] >= tab.capacity()) return null;
        long pc = entry;
        int value = -1;
        boolean first = true;
        while (at[0] < tab.capacity()) {
            long uvdelta = varint(at);
            if (uvdelta == 0 && !first) return null;
            first = false;
            int vdelta = (uvdelta & 1) != 0 ? ~(int) (uvdelta >>> 1) : (int) (uvdelta >>> 1);
            value += vdelta;
            long pcdelta = varint(at);
            pc += pcdelta * quantum;
            if (Long.compareUnsigned(target, pc) < 0) return value;
        }
        return null;
    }

    private long varint(int[] at) {
        long result = 0;
        for (int shift = 0; shift < 64 && at[0] < tab.capacity(); shift += 7) {
            int b = tab.get(at[0]++) & 0xff;
            result |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) return result;
        }
        return result;
    }

    private long word(int i) {
        return tab.getLong(8 + i * ptrSize);
    }

    private int offset(long value, String what) {
        if (value < 0 || value >= tab.capacity()) {
            throw new GoFormatException(String.format(".gopclntab %s offset 0x%x lies outside the section", what, value));
        }
        return (int) value;
    }

    private static int toInt(long value, String what) {
        if (value < 0 || value > Integer.MAX_VALUE / 4) throw new GoFormatException(".gopclntab " + what + " " + value + " is implausible");
        return (int) value;
    }

    private String cString(long at) {
        if (at < 0 || at >= tab.capacity()) return null;
        byte[] a = tab.array();
        int from = (int) at, end = from;
        while (end < a.length && a[end] != 0) end++;
        return new String(a, from, end - from, StandardCharsets.UTF_8);
    }
}
