package dev.goemu.hooks;

import dev.goemu.loader.BadBinaryException;
import dev.goemu.loader.ElfFile;

import java.nio.file.Path;
import java.util.Optional;

/** A Go binary as the Go-aware tools see it before it runs: its symbols, build info and runtime layout. */
public final class GoProgram {
    private final ElfFile elf;
    private final GoSymbols symbols;
    private final Optional<GoBuildInfo> buildInfo;
    private final Optional<RuntimeLayout> layout;
    private final Optional<String> layoutProblem;

    private GoProgram(ElfFile elf, GoSymbols symbols, Optional<GoBuildInfo> buildInfo, Optional<RuntimeLayout> layout,
                      Optional<String> layoutProblem) {
        this.elf = elf;
        this.symbols = symbols;
        this.buildInfo = buildInfo;
        this.layout = layout;
        this.layoutProblem = layoutProblem;
    }

    /** Reads {@code binary}; a file without a readable .gopclntab is refused, since every view needs Go's symbols. */
    public static GoProgram open(Path binary) throws BadBinaryException {
        ElfFile elf = ElfFile.read(binary);
        GoSymbols symbols;
        Optional<GoBuildInfo> info;
        try {
            symbols = GoSymbols.load(elf).orElseThrow(() -> new BadBinaryException(binary + elf.sectionsProblem()
                    .map(p -> ": Go symbols unavailable: the section headers are unusable (" + p + ")")
                    .orElse(": not a Go binary (no .gopclntab)")));
            info = GoBuildInfo.read(elf);
        } catch (GoFormatException e) {
            throw new BadBinaryException(binary + ": " + e.getMessage());
        }
        try {
            return new GoProgram(elf, symbols, info, Optional.of(RuntimeLayout.load(elf, symbols, info)), Optional.empty());
        } catch (LayoutUnavailableException e) {
            return new GoProgram(elf, symbols, info, Optional.empty(), Optional.of(e.getMessage()));
        }
    }

    public ElfFile elf() {
        return elf;
    }

    public GoSymbols symbols() {
        return symbols;
    }

    public Optional<GoBuildInfo> buildInfo() {
        return buildInfo;
    }

    /** The runtime's struct layouts and globals, if DWARF or a built-in table gives them. */
    public Optional<RuntimeLayout> layout() {
        return layout;
    }

    /** Why {@link #layout()} is empty, in one line for the user. */
    public Optional<String> layoutProblem() {
        return layoutProblem;
    }
}
