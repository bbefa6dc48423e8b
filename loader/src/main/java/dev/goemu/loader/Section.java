package dev.goemu.loader;

/** One ELF64 section header, with its name looked up in the section name table. */
public record Section(int index, String name, int type, long flags, long addr, long offset, long size, int link,
                      int info, long addralign, long entsize) {
    public static final int SHT_NULL = 0, SHT_PROGBITS = 1, SHT_SYMTAB = 2, SHT_STRTAB = 3, SHT_RELA = 4,
            SHT_HASH = 5, SHT_DYNAMIC = 6, SHT_NOTE = 7, SHT_NOBITS = 8, SHT_REL = 9, SHT_SHLIB = 10,
            SHT_DYNSYM = 11, SHT_INIT_ARRAY = 14, SHT_FINI_ARRAY = 15, SHT_PREINIT_ARRAY = 16, SHT_GROUP = 17,
            SHT_SYMTAB_SHNDX = 18;
    public static final int SHT_GNU_HASH = 0x6ffffff6, SHT_GNU_VERDEF = 0x6ffffffd, SHT_GNU_VERNEED = 0x6ffffffe,
            SHT_GNU_VERSYM = 0x6fffffff;
    public static final long SHF_WRITE = 0x1, SHF_ALLOC = 0x2, SHF_EXECINSTR = 0x4, SHF_COMPRESSED = 0x800;

    /** readelf's letter for sh_flags bit i (bit 3 has no meaning); see "Key to Flags" in {@code readelf -S}. */
    private static final String FLAG_LETTERS = "WAX MSILOGTC";
    private static final long LETTERED_FLAGS = 0xff7, SHF_EXCLUDE = 0x80000000L;

    /** The type as readelf names it ("PROGBITS", "NOBITS"), or its number in hex. */
    public String typeName() {
        return switch (type) {
            case SHT_NULL -> "NULL";
            case SHT_PROGBITS -> "PROGBITS";
            case SHT_SYMTAB -> "SYMTAB";
            case SHT_STRTAB -> "STRTAB";
            case SHT_RELA -> "RELA";
            case SHT_HASH -> "HASH";
            case SHT_DYNAMIC -> "DYNAMIC";
            case SHT_NOTE -> "NOTE";
            case SHT_NOBITS -> "NOBITS";
            case SHT_REL -> "REL";
            case SHT_SHLIB -> "SHLIB";
            case SHT_DYNSYM -> "DYNSYM";
            case SHT_INIT_ARRAY -> "INIT_ARRAY";
            case SHT_FINI_ARRAY -> "FINI_ARRAY";
            case SHT_PREINIT_ARRAY -> "PREINIT_ARRAY";
            case SHT_GROUP -> "GROUP";
            case SHT_SYMTAB_SHNDX -> "SYMTAB SECTION INDICES";
            case SHT_GNU_HASH -> "GNU_HASH";
            case SHT_GNU_VERDEF -> "VERDEF";
            case SHT_GNU_VERNEED -> "VERNEED";
            case SHT_GNU_VERSYM -> "VERSYM";
            default -> String.format("0x%x", type);
        };
    }

    /** Flags the way readelf prints them: "AX", "WA"; E for SHF_EXCLUDE, x for any other bit. */
    public String flagsString() {
        StringBuilder sb = new StringBuilder();
        for (int bit = 0; bit < FLAG_LETTERS.length(); bit++) {
            if ((LETTERED_FLAGS & flags & (1L << bit)) != 0) sb.append(FLAG_LETTERS.charAt(bit));
        }
        if ((flags & ~LETTERED_FLAGS & ~SHF_EXCLUDE) != 0) sb.append('x');
        if ((flags & SHF_EXCLUDE) != 0) sb.append('E');
        return sb.toString();
    }
}
