package dev.goemu.hooks.dwarf;

/** A global variable: its Go name ("runtime.sched"), its static address and its type. */
public record DwarfVariable(String name, long address, DwarfType type) {
}
