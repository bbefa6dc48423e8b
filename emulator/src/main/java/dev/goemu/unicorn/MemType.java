package dev.goemu.unicorn;

/** Kinds of memory access reported to hooks (Unicorn's uc_mem_type, values of Unicorn 2.1.4). */
public final class MemType {
    public static final int READ = 16;
    public static final int WRITE = 17;
    public static final int FETCH = 18;
    public static final int READ_UNMAPPED = 19;
    public static final int WRITE_UNMAPPED = 20;
    public static final int FETCH_UNMAPPED = 21;
    public static final int WRITE_PROT = 22;
    public static final int READ_PROT = 23;
    public static final int FETCH_PROT = 24;
    public static final int READ_AFTER = 25;

    private MemType() {}

    public static String name(int type) {
        return switch (type) {
            case READ -> "READ";
            case WRITE -> "WRITE";
            case FETCH -> "FETCH";
            case READ_UNMAPPED -> "READ_UNMAPPED";
            case WRITE_UNMAPPED -> "WRITE_UNMAPPED";
            case FETCH_UNMAPPED -> "FETCH_UNMAPPED";
            case WRITE_PROT -> "WRITE_PROT";
            case READ_PROT -> "READ_PROT";
            case FETCH_PROT -> "FETCH_PROT";
            case READ_AFTER -> "READ_AFTER";
            default -> "MEM_TYPE_" + type;
        };
    }
}
