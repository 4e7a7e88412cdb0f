package dev.kikonect.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kikonect.KiKonectApplication;
import dev.kikonect.common.StartupProblem;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.BeanCreationException;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.mock.env.MockEnvironment;

/** A start that fails for a reason the operator can fix says so in one paragraph, not a stack trace. */
class StartupFailuresTest {

    @Test
    void
            a_database_that_cannot_be_reached_stops_the_start_with_one_paragraph_on_stderr_naming_it_without_its_parameters() {
        PrintStream original = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            assertThatThrownBy(() -> new SpringApplication(KiKonectApplication.class)
                            .run(
                                    "--spring.datasource.url=jdbc:postgresql://127.0.0.1:1/kikonect?password=s3cret",
                                    "--server.port=0",
                                    "--kikonect.secrets.master-key=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                                    "--spring.datasource.hikari.connection-timeout=2000",
                                    "--spring.main.banner-mode=off"))
                    .isInstanceOf(RuntimeException.class);
        } finally {
            System.setErr(original);
        }
        String said = err.toString(StandardCharsets.UTF_8);
        assertThat(said.lines().filter(l -> l.startsWith("KiKonect did not start: ")))
                .hasSize(1);
        assertThat(said)
                .contains("The database jdbc:postgresql://127.0.0.1:1/kikonect could not be reached")
                .contains("Check spring.datasource.url")
                .doesNotContain("s3cret")
                .doesNotContain("\tat ");
    }

    @Test
    void a_startup_problem_anywhere_in_the_cause_chain_is_its_description_then_its_action_in_one_line() {
        BeanCreationException chain = new BeanCreationException(
                "masterKeys",
                "Constructor threw exception",
                new StartupProblem(
                        "kikonect.secrets.master-key is not base64.",
                        "Set it to base64 of 32 random bytes\n(openssl rand -base64 32)"));

        FailureAnalysis analysis = new StartupFailures.Problems().analyze(chain);

        assertThat(StartupFailures.paragraph(analysis))
                .isEqualTo(
                        "KiKonect did not start: kikonect.secrets.master-key is not base64. Set it to base64 of 32 random bytes (openssl rand -base64 32).");
    }

    @Test
    void only_connection_login_and_missing_database_errors_are_called_unreachable() {
        StartupFailures.DatabaseUnreachable analyzer = new StartupFailures.DatabaseUnreachable(new MockEnvironment()
                .withProperty("spring.datasource.url", "jdbc:postgresql://db:5432/k?user=a&password=b"));

        FailureAnalysis login =
                analyzer.analyze(new RuntimeException(new SQLException("password authentication failed", "28P01")));
        FailureAnalysis syntax = analyzer.analyze(new RuntimeException(new SQLException("syntax error", "42601")));

        assertThat(login.getDescription())
                .startsWith("The database jdbc:postgresql://db:5432/k refused the login")
                .doesNotContain("password=b");
        assertThat(syntax)
                .as("a bug, not the operator's: Spring's stack trace stays")
                .isNull();
    }
}
