package dev.goemu.loader;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import static dev.goemu.loader.ProgramHeader.PT_DYNAMIC;
import static dev.goemu.loader.ProgramHeader.PT_INTERP;
import static dev.goemu.loader.ProgramHeader.PT_LOAD;
import static dev.goemu.loader.ProgramHeader.PT_PHDR;

/**
 * A 64-bit little-endian x86-64 ELF executable, read whole into memory (Go binaries are a few megabytes) and
 * validated up front, so every offset and size it hands out lies inside the file and every segment below 2^47.
 */
public final class ElfFile {
    public static final int ET_REL = 1, ET_EXEC = 2, ET_DYN = 3, ET_CORE = 4;
    public static final int EM_X86_64 = 62;
    public static final long PAGE_SIZE = 4096;
    /** Linux's user address space ends here, and Go packs pointers into 47 bits (its lock-free stacks). */
    public static final long USER_LIMIT = 1L << 47;

    private static final int EHDR_SIZE = 64, PHDR_SIZE = 56, SHDR_SIZE = 64, SYM_SIZE = 24, DYN_SIZE = 16;
    private static final long DT_NULL = 0, DT_NEEDED = 1, DT_STRTAB = 5;
    private static final String STATIC_ONLY = "goemu runs static binaries only (build with CGO_ENABLED=0)";

    private final Path path;
    private final byte[] data;
    private final ByteBuffer le;
    private final int type;
    private final long entry;
    private final long phoff;
    private final int phnum;
    private final List<ProgramHeader> programHeaders;
    private final List<Section> sections;
    private final Optional<String> interpreter;
    private final List<String> neededLibraries;
    /** {@code loadSegments(0)}: the layout does not depend on the (page-aligned) bias. */
    private final List<LoadSegment> layout;
    /** Read on first use: only diagnostics need symbols. */
    private SymbolTable symbols;

    /** Reads and validates {@code path}; the exception's message says what is wrong in one line. */
    public static ElfFile read(Path path) throws BadBinaryException {
        if (!Files.exists(path)) throw new BadBinaryException("no such file: " + path);
        if (Files.isDirectory(path)) throw new BadBinaryException(path + ": is a directory");
        // Like execve: devices and fifos are not programs (and /dev/zero would never end).
        if (!Files.isRegularFile(path)) throw new BadBinaryException(path + ": not a regular file");
        byte[] data;
        try {
            long size = Files.size(path);
            if (size > Integer.MAX_VALUE - 8) throw new BadBinaryException(path + ": too large (" + size + " bytes)");
            data = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw new BadBinaryException("no such file: " + path);
        } catch (AccessDeniedException e) {
            throw new BadBinaryException(path + ": permission denied");
        } catch (IOException e) {
            throw new BadBinaryException(path + ": cannot read: " + e.getMessage());
        }
        return new ElfFile(path, data);
    }

    private ElfFile(Path path, byte[] data) throws BadBinaryException {
        this.path = path;
        this.data = data;
        this.le = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        checkIdent();
        int machine = u16(18);
        if (machine != EM_X86_64) {
            throw bad("ELF for %s (machine %d), goemu runs x86-64 only", machineName(machine), machine);
        }
        if (u32(20) != 1) throw bad("unsupported ELF version %d (expected 1)", u32(20));
        this.type = u16(16);
        switch (type) {
            case ET_EXEC, ET_DYN -> { }
            case ET_REL -> throw bad("relocatable object file (ET_REL), not an executable");
            case ET_CORE -> throw bad("core dump (ET_CORE), not an executable");
            default -> throw bad("unsupported ELF type %d (expected ET_EXEC or ET_DYN)", type);
        }
        this.entry = u64(24);
        this.phoff = u64(32);
        this.phnum = u16(56);
        this.programHeaders = readProgramHeaders();
        this.sections = readSections();
        this.interpreter = programHeaders.stream().filter(ph -> ph.type() == PT_INTERP).findFirst()
                .map(ph -> Objects.requireNonNullElse(cString(ph.offset(), ph.filesz(), 0), ""));
        this.neededLibraries = readNeededLibraries();
        this.layout = layOut();
    }

    private void checkIdent() throws BadBinaryException {
        if (data.length == 0) throw bad("not an ELF file (empty file)");
        if (data.length >= 2 && data[0] == '#' && data[1] == '!') throw bad("not an ELF file (a #! script)");
        if (data.length < 4 || data[0] != 0x7f || data[1] != 'E' || data[2] != 'L' || data[3] != 'F') {
            throw bad("not an ELF file (bad magic)");
        }
        if (data.length < 16) throw truncatedHeader();
        switch (data[4]) {
            case 2 -> { }
            case 1 -> throw bad("32-bit ELF (ELFCLASS32); goemu runs 64-bit x86-64 binaries only");
            default -> throw bad("bad ELF class %d (expected 2, ELFCLASS64)", data[4] & 0xff);
        }
        switch (data[5]) {
            case 1 -> { }
            case 2 -> throw bad("big-endian ELF; goemu runs little-endian x86-64 binaries only");
            default -> throw bad("bad ELF data encoding %d (expected 1, little-endian)", data[5] & 0xff);
        }
        if (data[6] != 1) throw bad("unsupported ELF version %d (expected 1)", data[6] & 0xff);
        if (data.length < EHDR_SIZE) throw truncatedHeader();
    }

    private BadBinaryException truncatedHeader() {
        return bad("truncated ELF: the file is %d bytes, shorter than the 64-byte ELF header", data.length);
    }

    private static String machineName(int machine) {
        return switch (machine) {
            case 2 -> "SPARC";
            case 3 -> "Intel 80386";
            case 8 -> "MIPS";
            case 20 -> "PowerPC";
            case 21 -> "PowerPC64";
            case 22 -> "IBM S/390";
            case 40 -> "ARM";
            case 43 -> "SPARC v9";
            case 183 -> "ARM aarch64";
            case 243 -> "RISC-V";
            case 258 -> "LoongArch";
            default -> "an unknown machine";
        };
    }

    private List<ProgramHeader> readProgramHeaders() throws BadBinaryException {
        if (phnum == 0) throw bad("no program headers, so nothing to load");
        if (u16(54) != PHDR_SIZE) throw bad("program header size is %d bytes, expected %d", u16(54), PHDR_SIZE);
        if (!fits(phoff, 0) || phoff == data.length) {
            throw bad("truncated ELF: program headers start at 0x%x, past the end of the file (%d bytes)",
                    phoff, data.length);
        }
        List<ProgramHeader> out = new ArrayList<>(phnum);
        int lastLoad = -1;
        for (int i = 0; i < phnum; i++) {
            long at = phoff + (long) i * PHDR_SIZE;
            if (!fits(at, PHDR_SIZE)) throw bad("truncated ELF: program header %d lies past the end of the file", i);
            ProgramHeader ph = new ProgramHeader(i32(at), i32(at + 4), u64(at + 8), u64(at + 16), u64(at + 24),
                    u64(at + 32), u64(at + 40), u64(at + 48));
            checkSegment(i, ph);
            if (ph.type() == PT_LOAD) {
                // Sorted and disjoint, as the ELF spec requires: the page layout relies on it.
                if (lastLoad >= 0) {
                    ProgramHeader prev = out.get(lastLoad);
                    if (ph.vaddr() < prev.vaddr() + prev.memsz()) {
                        throw bad("segment %d (LOAD) at 0x%x overlaps or comes before segment %d (LOAD), which ends at 0x%x",
                                i, ph.vaddr(), lastLoad, prev.vaddr() + prev.memsz());
                    }
                }
                lastLoad = i;
            }
            out.add(ph);
        }
        if (lastLoad < 0) throw bad("no loadable segments (PT_LOAD), so nothing to run");
        return List.copyOf(out);
    }

    private void checkSegment(int i, ProgramHeader ph) throws BadBinaryException {
        String what = "segment " + i + " (" + ph.typeName() + ")";
        if (ph.filesz() != 0 && !fits(ph.offset(), ph.filesz())) {
            throw bad("truncated ELF: %s at file offset 0x%x + 0x%x bytes lies past the end of the file (%d bytes)",
                    what, ph.offset(), ph.filesz(), data.length);
        }
        if (Long.bitCount(ph.align()) > 1) throw bad("%s: alignment 0x%x is not a power of two", what, ph.align());
        if (ph.type() != PT_LOAD) return;
        if (Long.compareUnsigned(ph.filesz(), ph.memsz()) > 0) {
            throw bad("%s: file size 0x%x is larger than its memory size 0x%x", what, ph.filesz(), ph.memsz());
        }
        if (Long.compareUnsigned(ph.align(), 1) > 0 && ((ph.vaddr() - ph.offset()) & (ph.align() - 1)) != 0) {
            throw bad("%s: address 0x%x and file offset 0x%x differ modulo its alignment 0x%x",
                    what, ph.vaddr(), ph.offset(), ph.align());
        }
        if (Long.compareUnsigned(ph.vaddr(), USER_LIMIT) > 0 || Long.compareUnsigned(ph.memsz(), USER_LIMIT - ph.vaddr()) > 0) {
            throw bad("%s at 0x%x + 0x%x bytes ends above 0x%x, the top of the 47-bit user address space",
                    what, ph.vaddr(), ph.memsz(), USER_LIMIT);
        }
    }

    private List<Section> readSections() throws BadBinaryException {
        long shoff = u64(40);
        int shnum = u16(60), shstrndx = u16(62);
        if (shoff == 0 || shnum == 0) return List.of();
        if (u16(58) != SHDR_SIZE) throw bad("section header size is %d bytes, expected %d", u16(58), SHDR_SIZE);
        if (!fits(shoff, 0) || shoff == data.length) {
            throw bad("truncated ELF: section headers start at 0x%x, past the end of the file (%d bytes)",
                    shoff, data.length);
        }
        if (shstrndx >= shnum) throw bad("section name table index %d is out of range (%d sections)", shstrndx, shnum);
        long[] at = new long[shnum];
        for (int i = 0; i < shnum; i++) {
            at[i] = shoff + (long) i * SHDR_SIZE;
            if (!fits(at[i], SHDR_SIZE)) throw bad("truncated ELF: section header %d lies past the end of the file", i);
            int type = i32(at[i] + 4);
            long offset = u64(at[i] + 24), size = u64(at[i] + 32);
            if (type != Section.SHT_NOBITS && type != Section.SHT_NULL && size != 0 && !fits(offset, size)) {
                throw bad("truncated ELF: section %d at file offset 0x%x + 0x%x bytes lies past the end of the file (%d bytes)",
                        i, offset, size, data.length);
            }
        }
        long namesOffset = u64(at[shstrndx] + 24), namesSize = u64(at[shstrndx] + 32);
        List<Section> out = new ArrayList<>(shnum);
        for (int i = 0; i < shnum; i++) {
            long h = at[i];
            String name = shstrndx == 0 ? "" : cString(namesOffset, namesSize, u32(h));
            if (name == null) throw bad("section %d: its name lies outside the section name table", i);
            out.add(new Section(i, name, i32(h + 4), u64(h + 8), u64(h + 16), u64(h + 24), u64(h + 32),
                    i32(h + 40), i32(h + 44), u64(h + 48), u64(h + 56)));
        }
        return List.copyOf(out);
    }

    /** The DT_NEEDED names of PT_DYNAMIC, found through DT_STRTAB (an address, so through the PT_LOADs). */
    private List<String> readNeededLibraries() {
        List<Long> nameOffsets = new ArrayList<>();
        long strtabVaddr = -1;
        for (ProgramHeader ph : programHeaders) {
            if (ph.type() != PT_DYNAMIC) continue;
            for (long at = ph.offset(); at + DYN_SIZE <= ph.offset() + ph.filesz(); at += DYN_SIZE) {
                long tag = u64(at), value = u64(at + 8);
                if (tag == DT_NULL) break;
                if (tag == DT_NEEDED) nameOffsets.add(value);
                if (tag == DT_STRTAB) strtabVaddr = value;
            }
        }
        if (nameOffsets.isEmpty()) return List.of();
        long strtab = -1; // stays so if DT_STRTAB is missing or not in the file
        for (ProgramHeader ph : programHeaders) {
            if (ph.type() == PT_LOAD && Long.compareUnsigned(strtabVaddr - ph.vaddr(), ph.filesz()) < 0) {
                strtab = ph.offset() + (strtabVaddr - ph.vaddr());
            }
        }
        List<String> out = new ArrayList<>();
        for (long nameOffset : nameOffsets) {
            String name = strtab < 0 ? null : cString(strtab, data.length - strtab, nameOffset);
            out.add(name == null ? "an unnamed library" : name);
        }
        return List.copyOf(out);
    }

    /** {@code loadSegments(0)}; see {@link LoadSegment} for what happens to a page that two PT_LOADs share. */
    private List<LoadSegment> layOut() throws BadBinaryException {
        List<Mapping> out = new ArrayList<>();
        for (ProgramHeader ph : programHeaders) {
            if (ph.type() != PT_LOAD || ph.memsz() == 0) continue;
            long start = pageDown(ph.vaddr()), end = pageUp(ph.vaddr() + ph.memsz());
            ProgramHeader copy = ph.filesz() != 0 ? ph : null;
            Mapping last = out.isEmpty() ? null : out.getLast();
            if (last != null && start < last.end) {
                // Segments are sorted and disjoint, so only last's final page (== start) can be shared.
                Mapping shared = last;
                if (last.start < start) {
                    shared = new Mapping(start, last.end, last.perms, null);
                    last.end = start;
                    if (last.copy != null && last.copy.vaddr() + last.copy.filesz() > start) {
                        shared.copy = last.copy;
                        last.copy = null;
                    }
                    out.add(shared);
                }
                shared.perms |= ph.perms();
                start = shared.end;
                if (start == end) { // the whole segment lies in the shared page
                    if (copy != null && shared.copy != null) {
                        throw bad("segments %d and %d (LOAD) both have file data in the page at 0x%x; goemu cannot load that layout",
                                programHeaders.indexOf(shared.copy), programHeaders.indexOf(ph), shared.start);
                    }
                    if (copy != null) shared.copy = copy;
                    continue;
                }
            }
            out.add(new Mapping(start, end, ph.perms(), copy));
        }
        if (out.isEmpty()) throw bad("no loadable segments (every PT_LOAD is empty), so nothing to run");
        return out.stream().map(Mapping::segment).toList();
    }

    /** A page range being laid out; mutable because a later segment can take over its last page. */
    private static final class Mapping {
        final long start;
        long end;
        int perms;
        ProgramHeader copy;

        Mapping(long start, long end, int perms, ProgramHeader copy) {
            this.start = start;
            this.end = end;
            this.perms = perms;
            this.copy = copy;
        }

        LoadSegment segment() {
            return copy == null
                    ? new LoadSegment(start, end, perms, 0, 0, start)
                    : new LoadSegment(start, end, perms, copy.offset(), copy.filesz(), copy.vaddr());
        }
    }

    public Path path() {
        return path;
    }

    public long entry() {
        return entry;
    }

    /** {@link #ET_EXEC} or {@link #ET_DYN}. */
    public int type() {
        return type;
    }

    public List<ProgramHeader> programHeaders() {
        return programHeaders;
    }

    /** The sections, named from the section name table; empty if the file has no section headers. */
    public List<Section> sections() {
        return sections;
    }

    public Optional<Section> section(String name) {
        return sections.stream().filter(s -> s.name().equals(name)).findFirst();
    }

    /** The PT_INTERP path (the dynamic loader), if there is one. */
    public Optional<String> interpreter() {
        return interpreter;
    }

    /** No dynamic loader and no shared libraries: goemu can run it. */
    public boolean isStatic() {
        return interpreter.isEmpty() && neededLibraries.isEmpty();
    }

    public void requireStaticExecutable() throws BadBinaryException {
        if (interpreter.isPresent()) throw bad("dynamically linked (interpreter %s); %s", interpreter.get(), STATIC_ONLY);
        if (!neededLibraries.isEmpty()) {
            throw bad("dynamically linked (needs %s); %s", String.join(", ", neededLibraries), STATIC_ONLY);
        }
    }

    /**
     * The unbiased address of the program headers in memory, for AT_PHDR: PT_PHDR's, else computed from the
     * PT_LOAD that contains them in the file, else 0 (then Linux passes the bias alone, as this does).
     */
    public long phdrVaddr() {
        for (ProgramHeader ph : programHeaders) {
            if (ph.type() == PT_PHDR) return ph.vaddr();
        }
        for (ProgramHeader ph : programHeaders) {
            if (ph.type() == PT_LOAD && phoff >= ph.offset() && phoff - ph.offset() < ph.filesz()) {
                return ph.vaddr() + (phoff - ph.offset());
            }
        }
        return 0;
    }

    /** For AT_PHENT; always 56, since read() rejects any other size. */
    public int phentsize() {
        return PHDR_SIZE;
    }

    public int phnum() {
        return phnum;
    }

    /** A copy of {@code length} bytes of the file from {@code offset}. */
    public byte[] bytes(long offset, int length) {
        Objects.checkFromIndexSize(offset, length, data.length);
        return Arrays.copyOfRange(data, (int) offset, (int) offset + length);
    }

    /**
     * The {@code length} bytes a freshly loaded image holds at virtual address {@code vaddr} (bias 0): file data, or
     * zeros for bss. Empty if the range is not all inside PT_LOAD segments.
     */
    public Optional<byte[]> bytesAt(long vaddr, int length) {
        byte[] out = new byte[length];
        long done = 0;
        while (done < length) {
            long at = vaddr + done;
            ProgramHeader ph = programHeaders().stream()
                    .filter(p -> p.type() == ProgramHeader.PT_LOAD && at >= p.vaddr() && at < p.vaddr() + p.memsz())
                    .findFirst().orElse(null);
            if (ph == null) return Optional.empty();
            long n = Math.min(length - done, ph.vaddr() + ph.memsz() - at);
            long inFile = Math.max(0, Math.min(n, ph.vaddr() + ph.filesz() - at));
            if (inFile > 0) System.arraycopy(data, (int) (ph.offset() + at - ph.vaddr()), out, (int) done, (int) inFile);
            done += n;
        }
        return Optional.of(out);
    }

    /**
     * The mappings for the PT_LOAD segments loaded at {@code bias} (0 for ET_EXEC; a page-aligned base for
     * ET_DYN), sorted by address. See {@link LoadSegment} for how to apply them.
     */
    public List<LoadSegment> loadSegments(long bias) {
        checkBias(bias);
        if (bias == 0) return layout;
        return layout.stream().map(s -> new LoadSegment(s.start() + bias, s.end() + bias, s.perms(), s.fileOffset(),
                s.fileSize(), s.vaddr() + bias)).toList();
    }

    /** The initial program break: the page-aligned end of the highest PT_LOAD, bss included. */
    public long programBreak(long bias) {
        checkBias(bias);
        return bias + layout.getLast().end();
    }

    private void checkBias(long bias) {
        if (bias < 0 || (bias & (PAGE_SIZE - 1)) != 0 || bias > USER_LIMIT - layout.getLast().end()) {
            throw new IllegalArgumentException(String.format(
                    "load bias 0x%x must be page-aligned and keep %s below 0x%x", bias, path, USER_LIMIT));
        }
    }

    /** The functions and objects of .symtab; an empty table if the binary is stripped. */
    public SymbolTable symbols() {
        if (symbols == null) symbols = readSymbols();
        return symbols;
    }

    private SymbolTable readSymbols() {
        List<Symbol> out = new ArrayList<>();
        Optional<Section> found = sections.stream().filter(s -> s.type() == Section.SHT_SYMTAB).findFirst();
        if (found.isPresent() && found.get().link() >= 0 && found.get().link() < sections.size()) {
            Section symtab = found.get(), strtab = sections.get(symtab.link());
            long end = symtab.offset() + symtab.size();
            // Entry 0 is the reserved null symbol. A malformed entry only loses its name: symbols are diagnostics.
            for (long at = symtab.offset() + SYM_SIZE; at + SYM_SIZE <= end; at += SYM_SIZE) {
                int kind = data[(int) at + 4] & 0xf, shndx = u16(at + 6);
                if (shndx == 0 || kind == Symbol.STT_SECTION || kind == Symbol.STT_FILE) continue; // undefined or no address
                String name = cString(strtab.offset(), strtab.size(), u32(at));
                if (name != null && !name.isEmpty()) out.add(new Symbol(name, u64(at + 8), u64(at + 16), kind));
            }
        }
        return SymbolTable.of(out);
    }

    /** Whether {@code [offset, offset+length)} lies inside the file; both are unsigned ELF values. */
    private boolean fits(long offset, long length) {
        return offset >= 0 && length >= 0 && offset <= data.length - length;
    }

    /** The NUL-terminated string at {@code index} in a region of the file, or null if it is not inside both. */
    private String cString(long regionOffset, long regionSize, long index) {
        if (!fits(regionOffset, regionSize) || index < 0 || index >= regionSize) return null;
        int from = (int) (regionOffset + index), limit = (int) (regionOffset + regionSize), end = from;
        while (end < limit && data[end] != 0) end++;
        return new String(data, from, end - from, StandardCharsets.UTF_8);
    }

    private int u16(long at) {
        return le.getShort((int) at) & 0xffff;
    }

    private int i32(long at) {
        return le.getInt((int) at);
    }

    private long u32(long at) {
        return Integer.toUnsignedLong(le.getInt((int) at));
    }

    private long u64(long at) {
        return le.getLong((int) at);
    }

    private static long pageDown(long address) {
        return address & -PAGE_SIZE;
    }

    private static long pageUp(long address) {
        return (address + PAGE_SIZE - 1) & -PAGE_SIZE;
    }

    private BadBinaryException bad(String format, Object... args) {
        return new BadBinaryException(path + ": " + String.format(format, args));
    }
}
