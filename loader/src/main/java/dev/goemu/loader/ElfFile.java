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
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

import static dev.goemu.loader.ProgramHeader.PT_DYNAMIC;
import static dev.goemu.loader.ProgramHeader.PT_INTERP;
import static dev.goemu.loader.ProgramHeader.PT_LOAD;

/**
 * An x86-64 ELF executable, read whole into memory (Go binaries are a few megabytes). It accepts what Linux's
 * {@code load_elf_binary} accepts and refuses, with {@link BadBinaryException}, what makes execve fail: the ELF
 * magic, e_type, e_machine, e_phentsize, the number of program headers and that they are in the file, and a
 * well-formed PT_INTERP. Everything else Linux ignores is ignored too: the other ident bytes (class, data
 * encoding, versions, OS ABI), e_version, e_ehsize, p_align, and the section headers, which are only read, leniently,
 * for symbols ({@link #sectionsProblem()} says why there are none).
 *
 * <p>Segments are laid out as Linux maps them ({@link #loadSegments}). What Linux refuses only after the point of
 * no return of execve, when the old program is gone (a segment above the user address space, a file offset that
 * cannot be mapped, a file size above the memory size, an entry point above the user address space), does not
 * refuse the file: {@link #execFailure()} says why the new process is killed with SIGSEGV.
 */
public final class ElfFile {
    public static final int ET_REL = 1, ET_EXEC = 2, ET_DYN = 3, ET_CORE = 4;
    public static final int EM_X86_64 = 62;
    public static final long PAGE_SIZE = 4096;
    /** Linux's user address space ends here, and Go packs pointers into 47 bits (its lock-free stacks). */
    public static final long USER_LIMIT = 1L << 47;
    /** Linux's TASK_SIZE on x86-64: the last page below 2^47 is never mapped. */
    public static final long TASK_SIZE = USER_LIMIT - PAGE_SIZE;

    private static final int EHDR_SIZE = 64, PHDR_SIZE = 56, SHDR_SIZE = 64, SYM_SIZE = 24, DYN_SIZE = 16;
    /** Linux reads at most one page of program headers (ELF_MIN_ALIGN): 73 headers. */
    private static final int MAX_PHDR_BYTES = 4096;
    /** PATH_MAX: Linux refuses a longer PT_INTERP. */
    private static final int MAX_INTERP = 4096;
    private static final long DT_NULL = 0, DT_NEEDED = 1, DT_STRTAB = 5;
    private static final String STATIC_ONLY = "goemu runs static binaries only (build with CGO_ENABLED=0)";

    private final Path path;
    private final byte[] data;
    private final ByteBuffer le;
    /** The first 64 bytes, zero-padded like the buffer Linux reads a file's start into. */
    private final ByteBuffer header;
    private final int type;
    private final long entry;
    private final long phoff;
    private final int phnum;
    private final List<ProgramHeader> programHeaders;
    private final List<Section> sections;
    private final Optional<String> sectionsProblem;
    private final Optional<String> interpreter;
    private final List<String> neededLibraries;
    /** {@code loadSegments(0)}: the layout does not depend on the (page-aligned) bias. */
    private final List<LoadSegment> layout;
    /** The end of the highest PT_LOAD (Linux's elf_brk), 0 if there is none. */
    private final long imageEnd;
    private final Optional<String> execFailure;
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
        this.header = ByteBuffer.wrap(Arrays.copyOf(data, EHDR_SIZE)).order(ByteOrder.LITTLE_ENDIAN);
        checkMagic();
        this.type = header.getShort(16) & 0xffff;
        switch (type) {
            case ET_EXEC, ET_DYN -> { }
            case ET_REL -> throw badHeader("relocatable object file (ET_REL), not an executable");
            case ET_CORE -> throw badHeader("core dump (ET_CORE), not an executable");
            default -> throw badHeader("unsupported ELF type %d (expected ET_EXEC or ET_DYN)", type);
        }
        int machine = header.getShort(18) & 0xffff;
        if (machine != EM_X86_64) {
            // Linux looks at no ident byte but the magic; the class and byte order only make the message clearer.
            boolean bigEndian = header.get(5) == 2;
            if (bigEndian) machine = Short.reverseBytes((short) machine) & 0xffff;
            throw badHeader("ELF for %s (machine %d%s), goemu runs x86-64 only", machineName(machine), machine,
                    header.get(4) == 1 ? ", 32-bit" : bigEndian ? ", big-endian" : "");
        }
        this.entry = header.getLong(24);
        this.phoff = header.getLong(32);
        this.phnum = header.getShort(56) & 0xffff;
        this.programHeaders = readProgramHeaders();
        this.interpreter = readInterpreter();
        SectionTable table = readSections();
        this.sections = table.sections();
        this.sectionsProblem = Optional.ofNullable(table.problem());
        this.neededLibraries = readNeededLibraries();
        Layout l = new Layout();
        this.layout = l.segments();
        this.imageEnd = l.imageEnd;
        if (l.failure == null && Long.compareUnsigned(entry, TASK_SIZE) >= 0) {
            l.failure = String.format("entry point 0x%x lies above the user address space (0x%x)", entry, TASK_SIZE);
        }
        this.execFailure = Optional.ofNullable(l.failure);
    }

    private void checkMagic() throws BadBinaryException {
        if (data.length == 0) throw bad("not an ELF file (empty file)");
        if (data.length >= 2 && data[0] == '#' && data[1] == '!') throw bad("not an ELF file (a #! script)");
        if (data.length < 4 || data[0] != 0x7f || data[1] != 'E' || data[2] != 'L' || data[3] != 'F') {
            throw bad("not an ELF file (bad magic)");
        }
    }

    /** A header field refused; a file cut inside the header says so, since its missing bytes read as zeros. */
    private BadBinaryException badHeader(String format, Object... args) {
        String cut = data.length >= EHDR_SIZE ? ""
                : String.format(" (the file is %d bytes, shorter than the 64-byte ELF header)", data.length);
        return bad(format + cut, args);
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

    /** Linux's load_elf_phdrs: the right entry size, 1 to 73 headers, all of them in the file. */
    private List<ProgramHeader> readProgramHeaders() throws BadBinaryException {
        int phentsize = header.getShort(54) & 0xffff;
        if (phentsize != PHDR_SIZE) throw badHeader("program header size is %d bytes, expected %d", phentsize, PHDR_SIZE);
        if (phnum == 0) throw badHeader("no program headers, so nothing to load");
        if (phnum * PHDR_SIZE > MAX_PHDR_BYTES) {
            throw bad("%d program headers; Linux reads at most %d", phnum, MAX_PHDR_BYTES / PHDR_SIZE);
        }
        if (!fits(phoff, (long) phnum * PHDR_SIZE)) {
            throw bad("truncated ELF: the program headers at file offset 0x%x (%d of them) lie past the end of the file (%d bytes)",
                    phoff, phnum, data.length);
        }
        List<ProgramHeader> out = new ArrayList<>(phnum);
        for (int i = 0; i < phnum; i++) {
            long at = phoff + (long) i * PHDR_SIZE;
            out.add(new ProgramHeader(i32(at), i32(at + 4), u64(at + 8), u64(at + 16), u64(at + 24),
                    u64(at + 32), u64(at + 40), u64(at + 48)));
        }
        return List.copyOf(out);
    }

    /** The first PT_INTERP, checked as Linux checks it before it opens the interpreter. */
    private Optional<String> readInterpreter() throws BadBinaryException {
        for (ProgramHeader ph : programHeaders) {
            if (ph.type() != PT_INTERP) continue;
            if (Long.compareUnsigned(ph.filesz(), 2) < 0 || Long.compareUnsigned(ph.filesz(), MAX_INTERP) > 0) {
                throw bad("interpreter path (PT_INTERP) of %d bytes; Linux needs 2 to %d", ph.filesz(), MAX_INTERP);
            }
            if (!fits(ph.offset(), ph.filesz())) {
                throw bad("truncated ELF: the interpreter path (PT_INTERP) at file offset 0x%x lies past the end of the file",
                        ph.offset());
            }
            if (data[(int) (ph.offset() + ph.filesz() - 1)] != 0) throw bad("interpreter path (PT_INTERP) is not NUL-terminated");
            return Optional.of(cString(ph.offset(), ph.filesz(), 0));
        }
        return Optional.empty();
    }

    /** The section headers, or why there are none (null if the file simply has none). */
    private record SectionTable(List<Section> sections, String problem) {
        static SectionTable unusable(String format, Object... args) {
            return new SectionTable(List.of(), String.format(format, args));
        }
    }

    /**
     * The section headers, all or none: Linux ignores them, so a problem only costs the symbols and Go metadata,
     * never the run.
     */
    private SectionTable readSections() {
        long shoff = header.getLong(40);
        int shnum = header.getShort(60) & 0xffff, shstrndx = header.getShort(62) & 0xffff;
        int shentsize = header.getShort(58) & 0xffff;
        if (shoff == 0 || shnum == 0) return new SectionTable(List.of(), null);
        if (shentsize != SHDR_SIZE) return SectionTable.unusable("section header size is %d bytes, expected %d", shentsize, SHDR_SIZE);
        if (!fits(shoff, (long) shnum * SHDR_SIZE)) {
            return SectionTable.unusable("%d section headers at file offset 0x%x lie past the end of the file", shnum, shoff);
        }
        if (shstrndx >= shnum) {
            return SectionTable.unusable("section name table index %d is out of range (%d sections)", shstrndx, shnum);
        }
        for (int i = 0; i < shnum; i++) {
            long h = shoff + (long) i * SHDR_SIZE;
            int type = i32(h + 4);
            long offset = u64(h + 24), size = u64(h + 32);
            if (type != Section.SHT_NOBITS && type != Section.SHT_NULL && size != 0 && !fits(offset, size)) {
                return SectionTable.unusable("section %d at file offset 0x%x + 0x%x bytes lies past the end of the file",
                        i, offset, size);
            }
        }
        long names = shoff + (long) shstrndx * SHDR_SIZE, namesOffset = u64(names + 24), namesSize = u64(names + 32);
        List<Section> out = new ArrayList<>(shnum);
        for (int i = 0; i < shnum; i++) {
            long h = shoff + (long) i * SHDR_SIZE;
            String name = shstrndx == 0 ? "" : cString(namesOffset, namesSize, u32(h));
            if (name == null) return SectionTable.unusable("section %d: its name lies outside the section name table", i);
            out.add(new Section(i, name, i32(h + 4), u64(h + 8), u64(h + 16), u64(h + 24), u64(h + 32),
                    i32(h + 40), i32(h + 44), u64(h + 48), u64(h + 56)));
        }
        return new SectionTable(List.copyOf(out), null);
    }

    /** The DT_NEEDED names of PT_DYNAMIC, found through DT_STRTAB (an address, so through the PT_LOADs). */
    private List<String> readNeededLibraries() {
        List<Long> nameOffsets = new ArrayList<>();
        long strtabVaddr = -1;
        for (ProgramHeader ph : programHeaders) {
            if (ph.type() != PT_DYNAMIC || !fits(ph.offset(), 0)) continue;
            long end = fits(ph.offset(), ph.filesz()) ? ph.offset() + ph.filesz() : data.length; // what is in the file
            for (long at = ph.offset(); at + DYN_SIZE <= end; at += DYN_SIZE) {
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

    /**
     * The address space Linux's load_elf_binary builds, page by page: each PT_LOAD in header order maps its file
     * pages over whatever an earlier one mapped (MAP_FIXED), zeroes the rest of its last file page if that page is
     * writable (padzero), and maps its bss beyond that page read-write (vm_brk_flags). The first failure Linux
     * would meet ends the layout: the process it makes is killed.
     */
    private final class Layout {
        /** Disjoint page ranges by start. At most 3 per PT_LOAD, so a few hundred. */
        private final TreeMap<Long, Piece> pieces = new TreeMap<>();
        long imageEnd;
        String failure;

        /** [start, end) with perms: file bytes from fileOffset (page-aligned; -1 for anonymous) up to copyEnd, then zeros. */
        private record Piece(long start, long end, int perms, long fileOffset, long copyEnd) {
            Piece from(long at) {
                return new Piece(at, end, perms, fileOffset < 0 ? -1 : fileOffset + (at - start), copyEnd);
            }

            Piece to(long at) {
                return new Piece(start, at, perms, fileOffset, copyEnd);
            }
        }

        Layout() {
            for (int i = 0; i < programHeaders.size() && failure == null; i++) {
                ProgramHeader ph = programHeaders.get(i);
                if (ph.type() == PT_LOAD) failure = load(i, ph);
            }
        }

        private String load(int i, ProgramHeader ph) {
            long v = ph.vaddr(), off = ph.offset(), filesz = ph.filesz(), memsz = ph.memsz();
            String what = "segment " + i + " (LOAD)";
            if (Long.compareUnsigned(v, TASK_SIZE) >= 0 || Long.compareUnsigned(memsz, TASK_SIZE) > 0 || TASK_SIZE - memsz < v) {
                return String.format("%s at 0x%x + 0x%x bytes ends above the user address space (0x%x)", what, v, memsz, TASK_SIZE);
            }
            if (Long.compareUnsigned(filesz, memsz) > 0) {
                return String.format("%s: file size 0x%x is larger than its memory size 0x%x", what, filesz, memsz);
            }
            long zeroStart = pageDown(v);
            if (filesz != 0) {
                // mmap(2) of the file: the offset must be page-aligned, and offset + length fit in a loff_t.
                long pageOff = off - (v & (PAGE_SIZE - 1));
                if ((pageOff & (PAGE_SIZE - 1)) != 0) {
                    return String.format("%s: file offset 0x%x and address 0x%x differ modulo the page size, so it cannot be mapped",
                            what, off, v);
                }
                long end = pageUp(v + filesz);
                if (pageOff < 0 || Long.MAX_VALUE - pageOff < end - pageDown(v)) {
                    return String.format("%s: file offset 0x%x is beyond what a file can hold", what, off);
                }
                put(new Piece(pageDown(v), end, ph.perms(), pageOff, Long.MAX_VALUE));
                zeroStart = v + filesz;
                if (memsz > filesz && (zeroStart & (PAGE_SIZE - 1)) != 0 && (ph.perms() & LoadSegment.WRITE) != 0) {
                    // padzero: a read-only page keeps its file bytes, since Linux's clear_user fails there quietly.
                    Piece last = pieces.floorEntry(zeroStart).getValue();
                    if (last.fileOffset + (zeroStart - last.start) >= pageUp(data.length)) {
                        return String.format("%s: its file data ends past the end of the file, in a page Linux cannot clear", what);
                    }
                    pieces.put(last.start, new Piece(last.start, last.end, last.perms, last.fileOffset, zeroStart));
                }
            }
            long bssStart = pageUp(zeroStart), bssEnd = pageUp(v + memsz);
            if (bssEnd > bssStart) {
                int perms = LoadSegment.READ | LoadSegment.WRITE | (ph.perms() & LoadSegment.EXEC);
                put(new Piece(bssStart, bssEnd, perms, -1, 0));
            }
            imageEnd = Math.max(imageEnd, v + memsz);
            return null;
        }

        /** Maps {@code p} over whatever was there, as MAP_FIXED does. */
        private void put(Piece p) {
            Map.Entry<Long, Piece> below = pieces.lowerEntry(p.start);
            if (below != null && below.getValue().end > p.start) {
                Piece b = below.getValue();
                pieces.put(b.start, b.to(p.start));
                if (b.end > p.end) pieces.put(p.end, b.from(p.end));
            }
            for (Map.Entry<Long, Piece> e; (e = pieces.ceilingEntry(p.start)) != null && e.getKey() < p.end; ) {
                Piece q = pieces.remove(e.getKey());
                if (q.end > p.end) pieces.put(p.end, q.from(p.end));
            }
            pieces.put(p.start, p);
        }

        /** The pieces as mappings; a file piece splits where its pages pass the end of the file (SIGBUS there). */
        List<LoadSegment> segments() {
            List<LoadSegment> out = new ArrayList<>();
            long fileEnd = pageUp(data.length);
            for (Piece p : pieces.values()) {
                if (p.fileOffset < 0) {
                    out.add(new LoadSegment(p.start, p.end, p.perms, 0, 0, false));
                    continue;
                }
                long inFile = p.fileOffset >= fileEnd ? 0 : Math.min(p.end - p.start, fileEnd - p.fileOffset);
                if (inFile > 0) {
                    long copy = Math.min(Math.min(inFile, p.copyEnd - p.start), data.length - p.fileOffset);
                    out.add(new LoadSegment(p.start, p.start + inFile, p.perms, p.fileOffset, Math.max(copy, 0), false));
                }
                if (p.start + inFile < p.end) out.add(new LoadSegment(p.start + inFile, p.end, p.perms, 0, 0, true));
            }
            return List.copyOf(out);
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

    /** The sections, named from the section name table; empty if the file has none or {@link #sectionsProblem()}. */
    public List<Section> sections() {
        return sections;
    }

    /** Why the section headers were not usable (so there are no symbols either); Linux never reads them. */
    public Optional<String> sectionsProblem() {
        return sectionsProblem;
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
     * The unbiased address of the program headers in memory, for AT_PHDR, found as Linux (5.18 on) finds it: through
     * the last PT_LOAD whose file data holds them; else 0 (then Linux passes the bias alone, as this does).
     */
    public long phdrVaddr() {
        long found = 0;
        for (ProgramHeader ph : programHeaders) {
            if (ph.type() == PT_LOAD && Long.compareUnsigned(phoff - ph.offset(), ph.filesz()) < 0
                    && Long.compareUnsigned(ph.offset(), phoff) <= 0) {
                found = ph.vaddr() + (phoff - ph.offset());
            }
        }
        return found;
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
     * zeros for bss. Empty if the range is not all mapped, or reaches a page past the end of the file.
     */
    public Optional<byte[]> bytesAt(long vaddr, int length) {
        byte[] out = new byte[length];
        long done = 0;
        while (done < length) {
            long at = vaddr + done;
            LoadSegment s = layout.stream().filter(x -> at >= x.start() && at < x.end()).findFirst().orElse(null);
            if (s == null || s.pastEndOfFile()) return Optional.empty();
            long n = Math.min(length - done, s.end() - at);
            long inFile = Math.max(0, Math.min(n, s.start() + s.fileSize() - at));
            if (inFile > 0) System.arraycopy(data, (int) (s.fileOffset() + at - s.start()), out, (int) done, (int) inFile);
            done += n;
        }
        return Optional.of(out);
    }

    /**
     * The mappings for the PT_LOAD segments loaded at {@code bias} (0 for ET_EXEC; a page-aligned base for
     * ET_DYN), sorted by address. See {@link LoadSegment} for how to apply them. Only meaningful if there is no
     * {@link #execFailure()}.
     */
    public List<LoadSegment> loadSegments(long bias) {
        checkBias(bias);
        if (bias == 0) return layout;
        return layout.stream().map(s -> new LoadSegment(s.start() + bias, s.end() + bias, s.perms(), s.fileOffset(),
                s.fileSize(), s.pastEndOfFile())).toList();
    }

    /** The initial program break: the page-aligned end of the highest PT_LOAD, bss included. */
    public long programBreak(long bias) {
        checkBias(bias);
        return bias + pageUp(imageEnd);
    }

    /**
     * Why Linux would kill the process this file makes, after execve has passed its point of no return (so with
     * SIGSEGV, not an error from execve); empty if it starts.
     */
    public Optional<String> execFailure() {
        return execFailure;
    }

    /**
     * For an ET_DYN without interpreter, which Linux maps wherever mmap puts {@link #loadSize()} bytes: the bias
     * (Linux's load_bias) when mmap chose {@code mappedAt}, aligned down to the largest power-of-two p_align above a
     * page. Check it with {@link #fitsAt} before use.
     */
    public long biasFor(long mappedAt) {
        long align = PAGE_SIZE, firstVaddr = 0;
        boolean first = true;
        for (ProgramHeader ph : programHeaders) {
            if (ph.type() != PT_LOAD) continue;
            if (first) firstVaddr = ph.vaddr();
            first = false;
            if (Long.bitCount(ph.align()) == 1 && Long.compareUnsigned(ph.align(), align) > 0) align = ph.align();
        }
        return pageDown((mappedAt & -align) - firstVaddr);
    }

    /** Linux's total_mapping_size: from the lowest PT_LOAD's page to the end of the highest PT_LOAD. */
    public long loadSize() {
        return layout.isEmpty() ? 0 : pageUp(imageEnd) - layout.getFirst().start();
    }

    /** Whether the image loaded at {@code bias} lies in {@code [lowest, TASK_SIZE)}. */
    public boolean fitsAt(long bias, long lowest) {
        long top = Math.max(layout.isEmpty() ? 0 : layout.getLast().end(), pageUp(imageEnd));
        long bottom = layout.isEmpty() ? lowest : layout.getFirst().start();
        return (bias & (PAGE_SIZE - 1)) == 0 && bias >= lowest - bottom && bias <= TASK_SIZE - top;
    }

    private void checkBias(long bias) {
        if (!fitsAt(bias, 0)) {
            throw new IllegalArgumentException(String.format(
                    "load bias 0x%x must be page-aligned and keep %s inside the user address space", bias, path));
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
