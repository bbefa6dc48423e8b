package dev.goemu.loader;

/** A defined symbol from .symtab; {@code type} is the ELF STT_* value. */
public record Symbol(String name, long value, long size, int type) {
    public static final int STT_NOTYPE = 0, STT_OBJECT = 1, STT_FUNC = 2, STT_SECTION = 3, STT_FILE = 4, STT_TLS = 6;
}
