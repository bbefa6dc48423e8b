package dev.goemu.hooks;

import dev.goemu.hooks.disasm.Disassembler;
import dev.goemu.hooks.disasm.DisassemblerUnavailableException;
import dev.goemu.hooks.disasm.Instruction;
import dev.goemu.hooks.dwarf.DwarfField;
import dev.goemu.hooks.dwarf.DwarfType;
import dev.goemu.hooks.dwarf.DwarfVariable;
import dev.goemu.hooks.dwarf.GoDwarf;
import dev.goemu.loader.ElfFile;
import dev.goemu.loader.ProgramHeader;
import dev.goemu.loader.Symbol;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Where the Go runtime keeps its scheduler state in one binary: the layout of {@code runtime.g}, {@code m}, {@code p},
 * {@code schedt}, {@code gobuf}, {@code stack} (field offsets and sizes by dotted path) and the addresses of the
 * runtime's globals ({@code runtime.sched}, {@code allp}, ...).
 *
 * <p>Struct layouts come from the binary's DWARF, else from the built-in table of its Go minor release (see
 * {@link LayoutTable}). Globals come from .symtab, else DWARF, else the table's witnesses: a runtime function, found by
 * name in .gopclntab (which stripping keeps), whose k-th RIP-relative operand addresses the global. A witness is used
 * only if the runtime's largest functions and the witness itself have exactly the sizes recorded, so a runtime that
 * differs from the table's gives "unavailable", not a wrong address. A stripped binary of a release without a table
 * has no layout at all.
 */
public final class RuntimeLayout {
    /** A field as a view reads it: offset from the start of the outer struct, size in bytes, its Go type's name. */
    public record Field(long offset, int size, String typeName) {}

    /**
     * The globals the built-in tables have witnesses for. {@code runtime.ncpu} became {@code runtime.numCPUStartup} in
     * Go 1.25; a release has one or the other.
     */
    public static final List<String> GLOBALS = List.of("runtime.sched", "runtime.allp", "runtime.allm",
            "runtime.allgs", "runtime.allglen", "runtime.g0", "runtime.m0", "runtime.gomaxprocs", "runtime.ncpu",
            "runtime.numCPUStartup", "runtime.waitReasonStrings");

    private final ElfFile elf;
    private final GoSymbols syms;
    private final Optional<GoDwarf> dwarf;
    private final Optional<LayoutTable> table;
    private final String source;
    /** Resolved globals: an address, or why there is none. */
    private final Map<String, Resolved> globals = new HashMap<>();
    private boolean witnessesTried;
    /** Resolved fields by "type path", present or not. */
    private final Map<String, Optional<Field>> fields = new HashMap<>();

    private record Resolved(long address, String problem) {}

    private RuntimeLayout(ElfFile elf, GoSymbols syms, Optional<GoDwarf> dwarf, Optional<LayoutTable> table, String source) {
        this.elf = elf;
        this.syms = syms;
        this.dwarf = dwarf;
        this.table = table;
        this.source = source;
    }

    /**
     * The layout of {@code elf}'s runtime. {@code info} (its {@code .go.buildinfo}) picks the built-in table.
     *
     * @throws LayoutUnavailableException if the binary has no usable DWARF and goemu has no table for its release, or
     *                                    its runtime is not the one of the table (see {@link LayoutTable})
     */
    public static RuntimeLayout load(ElfFile elf, GoSymbols syms, Optional<GoBuildInfo> info)
            throws LayoutUnavailableException {
        Optional<String> release = info.map(GoBuildInfo::goVersion);
        Optional<LayoutTable> table = release.flatMap(LayoutTable::minorRelease).flatMap(LayoutTable::builtIn);
        Optional<String> mismatch = table.flatMap(t -> t.mismatch(syms));
        Optional<GoDwarf> dwarf;
        try {
            dwarf = GoDwarf.load(elf).filter(d -> d.type("runtime.g").isPresent());
        } catch (GoFormatException e) {
            throw new LayoutUnavailableException(elf.path() + ": cannot read its DWARF: " + e.getMessage());
        }
        if (dwarf.isPresent()) return new RuntimeLayout(elf, syms, dwarf, table.filter(t -> mismatch.isEmpty()), "DWARF");
        String rebuild = "; rebuild without -w to see the scheduler";
        if (table.isEmpty()) {
            String which = release.map(v -> LayoutTable.minorRelease(v).orElse(v)).orElse("an unknown Go release (no build info)");
            throw new LayoutUnavailableException("no DWARF and no built-in layout for " + which + rebuild);
        }
        LayoutTable t = table.get();
        if (mismatch.isPresent()) {
            throw new LayoutUnavailableException("no DWARF, and the runtime of this " + release.get() + " binary is not the "
                    + t.release + " runtime of the built-in layout (" + mismatch.get() + ")" + rebuild);
        }
        String minor = LayoutTable.minorRelease(t.release).orElseThrow();
        String why = release.get().equals(t.release) ? "binary has no DWARF"
                : "generated from " + t.release + "; the binary is " + release.get() + " and has no DWARF";
        return new RuntimeLayout(elf, syms, dwarf, table, "built-in layout for " + minor + " (" + why + ")");
    }

    /** The binary's DWARF, when the layouts come from it (the debugger's print reads its types too). */
    public Optional<GoDwarf> dwarf() {
        return dwarf;
    }

    /** Where the struct layouts come from: "DWARF", or "built-in layout for go1.26 (binary has no DWARF)". */
    public String source() {
        return source;
    }

    // ---- structs -----------------------------------------------------------------------------------------------

    /**
     * The field at a dotted path inside {@code type}: {@code ("runtime.g", "sched.sp")}, {@code ("runtime.p",
     * "runqhead")}. Fields differ between releases ({@code schedt.needspinning} is new in 1.21): empty if absent.
     */
    public Optional<Field> field(String type, String path) {
        // The tracers read fields in breakpoint handlers: resolve each path once.
        return fields.computeIfAbsent(type + " " + path, k -> dwarf.isPresent() ? dwarfField(dwarf.get(), type, path)
                : Optional.ofNullable(table.get().fields.getOrDefault(type, Map.of()).get(path)));
    }

    public boolean has(String type, String path) {
        return field(type, path).isPresent();
    }

    /** The offset of a field from the start of {@code type}; see {@link #field}. */
    public long offset(String type, String path) {
        return require(type, path).offset();
    }

    /**
     * The size of a field. An atomic wrapper ({@code atomic.Int32}, {@code atomic.Uint64}) has its whole size, so
     * such fields are read as plain integers of that size.
     */
    public int size(String type, String path) {
        return require(type, path).size();
    }

    /** The Go name of a field's type ("uintptr", "*runtime.m", "internal/runtime/atomic.Uint32"). */
    public String typeName(String type, String path) {
        return require(type, path).typeName();
    }

    /** The size of a struct. */
    public long sizeof(String type) {
        OptionalLong size = dwarf.isPresent()
                ? dwarf.get().type(type).map(t -> OptionalLong.of(t.size())).orElse(OptionalLong.empty())
                : Optional.ofNullable(table.get().typeSizes.get(type)).map(OptionalLong::of).orElse(OptionalLong.empty());
        if (size.isEmpty()) throw new IllegalArgumentException("no type " + type + " in the " + source);
        return size.getAsLong();
    }

    private Field require(String type, String path) {
        return field(type, path).orElseThrow(
                () -> new IllegalArgumentException(type + " has no field " + path + " (layout: " + source + ")"));
    }

    private static Optional<Field> dwarfField(GoDwarf dwarf, String type, String path) {
        Optional<DwarfType> t = dwarf.type(type);
        if (t.isEmpty()) return Optional.empty();
        DwarfType at = t.get();
        long offset = 0;
        for (String name : path.split("\\.")) {
            Optional<DwarfField> f = at.field(name);
            if (f.isEmpty()) return Optional.empty();
            offset += f.get().offset();
            at = f.get().type();
        }
        return Optional.of(new Field(offset, (int) at.size(), at.name()));
    }

    // ---- globals -----------------------------------------------------------------------------------------------

    /** The address of a runtime global ("runtime.sched"), if it can be found; {@link #requireGlobal} says why not. */
    public OptionalLong global(String name) {
        Resolved r = resolve(name);
        return r.problem == null ? OptionalLong.of(r.address) : OptionalLong.empty();
    }

    /** The address of a runtime global, or an exception whose message says why it cannot be found. */
    public long requireGlobal(String name) throws LayoutUnavailableException {
        Resolved r = resolve(name);
        if (r.problem != null) throw new LayoutUnavailableException(r.problem);
        return r.address;
    }

    private Resolved resolve(String name) {
        Resolved known = globals.get(name);
        if (known != null) return known;
        Optional<Symbol> symbol = elf.symbols().lookup(name).filter(s -> s.type() == Symbol.STT_OBJECT);
        Optional<DwarfVariable> variable = dwarf.flatMap(d -> d.variable(name));
        Resolved r;
        if (symbol.isPresent()) {
            r = new Resolved(symbol.get().value(), null);
        } else if (variable.isPresent()) {
            r = new Resolved(variable.get().address(), null);
        } else if (table.isPresent() && table.get().witnesses.containsKey(name)) {
            resolveWitnesses();
            return globals.get(name);
        } else if (table.isPresent()) {
            r = new Resolved(-1, name + ": not in .symtab or DWARF, and the built-in layout for "
                    + LayoutTable.minorRelease(table.get().release).orElseThrow() + " does not know it");
        } else {
            r = new Resolved(-1, name + ": not in .symtab or DWARF, and no built-in layout of goemu fits this binary");
        }
        globals.put(name, r);
        return r;
    }

    /** Resolves every witness of the table at once: one disassembler for all. */
    private void resolveWitnesses() {
        if (witnessesTried) return;
        witnessesTried = true;
        Map<String, LayoutTable.Witness> witnesses = table.orElseThrow().witnesses;
        try (Disassembler disassembler = Disassembler.openX86_64()) {
            for (LayoutTable.Witness w : witnesses.values()) globals.putIfAbsent(w.global(), witness(disassembler, w));
        } catch (DisassemblerUnavailableException | IllegalStateException e) {
            String problem = "cannot disassemble the runtime to find its globals: " + e.getMessage();
            for (String name : witnesses.keySet()) globals.putIfAbsent(name, new Resolved(-1, name + ": " + problem));
        }
    }

    private Resolved witness(Disassembler disassembler, LayoutTable.Witness w) {
        String release = table.orElseThrow().release;
        Optional<GoFunc> found = syms.lookup(w.function());
        if (found.isEmpty()) return unresolved(w, "its witness " + w.function() + " is not in this binary");
        GoFunc f = found.get();
        long size = f.end() - f.entry();
        if (size != w.functionSize()) {
            return unresolved(w, String.format("its witness %s is %d bytes here but %d in %s: this runtime differs from "
                    + "the built-in layout's", w.function(), size, w.functionSize(), release));
        }
        Optional<byte[]> code = elf.bytesAt(f.entry(), (int) size);
        if (code.isEmpty()) return unresolved(w, "the code of " + w.function() + " is not in the file");
        int ordinal = 0;
        for (Instruction insn : disassembler.disassemble(code.get(), f.entry(), Integer.MAX_VALUE)) {
            OptionalLong target = insn.ripTarget();
            if (target.isEmpty() || ordinal++ != w.ordinal()) continue;
            long address = target.getAsLong() - w.addend();
            if (!writable(address, w.globalSize())) {
                return unresolved(w, String.format("%s's RIP-relative operand %d points at 0x%x, outside the writable "
                        + "data", w.function(), w.ordinal(), address));
            }
            return new Resolved(address, null);
        }
        return unresolved(w, w.function() + " has only " + ordinal + " RIP-relative operands, the witness is number "
                + w.ordinal());
    }

    private static Resolved unresolved(LayoutTable.Witness w, String why) {
        return new Resolved(-1, w.global() + ": " + why);
    }

    /** Whether {@code [address, address+size)} lies in one writable PT_LOAD: where every Go global lives. */
    private boolean writable(long address, long size) {
        for (ProgramHeader ph : elf.programHeaders()) {
            if (ph.type() != ProgramHeader.PT_LOAD || (ph.flags() & ProgramHeader.PF_W) == 0) continue;
            if (address >= ph.vaddr() && size >= 0 && address - ph.vaddr() <= ph.memsz() - size) return true;
        }
        return false;
    }
}
