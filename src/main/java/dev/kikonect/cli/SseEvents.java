package dev.kikonect.cli;

/**
 * Server-sent events, read line by line as the WHATWG HTML standard's "event stream interpretation" says: a blank
 * line dispatches; {@code data} lines are joined with newlines; one space after the colon is dropped (and only one);
 * a line starting with a colon is a comment; a field without a colon has an empty value; {@code event} names the
 * type ("message" when none); {@code id}, {@code retry} and unknown fields are ignored here; an event without data is
 * not dispatched.
 */
final class SseEvents {

    /** A dispatched event. */
    record Event(String type, String data) {}

    private String type = "";
    private final StringBuilder data = new StringBuilder();

    /** Takes one line (without its line ending); returns the event it dispatches, if any. */
    Event line(String line) {
        if (line.isEmpty()) {
            return dispatch();
        }
        if (line.startsWith(":")) {
            return null;
        }
        int colon = line.indexOf(':');
        String field = colon < 0 ? line : line.substring(0, colon);
        String value = colon < 0 ? "" : line.substring(colon + 1);
        if (value.startsWith(" ")) {
            value = value.substring(1);
        }
        switch (field) {
            case "event" -> type = value;
            case "data" -> data.append(value).append('\n');
            default -> {
                // id, retry and anything else: nothing KiKonect's stream needs
            }
        }
        return null;
    }

    private Event dispatch() {
        if (data.isEmpty()) {
            type = "";
            return null;
        }
        Event event = new Event(type.isEmpty() ? "message" : type, data.substring(0, data.length() - 1));
        type = "";
        data.setLength(0);
        return event;
    }
}
