package dev.goemu.hooks;

/** A source position as the pclntab records it: for inlined code, the position of the inlined body. */
public record SourceLine(String file, int line) {
    @Override
    public String toString() {
        return file + ":" + line;
    }
}
