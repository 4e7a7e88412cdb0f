package dev.kikonect.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Compose and systemd wait longer for a stop than KiKonect takes to stop cleanly, so their SIGKILL never comes first. */
class StopGraceTest {

    private static Duration find(Path file, String pattern) throws Exception {
        Matcher m = Pattern.compile(pattern, Pattern.MULTILINE).matcher(Files.readString(file));
        assertThat(m.find()).as(pattern + " in " + file).isTrue();
        return Duration.ofSeconds(Long.parseLong(m.group(1)));
    }

    @Test
    void compose_and_systemd_give_a_stop_more_time_than_spring_s_shutdown_phase_which_holds_the_executor_s_grace()
            throws Exception {
        Duration phase = find(
                Path.of("src/main/resources/application.properties"),
                "^spring\\.lifecycle\\.timeout-per-shutdown-phase=(\\d+)s$");
        Duration grace = Duration.ofSeconds(30); // kikonect.executor.shutdown-grace's default (KiKonectProperties)

        assertThat(phase).as("the executor's grace fits in Spring's phase").isGreaterThan(grace);
        assertThat(find(Path.of("deploy/compose.yaml"), "^\\s+stop_grace_period: (\\d+)s$"))
                .isGreaterThan(phase);
        assertThat(find(Path.of("deploy/kikonect.service"), "^TimeoutStopSec=(\\d+)$"))
                .isGreaterThan(phase);
    }
}
