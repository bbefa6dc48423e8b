package dev.goemu.cli;

import dev.goemu.hooks.GoBuildInfo;
import dev.goemu.hooks.GoFormatException;
import dev.goemu.hooks.GoSymbols;
import dev.goemu.hooks.LayoutUnavailableException;
import dev.goemu.hooks.RuntimeLayout;
import dev.goemu.loader.BadBinaryException;
import dev.goemu.loader.ElfFile;
import dev.goemu.loader.ProgramHeader;
import dev.goemu.loader.Section;
import dev.goemu.loader.Symbol;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Shows what goemu sees in a binary: ELF header, segments, sections, linking, and the Go metadata (version, build
 * settings, pclntab). Read-only, so it also describes binaries goemu would refuse to run (dynamically linked ones).
 */
final class InfoCommand implements Cli.Command {
    @Override
    public String description() {
        return "Describe an x86-64 ELF binary: headers, segments, sections and its Go build and symbol information.";
    }

    @Override
    public List<Cli.Option> options() {
        return List.of();
    }

    @Override
    public List<Cli.Param> params() {
        return List.of(new Cli.Param("BINARY", "The ELF file to describe.", false));
    }

    @Override
    public int call(List<String> operands) {
        Path binary = Path.of(operands.getFirst());
        if (!Files.exists(binary)) return GuestOptions.fail(127, "no such file: " + binary);
        ElfFile elf;
        try {
            elf = ElfFile.read(binary);
        } catch (BadBinaryException e) {
            return GuestOptions.fail(126, e.getMessage());
        }
        PrintStream out = System.out;
        Optional<GoSymbols> go = Optional.empty();
        String goError = null;
        try {
            go = GoSymbols.load(elf);
        } catch (GoFormatException e) {
            goError = e.getMessage();
        }
        Optional<GoBuildInfo> info = Optional.empty();
        String infoError = null;
        try {
            info = GoBuildInfo.read(elf);
        } catch (GoFormatException e) {
            infoError = e.getMessage();
        }
        header(out, elf, go);
        programHeaders(out, elf);
        sections(out, elf);
        linking(out, elf);
        goInfo(out, elf, go, goError, info, infoError);
        symbolsAndDebugInfo(out, elf, go, info);
        out.flush();
        return 0;
    }

    private static void header(PrintStream out, ElfFile elf, Optional<GoSymbols> go) {
        out.println("ELF header:");
        out.println("  Class:        ELF64, little-endian");
        out.println("  Machine:      x86-64");
        out.println("  Type:         " + (elf.type() == ElfFile.ET_EXEC ? "EXEC (executable)" : "DYN (position-independent executable or shared object)"));
        String name = entryName(elf, go);
        out.printf("  Entry point:  0x%x%s%n", elf.entry(), name == null ? "" : " (" + name + ")");
    }

    private static String entryName(ElfFile elf, Optional<GoSymbols> go) {
        Optional<Symbol> s = elf.symbols().containing(elf.entry());
        if (s.isPresent()) {
            long off = elf.entry() - s.get().value();
            return s.get().name() + (off == 0 ? "" : String.format("+0x%x", off));
        }
        return go.flatMap(g -> g.function(elf.entry()))
                .map(f -> f.name() + (f.entry() == elf.entry() ? "" : String.format("+0x%x", elf.entry() - f.entry())))
                .orElse(null);
    }

    private static void programHeaders(PrintStream out, ElfFile elf) {
        out.println();
        out.println("Program headers:");
        out.printf("  %-14s %-10s %-18s %-10s %-10s %-3s %s%n", "Type", "Offset", "VirtAddr", "FileSiz", "MemSiz", "Flg", "Align");
        for (ProgramHeader ph : elf.programHeaders()) {
            out.printf("  %-14s 0x%08x 0x%016x 0x%08x 0x%08x %s 0x%x%n", ph.typeName(), ph.offset(), ph.vaddr(),
                    ph.filesz(), ph.memsz(), ph.flagsString(), ph.align());
        }
    }

    private static void sections(PrintStream out, ElfFile elf) {
        out.println();
        if (elf.sections().isEmpty()) {
            out.println("Section headers: " + elf.sectionsProblem()
                    .map(p -> "unusable, " + p + " (Linux ignores them; no symbols, Go metadata or DWARF)").orElse("none"));
            return;
        }
        out.println("Section headers:");
        out.printf("  [Nr] %-18s %-14s %-18s %-10s %-10s %s%n", "Name", "Type", "Address", "Offset", "Size", "Flg");
        for (Section s : elf.sections()) {
            out.printf("  [%2d] %-18s %-14s 0x%016x 0x%08x 0x%08x %s%n", s.index(), s.name(), s.typeName(), s.addr(),
                    s.offset(), s.size(), s.flagsString());
        }
    }

    private static void linking(PrintStream out, ElfFile elf) {
        out.println();
        if (elf.isStatic()) {
            out.println("Linking:      static " + elf.execFailure().map(r -> "(but Linux kills it as it starts: " + r + ")")
                    .orElse("(goemu can run it)"));
        } else {
            out.println("Linking:      dynamic" + elf.interpreter().map(i -> ", interpreter " + i).orElse(", needs shared libraries")
                    + " (goemu runs static binaries only)");
        }
    }

    private static void goInfo(PrintStream out, ElfFile elf, Optional<GoSymbols> go, String goError, Optional<GoBuildInfo> info,
                               String infoError) {
        if (go.isEmpty() && goError == null && info.isEmpty() && infoError == null) {
            out.println("Go:           " + (elf.sectionsProblem().isPresent() ? "unknown (no usable section headers)"
                    : "not a Go binary (no .gopclntab, no .go.buildinfo)"));
            return;
        }
        out.println("Go:");
        if (info.isPresent()) {
            GoBuildInfo b = info.get();
            out.println("  Version:    " + b.goVersion());
            if (!b.path().isEmpty()) out.println("  Path:       " + b.path());
            if (!b.mainModule().isEmpty()) {
                out.println("  Module:     " + b.mainModule() + (b.modVersion().isEmpty() ? "" : " " + b.modVersion()));
            }
            if (!b.deps().isEmpty()) out.println("  Deps:       " + b.deps().size() + " modules");
            List<String> settings = b.settings();
            for (int i = 0; i < settings.size(); i++) out.println((i == 0 ? "  Build:      " : "              ") + settings.get(i));
        } else {
            out.println("  Build info: " + (infoError != null ? "unreadable: " + infoError : "none (no .go.buildinfo)"));
        }
        if (go.isPresent()) {
            GoSymbols g = go.get();
            String releases = switch (g.pclntabVersion()) {
                case "1.16" -> "Go 1.16-1.17";
                case "1.18" -> "Go 1.18-1.19";
                default -> "Go 1.20+";
            };
            out.println("  pclntab:    " + releases + " format, " + g.functions().size() + " functions");
            g.lookup("main.main").ifPresent(f -> out.printf("  main.main:  0x%x-0x%x%s%n", f.entry(), f.end(),
                    g.line(f.entry()).map(l -> " " + l).orElse("")));
        } else {
            out.println("  pclntab:    " + (goError != null ? "unreadable: " + goError : "none (no .gopclntab)"));
        }
    }

    private static void symbolsAndDebugInfo(PrintStream out, ElfFile elf, Optional<GoSymbols> go, Optional<GoBuildInfo> info) {
        if (elf.symbols().isEmpty()) {
            out.println("Symbols:      " + (elf.sectionsProblem().isPresent() ? "unavailable" : "none (stripped)") + (go.isPresent()
                    ? "; function names and source lines come from .gopclntab" : ""));
        } else {
            long functions = elf.symbols().all().stream().filter(s -> s.type() == Symbol.STT_FUNC).count();
            out.println("Symbols:      .symtab, " + elf.symbols().all().size() + " symbols (" + functions + " functions)");
        }
        List<Section> dwarf = elf.sections().stream()
                .filter(s -> s.name().startsWith(".debug_") || s.name().startsWith(".zdebug_")).toList();
        if (dwarf.isEmpty()) {
            out.println("DWARF:        none");
        } else {
            boolean hasInfo = dwarf.stream().anyMatch(s -> s.name().equals(".debug_info") || s.name().equals(".zdebug_info"));
            boolean compressed = dwarf.stream().anyMatch(s -> (s.flags() & Section.SHF_COMPRESSED) != 0 || s.name().startsWith(".zdebug_"));
            out.println("DWARF:        " + (hasInfo ? "present" : "partial (no .debug_info)") + ", " + dwarf.size() + " sections"
                    + (compressed ? ", compressed" : ""));
        }
        if (go.isPresent()) runtimeViews(out, elf, go.get(), info);
    }

    /** Which of goemu's views of the running runtime this binary allows, and why not the others. */
    private static void runtimeViews(PrintStream out, ElfFile elf, GoSymbols go, Optional<GoBuildInfo> info) {
        String views;
        try {
            RuntimeLayout layout = RuntimeLayout.load(elf, go, info);
            views = layout.source().equals("DWARF") ? "all (struct layouts from DWARF)"
                    : "all but the debugger's print, which needs DWARF types (" + layout.source() + ")";
        } catch (LayoutUnavailableException e) {
            views = "trace-startup without runtime state, debug without print; no --sched-trace or --trace-goroutines ("
                    + e.getMessage() + ")";
        }
        out.println("Views:        " + views);
    }
}
