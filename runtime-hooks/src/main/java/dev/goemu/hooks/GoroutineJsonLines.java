package dev.goemu.hooks;

import java.io.IOException;
import java.io.Writer;

/**
 * Writes goroutine events as JSON Lines, one object per event, for scripts ({@code jq}, pandas):
 * <pre>
 * {"time_ns":1042003,"event":"create","goid":7,"parent_goid":1,"entry":"main.worker","status":"runnable","m":0,"p":0}
 * {"time_ns":1050211,"event":"status","goid":7,"from":"runnable","to":"running","m":2,"p":1}
 * {"time_ns":1093870,"event":"status","goid":7,"from":"running","to":"waiting","reason":"chan receive","m":2,"p":1}
 * </pre>
 * {@code time_ns} is the guest's CLOCK_MONOTONIC; {@code m} and {@code p} are the ids of the M that made the change
 * and the P it held, or null; statuses are the runtime's names without {@code _G}.
 */
public final class GoroutineJsonLines implements GoroutineEvent.Sink {
    private final Writer out;

    public GoroutineJsonLines(Writer out) {
        this.out = out;
    }

    @Override
    public void accept(GoroutineEvent event) throws IOException {
        StringBuilder line = new StringBuilder(160).append("{\"time_ns\":").append(event.timeNanos());
        switch (event) {
            case GoroutineEvent.Created c -> {
                line.append(",\"event\":\"create\",\"goid\":").append(c.goid()).append(",\"parent_goid\":").append(c.parentGoid())
                        .append(",\"entry\":").append(quote(c.entry())).append(",\"status\":\"").append(GoStatus.name(c.status()))
                        .append('"');
                if (c.waitReason() != null) line.append(",\"reason\":").append(quote(c.waitReason()));
            }
            case GoroutineEvent.StatusChanged s -> {
                line.append(",\"event\":\"status\",\"goid\":").append(s.goid()).append(",\"from\":\"")
                        .append(GoStatus.name(s.from())).append("\",\"to\":\"").append(GoStatus.name(s.to())).append('"');
                if (s.waitReason() != null) line.append(",\"reason\":").append(quote(s.waitReason()));
            }
        }
        line.append(",\"m\":").append(id(event.m())).append(",\"p\":").append(id(event.p())).append("}\n");
        out.write(line.toString());
    }

    @Override
    public void finish(long timeNanos) throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    private static String id(long id) {
        return id < 0 ? "null" : Long.toString(id);
    }

    /** A JSON string literal: quotes, backslashes and control characters escaped. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.append('"').toString();
    }
}
