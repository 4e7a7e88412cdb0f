package dev.kikonect.common;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * One page of a newest-first list. The cursor is opaque to clients; inside it is the id of the last item, so paging
 * is a keyset scan ({@code id < cursor}) that stays stable while new rows arrive.
 */
public record Page<T>(List<T> items, String nextCursor) {

    public static final int DEFAULT_LIMIT = 50;
    public static final int MAX_LIMIT = 200;

    /** {@code rows} were fetched with {@code limit + 1}; the extra row only says whether another page exists. */
    public static <T> Page<T> of(List<T> rows, int limit, ToLongFunction<T> id) {
        if (rows.size() <= limit) {
            return new Page<>(rows, null);
        }
        List<T> items = rows.subList(0, limit);
        return new Page<>(List.copyOf(items), encode(id.applyAsLong(items.get(limit - 1))));
    }

    public static int limit(Integer requested) {
        if (requested == null) {
            return DEFAULT_LIMIT;
        }
        if (requested < 1 || requested > MAX_LIMIT) {
            throw new DomainException.InvalidInput(
                    List.of(new FieldProblem("limit", "must be between 1 and " + MAX_LIMIT)));
        }
        return requested;
    }

    /** The id to continue below, or {@link Long#MAX_VALUE} for the first page. */
    public static long before(String cursor) {
        if (cursor == null || cursor.isEmpty()) {
            return Long.MAX_VALUE;
        }
        try {
            String decoded = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            if (!decoded.startsWith("id:")) {
                throw new IllegalArgumentException();
            }
            return Long.parseLong(decoded.substring(3));
        } catch (IllegalArgumentException e) {
            throw new DomainException.InvalidInput(
                    List.of(new FieldProblem("cursor", "is not a cursor returned by this API")));
        }
    }

    private static String encode(long id) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(("id:" + id).getBytes(StandardCharsets.UTF_8));
    }
}
