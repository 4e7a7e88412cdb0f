package dev.kikonect.run;

import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** Reads run history, always scoped to the owner. Runs are written by the Triggerer and the executor. */
@Repository
class RunStore {

  private final JdbcClient jdbc;

  RunStore(JdbcClient jdbc) {
    this.jdbc = jdbc;
  }

  Optional<Run> findOwned(long userId, long id) {
    return jdbc.sql("SELECT " + Run.COLUMNS + " FROM workflow_runs WHERE id = :id AND user_id = :user")
        .param("id", id)
        .param("user", userId)
        .query(Run::fromRow)
        .optional();
  }

  /** Newest first, {@code limit + 1} rows below {@code beforeId}. */
  List<Run> listForWorkflow(long userId, long workflowId, long beforeId, int limit) {
    return jdbc.sql(
            "SELECT " + Run.COLUMNS
                + """
                 FROM workflow_runs
                WHERE workflow_id = :workflow AND user_id = :user AND id < :before
                ORDER BY id DESC LIMIT :limit
                """)
        .param("workflow", workflowId)
        .param("user", userId)
        .param("before", beforeId)
        .param("limit", limit + 1)
        .query(Run::fromRow)
        .list();
  }
}
