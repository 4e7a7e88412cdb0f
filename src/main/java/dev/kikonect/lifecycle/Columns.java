package dev.kikonect.lifecycle;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * The input of a batch statement, {@code unnest(:a::bigint[], :b::text[], ...)}: one array per column, filled from the
 * batch's rows in order, as named parameters. A column is declared once, by its name and how a row gives its value,
 * so the arrays cannot drift apart.
 */
final class Columns<T> {

    private final List<T> rows;
    private final Map<String, Object> params = new LinkedHashMap<>();

    Columns(List<T> rows) {
        this.rows = rows;
    }

    /** A bigint[] column without nulls. */
    Columns<T> bigints(String name, ToLongFunction<T> value) {
        long[] column = new long[rows.size()];
        for (int i = 0; i < column.length; i++) {
            column[i] = value.applyAsLong(rows.get(i));
        }
        return put(name, column);
    }

    /** A bigint[] column that may hold nulls. */
    Columns<T> longs(String name, Function<T, Long> value) {
        return put(name, rows.stream().map(value).toArray(Long[]::new));
    }

    /** An int[] column that may hold nulls. */
    Columns<T> integers(String name, Function<T, Integer> value) {
        return put(name, rows.stream().map(value).toArray(Integer[]::new));
    }

    /** A text[] column (also cast to uuid[], timestamptz[] or jsonb[] in the statement). */
    Columns<T> texts(String name, Function<T, String> value) {
        return put(name, rows.stream().map(value).toArray(String[]::new));
    }

    Map<String, Object> params() {
        return params;
    }

    private Columns<T> put(String name, Object column) {
        if (params.putIfAbsent(name, column) != null) {
            throw new IllegalArgumentException("column " + name + " is declared twice");
        }
        return this;
    }
}
