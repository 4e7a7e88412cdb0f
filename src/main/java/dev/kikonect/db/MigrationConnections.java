package dev.kikonect.db;

import com.zaxxer.hikari.HikariDataSource;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.springframework.boot.flyway.autoconfigure.FlywayMigrationStrategy;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * Flyway migrates on connections of its own, opened directly by the driver, not on the pool's.
 *
 * <p>Flyway holds one connection (its lock) while asking for a second; the pool's wait is 1 s (a request that cannot
 * get a connection answers 503 fast), and on a loaded machine the pool had not opened that second connection within
 * the second: the start failed with "Connection is not available, request timed out after 1029ms (total=1,
 * active=1)". A direct connection waits only for the server ({@code connectTimeout}, the same driver properties as
 * the pool's), which is the right deadline at start. With {@code spring.flyway.url} set (the database itself, while
 * the pool goes through pgbouncer in transaction mode, where Flyway's session lock would not hold), Flyway uses that.
 */
@Configuration(proxyBeanMethods = false)
class MigrationConnections {

    @Bean
    FlywayMigrationStrategy migrateOnDirectConnections(DataSource dataSource) {
        return flyway -> {
            // spring.flyway.url (a direct URL beside a pooler's, as behind pgbouncer): Flyway has its own already
            DataSource direct = flyway.getConfiguration().getDataSource() == dataSource ? direct(dataSource) : null;
            if (direct == null) {
                flyway.migrate();
                return;
            }
            Flyway.configure(flyway.getConfiguration().getClassLoader())
                    .configuration(flyway.getConfiguration())
                    .dataSource(direct)
                    .load()
                    .migrate();
        };
    }

    /** The pool's URL, user, password and driver properties without the pool; null when the pool has no URL. */
    private static DataSource direct(DataSource dataSource) {
        if (!(dataSource instanceof HikariDataSource hikari) || hikari.getJdbcUrl() == null) {
            return null;
        }
        DriverManagerDataSource direct =
                new DriverManagerDataSource(hikari.getJdbcUrl(), hikari.getUsername(), hikari.getPassword());
        direct.setConnectionProperties(hikari.getDataSourceProperties());
        return direct;
    }
}
