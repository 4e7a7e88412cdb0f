package dev.kikonect.steps;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The corpus of hostile expressions in {@code expression-bombs.txt}, with its built lines expanded. */
public final class ExpressionBombs {

    private ExpressionBombs() {}

    /** The lines marked {@code ok:}: hostile to the engine's own built-ins, harmless here; they end with a result. */
    public static List<String> harmless() {
        return lines().stream()
                .filter(l -> l.startsWith("ok: "))
                .map(l -> l.substring(4))
                .toList();
    }

    /** Every hostile expression, harmless ones included. */
    public static List<String> all() {
        return lines().stream()
                .map(l -> l.startsWith("ok: ") ? l.substring(4) : l)
                .toList();
    }

    private static List<String> lines() {
        try (var in = ExpressionBombs.class.getResourceAsStream("/expression-bombs.txt")) {
            List<String> bombs = new ArrayList<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] parts = line.split(" ", 4);
                if (parts[0].equals("NEST")) {
                    int n = Integer.parseInt(parts[1]);
                    bombs.add(parts[2].repeat(n) + "1" + parts[3].repeat(n));
                } else if (parts[0].equals("CHAIN")) {
                    bombs.add("1" + parts[2].repeat(Integer.parseInt(parts[1])));
                } else {
                    bombs.add(line);
                }
            }
            return bombs;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
