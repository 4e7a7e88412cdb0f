package dev.kikonect.common;

import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Makes a quota hold under concurrent requests. {@code INSERT ... WHERE (SELECT count(*) ...) < :max} alone lets
 * parallel inserts through: under READ COMMITTED each statement counts in its own snapshot, where the others'
 * uncommitted rows do not exist yet (50 parallel creates passed a quota of 3). Taking this lock first, in its own
 * statement of the same transaction, serialises the counting inserts of one owner and kind until commit; the insert's
 * snapshot, taken after the lock, sees what the one before committed.
 */
public final class QuotaLock {

    private QuotaLock() {}

    /** Holds {@code kind}'s quota of {@code owner} until the current transaction ends. */
    public static void take(JdbcClient jdbc, String kind, long owner) {
        if (!TransactionSynchronizationManager.isActualTransactionActive()) {
            throw new IllegalStateException("a quota lock outside a transaction would be released at once");
        }
        jdbc.sql("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
                .param("key", "quota:" + kind + ":" + owner)
                .query(Object.class)
                .single();
    }
}
