package dev.goemu.hooks.dwarf;

/** A struct member: its name (an embedded field is named after its type), its byte offset and its type. */
public record DwarfField(String name, long offset, DwarfType type) {
    /** The bytes the member occupies: its type's size. */
    public long size() {
        return type.size();
    }
}
