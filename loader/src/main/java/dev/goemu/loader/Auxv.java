package dev.goemu.loader;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The ELF auxiliary vector the caller knows. {@link InitialStack} adds the entries that point into the stack
 * (AT_RANDOM, AT_EXECFN, AT_PLATFORM) and the closing AT_NULL.
 *
 * <p>There is deliberately no AT_SYSINFO_EHDR: without a vDSO the Go runtime makes real clock_gettime syscalls.
 */
public final class Auxv {
    public static final long AT_NULL = 0, AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6, AT_BASE = 7,
            AT_FLAGS = 8, AT_ENTRY = 9, AT_UID = 11, AT_EUID = 12, AT_GID = 13, AT_EGID = 14, AT_PLATFORM = 15,
            AT_HWCAP = 16, AT_CLKTCK = 17, AT_SECURE = 23, AT_RANDOM = 25, AT_HWCAP2 = 26, AT_EXECFN = 31;

    /** Insertion order is the order on the stack; putting a type again keeps its place. */
    private final Map<Long, Long> entries = new LinkedHashMap<>();

    /**
     * The entries Linux's create_elf_tables() gives a static binary, in the same order. {@code bias} is where an
     * ET_DYN binary was loaded (0 for ET_EXEC).
     */
    public static Auxv forBinary(ElfFile elf, long bias, long uid, long euid, long gid, long egid, long hwcap) {
        return new Auxv()
                .put(AT_HWCAP, hwcap)
                .put(AT_PAGESZ, ElfFile.PAGE_SIZE)
                .put(AT_CLKTCK, 100) // USER_HZ
                .put(AT_PHDR, bias + elf.phdrVaddr())
                .put(AT_PHENT, elf.phentsize())
                .put(AT_PHNUM, elf.phnum())
                .put(AT_BASE, 0) // no interpreter
                .put(AT_FLAGS, 0)
                .put(AT_ENTRY, bias + elf.entry())
                .put(AT_UID, uid)
                .put(AT_EUID, euid)
                .put(AT_GID, gid)
                .put(AT_EGID, egid)
                .put(AT_SECURE, 0)
                .put(AT_HWCAP2, 0);
    }

    /** Sets {@code type} to {@code value}. AT_NULL is not allowed: the stack builder ends the vector itself. */
    public Auxv put(long type, long value) {
        if (type == AT_NULL) throw new IllegalArgumentException("AT_NULL ends the auxiliary vector; it cannot be put");
        entries.put(type, value);
        return this;
    }

    public OptionalLong get(long type) {
        Long v = entries.get(type);
        return v == null ? OptionalLong.empty() : OptionalLong.of(v);
    }

    /** {type, value} pairs in stack order, without AT_NULL. */
    public List<long[]> entries() {
        List<long[]> out = new ArrayList<>(entries.size());
        entries.forEach((type, value) -> out.add(new long[] {type, value}));
        return out;
    }
}
