package dev.kikonect.lifecycle;

import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/** Builds a state machine's transition table (JobRunr's AllowedJobStateStateChanges is the model): unlisted states go nowhere. */
final class Transitions {

    private Transitions() {}

    /** {@code pairs}: a state, then the set of states it may go to; repeated. */
    @SuppressWarnings("unchecked")
    static <S extends Enum<S>> Map<S, Set<S>> table(Class<S> type, Object... pairs) {
        EnumMap<S, Set<S>> table = new EnumMap<>(type);
        for (S state : type.getEnumConstants()) {
            table.put(state, Collections.unmodifiableSet(EnumSet.noneOf(type)));
        }
        for (int i = 0; i < pairs.length; i += 2) {
            table.put((S) pairs[i], Collections.unmodifiableSet(EnumSet.copyOf((Set<S>) pairs[i + 1])));
        }
        return Collections.unmodifiableMap(table);
    }
}
