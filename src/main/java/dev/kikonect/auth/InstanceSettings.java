package dev.kikonect.auth;

import dev.kikonect.KiKonectProperties;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * Instance-wide settings an instance administrator changed at run time ({@code PATCH /instance}), over the
 * configuration: today who may register. Owns {@code instance_settings} (one row at most). Read from the database on
 * every registration (rare, throttled), so that every node applies a change at once.
 */
@Repository
class InstanceSettings {

    /** The registration mode in force and where it comes from: {@code configuration} or {@code instance} (an admin set it). */
    record Registration(String mode, String source, String configured) {}

    private final JdbcClient jdbc;
    private final String configured;

    InstanceSettings(JdbcClient jdbc, KiKonectProperties properties) {
        this.jdbc = jdbc;
        this.configured = properties.auth().registration();
    }

    Registration registration() {
        Optional<String> set = jdbc.sql("SELECT registration FROM instance_settings WHERE registration IS NOT NULL")
                .query(String.class)
                .optional();
        return set.map(mode -> new Registration(mode, "instance", configured))
                .orElse(new Registration(configured, "configuration", configured));
    }

    /** Sets the mode ({@code null}: back to the configuration's). */
    void setRegistration(String mode, long by, Instant now) {
        jdbc.sql("""
            INSERT INTO instance_settings (singleton, registration, updated_at, updated_by) VALUES (true, :mode, :now, :by)
            ON CONFLICT (singleton) DO UPDATE SET registration = EXCLUDED.registration, updated_at = EXCLUDED.updated_at,
                                                  updated_by = EXCLUDED.updated_by
            """)
                .param("mode", mode)
                .param("now", Timestamp.from(now))
                .param("by", by)
                .update();
    }
}
