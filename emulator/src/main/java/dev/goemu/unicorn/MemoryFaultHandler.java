package dev.goemu.unicorn;

/** Callback of {@link Unicorn#onInvalidMemory}: an access to unmapped or protected memory. */
@FunctionalInterface
public interface MemoryFaultHandler {
    /**
     * @param type    a {@link MemType} constant (READ_UNMAPPED ... FETCH_PROT)
     * @param value   the value being written (WRITE_* types), else irrelevant
     * @return true if the handler fixed the fault (e.g. mapped the page) and the access should be retried;
     *         false to make {@link Unicorn#start} fail with the matching UC_ERR_* code
     */
    boolean handle(int type, long address, int size, long value);
}
