package dev.goemu.loader;

/**
 * A guest mapping for (part of) PT_LOAD segments, already offset by the load bias: map {@code [start, end)}
 * (page-aligned) with {@code perms}, zero-filled, then copy {@code fileSize} bytes from {@code fileOffset} in the
 * file to {@code start}. Entries come sorted by address and never overlap; where segments share a page, the later
 * segment's mapping wins, as with Linux's MAP_FIXED. {@code pastEndOfFile}: file pages past the end of the file,
 * which Linux maps but answers any access to with SIGBUS.
 *
 * @param perms {@link #READ} | {@link #WRITE} | {@link #EXEC}, the same bits as Unicorn's UC_PROT_*
 */
public record LoadSegment(long start, long end, int perms, long fileOffset, long fileSize, boolean pastEndOfFile) {
    public static final int READ = 1, WRITE = 2, EXEC = 4;
}
