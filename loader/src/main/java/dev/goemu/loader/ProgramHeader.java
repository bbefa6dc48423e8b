package dev.goemu.loader;

/** One ELF64 program header, fields as in the file (unsigned values are carried in longs). */
public record ProgramHeader(int type, int flags, long offset, long vaddr, long paddr, long filesz, long memsz, long align) {
    public static final int PT_NULL = 0, PT_LOAD = 1, PT_DYNAMIC = 2, PT_INTERP = 3, PT_NOTE = 4, PT_SHLIB = 5,
            PT_PHDR = 6, PT_TLS = 7;
    public static final int PT_GNU_EH_FRAME = 0x6474e550, PT_GNU_STACK = 0x6474e551, PT_GNU_RELRO = 0x6474e552,
            PT_GNU_PROPERTY = 0x6474e553;
    public static final int PF_X = 1, PF_W = 2, PF_R = 4;

    /** The type as readelf names it ("LOAD", "GNU_STACK"), or its number in hex. */
    public String typeName() {
        return switch (type) {
            case PT_NULL -> "NULL";
            case PT_LOAD -> "LOAD";
            case PT_DYNAMIC -> "DYNAMIC";
            case PT_INTERP -> "INTERP";
            case PT_NOTE -> "NOTE";
            case PT_SHLIB -> "SHLIB";
            case PT_PHDR -> "PHDR";
            case PT_TLS -> "TLS";
            case PT_GNU_EH_FRAME -> "GNU_EH_FRAME";
            case PT_GNU_STACK -> "GNU_STACK";
            case PT_GNU_RELRO -> "GNU_RELRO";
            case PT_GNU_PROPERTY -> "GNU_PROPERTY";
            default -> String.format("0x%x", type);
        };
    }

    /** Flags the way readelf prints them: "R E", "RW ". */
    public String flagsString() {
        return ((flags & PF_R) != 0 ? "R" : " ") + ((flags & PF_W) != 0 ? "W" : " ") + ((flags & PF_X) != 0 ? "E" : " ");
    }

    /**
     * The same permissions as {@link LoadSegment#perms()} bits (Unicorn's order R=1, W=2, X=4, unlike ELF's). x86 page
     * tables cannot express write-only, so Linux's writable pages are readable too.
     */
    int perms() {
        return ((flags & (PF_R | PF_W)) != 0 ? LoadSegment.READ : 0)
                | ((flags & PF_W) != 0 ? LoadSegment.WRITE : 0)
                | ((flags & PF_X) != 0 ? LoadSegment.EXEC : 0);
    }
}
