package dev.goemu.unicorn;

/** Callback of {@link Unicorn#onCode} (one instruction) and {@link Unicorn#onBlock} (one basic block). */
@FunctionalInterface
public interface CodeHandler {
    void handle(long address, int size);
}
