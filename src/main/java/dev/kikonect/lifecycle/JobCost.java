package dev.kikonect.lifecycle;

/**
 * What a claimed job holds in memory on the node that delivers it: the one formula behind both the claim's cut (the
 * batch stops where the running total of {@link #SQL} passes the free memory) and the executor's reservation
 * ({@link #reservedBytes}, the same terms plus what only the executor can know once it holds the job).
 *
 * <ul>
 *   <li>{@link #OVERHEAD} per delivery: the HTTP exchange (OkHttp's buffers, headers, the request record);
 *   <li>the run's payload, once per run on a node (the first claimed job of a run the node does not hold brings it);
 *   <li>the saved responses of its run's steps, which a step's expressions may read ({@code ClaimedJob#readBytes});
 *   <li>known to the executor only: the response it keeps for the steps that need it (up to
 *       {@code kikonect.delivery.max-kept-response}) and the payload's parsed size when its expressions read it (once
 *       per run, see {@code SharedPayloads}). A job they take past the free memory goes back to the queue at once
 *       (never waits holding a lease).
 * </ul>
 */
public final class JobCost {

    /** What one delivery holds besides its payload: OkHttp's buffers, the headers, the request record. */
    public static final long OVERHEAD = 16 * 1024;

    /**
     * The cost the database knows of a due job, as an SQL expression over {@code due} (the job, with {@code brings_payload}:
     * it is the first claimed job of a run the node does not hold, and {@code read_bytes}) and {@code r} (its run).
     */
    static final String SQL = """
      %d + CASE WHEN due.brings_payload THEN r.payload_bytes ELSE 0 END + due.read_bytes
      """.formatted(OVERHEAD).strip();

    private JobCost() {}

    /** The bytes a job reserves for itself (its run's payload is reserved once per run, apart). */
    public static long reservedBytes(ClaimedJob job, long keptBytes) {
        return OVERHEAD + job.readBytes() + keptBytes;
    }
}
