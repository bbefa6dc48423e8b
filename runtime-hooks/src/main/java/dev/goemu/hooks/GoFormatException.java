package dev.goemu.hooks;

/** Go runtime metadata (.gopclntab, .go.buildinfo) that is not in a format this reader knows, or is corrupt. */
public final class GoFormatException extends RuntimeException {
    public GoFormatException(String message) {
        super(message);
    }
}
