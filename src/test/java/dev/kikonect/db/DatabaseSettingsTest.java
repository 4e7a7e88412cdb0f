package dev.kikonect.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.mock.env.MockEnvironment;

class DatabaseSettingsTest extends ApiTest {

    @Autowired
    JdbcClient jdbc;

    @Test
    void an_external_database_that_may_lose_acknowledged_webhooks_or_vacuums_too_rarely_is_named_at_start() {
        assertThat(DatabaseSettings.warnings(Map.of(
                        "synchronous_commit", "on", "autovacuum_naptime", "1", "autovacuum", "on", "fsync", "on")))
                .isEmpty();
        assertThat(DatabaseSettings.warnings(Map.of("synchronous_commit", "off", "autovacuum_naptime", "60")))
                .hasSize(2)
                .anySatisfy(
                        w -> assertThat(w).contains("synchronous_commit = off").contains("may be lost"))
                .anySatisfy(w -> assertThat(w).contains("autovacuum_naptime = 60 s"));
        assertThat(DatabaseSettings.warnings(Map.of("fsync", "off", "autovacuum", "off")))
                .hasSize(2);
    }

    @Test
    void a_primary_streaming_to_standbys_without_synchronous_standby_names_is_named_at_start() {
        assertThat(DatabaseSettings.warnings(Map.of("synchronous_standby_names", "", "standbys", "2")))
                .singleElement()
                .asString()
                .contains("synchronous_standby_names empty")
                .contains("2 standby(s)");
        assertThat(DatabaseSettings.warnings(
                        Map.of("synchronous_standby_names", "ANY 1 (standby1, standby2)", "standbys", "2")))
                .isEmpty();
        assertThat(DatabaseSettings.warnings(Map.of("synchronous_standby_names", "", "standbys", "0")))
                .as("one server: no failover to lose anything to")
                .isEmpty();
    }

    @Test
    void the_check_reads_the_servers_own_settings() {
        DatabaseSettings check = new DatabaseSettings(
                jdbc, new MockEnvironment().withProperty("spring.datasource.url", "jdbc:postgresql://db/x"));
        assertThat(check.warnings())
                .as("the embedded server as KiKonect configures it")
                .isEmpty();
        try {
            // (the embedded server gets fsync, synchronous_commit and autovacuum_naptime on its command line, which
            // ALTER SYSTEM cannot override; autovacuum it can)
            jdbc.sql("ALTER SYSTEM SET autovacuum = off").update();
            jdbc.sql("SELECT pg_reload_conf()").query(Boolean.class).single();
            eventually().until(() -> !check.warnings().isEmpty());
            assertThat(check.warnings()).singleElement().asString().contains("autovacuum = off");
        } finally {
            jdbc.sql("ALTER SYSTEM RESET autovacuum").update();
            jdbc.sql("SELECT pg_reload_conf()").query(Boolean.class).single();
        }
        eventually().until(() -> check.warnings().isEmpty());
    }
}
