package dev.goemu.hooks;

/** The runtime's struct layouts or one of its globals cannot be known for a binary; the message says why, in one line. */
public final class LayoutUnavailableException extends Exception {
    public LayoutUnavailableException(String message) {
        super(message);
    }
}
