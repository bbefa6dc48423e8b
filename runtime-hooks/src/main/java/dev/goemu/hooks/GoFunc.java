package dev.goemu.hooks;

/** A Go function from the pclntab function table: its name and its code range {@code [entry, end)}. */
public record GoFunc(String name, long entry, long end) {
    public boolean contains(long pc) {
        return Long.compareUnsigned(pc - entry, end - entry) < 0;
    }
}
