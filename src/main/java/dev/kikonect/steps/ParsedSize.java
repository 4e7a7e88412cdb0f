package dev.kikonect.steps;

/**
 * About how many bytes of heap a JSON text takes once parsed into maps, lists, strings and numbers, counted from its
 * structure in one pass over the bytes, without parsing: a map ~64 bytes and ~48 an entry, a list ~40 and ~16 an item
 * (the slot and a boxed number), a string ~40 plus its characters. {@code [0,0,0,...]} comes out at ~9 times its
 * bytes, {@code [{},{},...]} at ~27: what a byte count alone would miss. The memory budgets of the executor and the
 * expression sandbox take this figure for a payload that expressions will read.
 */
public final class ParsedSize {

    private ParsedSize() {}

    public static long estimate(byte[] json) {
        long objects = 0;
        long arrays = 0;
        long commas = 0;
        long colons = 0;
        long quotes = 0;
        boolean inString = false;
        for (int i = 0; i < json.length; i++) {
            byte b = json[i];
            if (inString) {
                if (b == '\\') {
                    i++;
                } else if (b == '"') {
                    inString = false;
                }
                continue;
            }
            switch (b) {
                case '{' -> objects++;
                case '[' -> arrays++;
                case ',' -> commas++;
                case ':' -> colons++;
                case '"' -> {
                    quotes++;
                    inString = true;
                }
                default -> {}
            }
        }
        return 64 * objects + 40 * arrays + 16 * (commas + 1) + 48 * colons + 40 * quotes + json.length;
    }
}
