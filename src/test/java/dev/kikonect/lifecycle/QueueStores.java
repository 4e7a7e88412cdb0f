package dev.kikonect.lifecycle;

import dev.kikonect.support.TestDatabase;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The queue's stores on the test database, built as the application builds them: a budget of {@code maxAttempts}
 * attempts when a workflow sets none, and retry delays of 100 and 200 ms.
 */
record QueueStores(
        JdbcClient jdbc,
        TransactionTemplate transactions,
        Claims claims,
        Completions completions,
        Leases leases,
        RunControl control,
        ScheduledRuns runs) {

    static QueueStores on(TestDatabase db, int maxAttempts) {
        JdbcClient jdbc = db.jdbc();
        TransactionTemplate transactions = db.transactions();
        return new QueueStores(
                jdbc,
                transactions,
                new Claims(jdbc, maxAttempts),
                new Completions(jdbc),
                new Leases(jdbc, maxAttempts, new long[] {100, 200}),
                new RunControl(jdbc, transactions),
                new ScheduledRuns(jdbc));
    }
}
