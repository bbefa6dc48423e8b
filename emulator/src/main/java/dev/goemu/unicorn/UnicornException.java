package dev.goemu.unicorn;

/**
 * A failed Unicorn call (with its uc_err {@link #code()}), or a set-up problem such as a missing library
 * ({@link #code()} = {@link #SETUP}). The message names the operation and Unicorn's own text, e.g.
 * {@code uc_mem_map_ptr(0x400000, 0x1000): Invalid memory mapping (UC_ERR_MAP)}.
 */
public final class UnicornException extends RuntimeException {
    /** Not an engine error: library not found, too old, hook library missing, bad argument. */
    public static final int SETUP = -1;
    // uc_err values (Unicorn 2.1.4).
    public static final int OK = 0;
    public static final int NOMEM = 1;
    public static final int ARCH = 2;
    public static final int HANDLE = 3;
    public static final int MODE = 4;
    public static final int VERSION = 5;
    public static final int READ_UNMAPPED = 6;
    public static final int WRITE_UNMAPPED = 7;
    public static final int FETCH_UNMAPPED = 8;
    public static final int HOOK = 9;
    public static final int INSN_INVALID = 10;
    public static final int MAP = 11;
    public static final int WRITE_PROT = 12;
    public static final int READ_PROT = 13;
    public static final int FETCH_PROT = 14;
    public static final int ARG = 15;
    public static final int READ_UNALIGNED = 16;
    public static final int WRITE_UNALIGNED = 17;
    public static final int FETCH_UNALIGNED = 18;
    public static final int HOOK_EXIST = 19;
    public static final int RESOURCE = 20;
    public static final int EXCEPTION = 21;
    public static final int OVERFLOW = 22;

    private static final String[] NAMES = {"UC_ERR_OK", "UC_ERR_NOMEM", "UC_ERR_ARCH", "UC_ERR_HANDLE", "UC_ERR_MODE",
            "UC_ERR_VERSION", "UC_ERR_READ_UNMAPPED", "UC_ERR_WRITE_UNMAPPED", "UC_ERR_FETCH_UNMAPPED", "UC_ERR_HOOK",
            "UC_ERR_INSN_INVALID", "UC_ERR_MAP", "UC_ERR_WRITE_PROT", "UC_ERR_READ_PROT", "UC_ERR_FETCH_PROT",
            "UC_ERR_ARG", "UC_ERR_READ_UNALIGNED", "UC_ERR_WRITE_UNALIGNED", "UC_ERR_FETCH_UNALIGNED",
            "UC_ERR_HOOK_EXIST", "UC_ERR_RESOURCE", "UC_ERR_EXCEPTION", "UC_ERR_OVERFLOW"};

    private final int code;

    UnicornException(int code, String message) {
        super(message);
        this.code = code;
    }

    UnicornException(String message) {
        this(SETUP, message);
    }

    UnicornException(String message, Throwable cause) {
        super(message, cause);
        this.code = SETUP;
    }

    /** The uc_err code, or {@link #SETUP}. */
    public int code() {
        return code;
    }

    /** "UC_ERR_MAP" for 11, etc. */
    public static String codeName(int code) {
        return code >= 0 && code < NAMES.length ? NAMES[code] : "UC_ERR_" + code;
    }
}
