package dev.kikonect.db;

import com.zaxxer.hikari.SQLExceptionOverride;
import java.sql.SQLException;

/**
 * Tells HikariCP to close a connection whose server refused a write because it is read-only (SQLSTATE 25006,
 * read_only_sql_transaction): after a failover the old primary comes back as a standby, or a connection reached a
 * standby, and every statement on that connection would fail the same way. Closed, it is replaced by a new
 * connection, which the driver's multi-host URL ({@code targetServerType=primary}) opens on the primary. HikariCP
 * already evicts on broken connections (08xxx, 57P01...); everything else keeps its default handling.
 * ({@code spring.datasource.hikari.exception-override-class-name} in application.properties.)
 */
public class ReadOnlyEviction implements SQLExceptionOverride {

    /** PostgreSQL's SQLSTATE for a write refused by a read-only server or transaction. */
    static final String READ_ONLY = "25006";

    // (no @Override annotation: the interface's nested enum is called Override too)
    public Override adjudicate(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && READ_ONLY.equals(sql.getSQLState())) {
                return Override.MUST_EVICT;
            }
        }
        return Override.CONTINUE_EVICT;
    }
}
