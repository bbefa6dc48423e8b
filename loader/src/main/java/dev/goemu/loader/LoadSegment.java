package dev.goemu.loader;

/**
 * A guest mapping for a PT_LOAD segment, already offset by the load bias.
 *
 * <p>Map {@code [start, end)} (page-aligned, bss included, zero-filled) with {@code perms}, then copy
 * {@code fileSize} bytes from {@code fileOffset} in the file to {@code vaddr}. Entries come sorted by address and
 * never overlap. When two PT_LOADs share a page, that page is an entry of its own whose perms are the union of
 * both segments' (Linux gives it the later segment's, which can take X away from the tail of the code). A segment's
 * data then spans two entries: its copy can start in an earlier entry, but never reaches past the end of its own,
 * so mapping and copying entry by entry in list order works. An entry with nothing to copy has {@code fileSize == 0}.
 *
 * @param perms {@link #READ} | {@link #WRITE} | {@link #EXEC}, the same bits as Unicorn's UC_PROT_*
 */
public record LoadSegment(long start, long end, int perms, long fileOffset, long fileSize, long vaddr) {
    public static final int READ = 1, WRITE = 2, EXEC = 4;
}
