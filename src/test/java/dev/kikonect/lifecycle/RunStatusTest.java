package dev.kikonect.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/** The one list of run statuses is the one the database, the API description and the web app use. */
class RunStatusTest extends ApiTest {

    @Autowired
    JdbcClient jdbc;

    private static final Set<String> ENUM = new LinkedHashSet<>(
            Arrays.stream(RunStatus.values()).map(RunStatus::wire).toList());

    @Test
    void the_database_check_allows_exactly_the_enum() {
        String check = jdbc.sql(
                        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'workflow_runs_status_check'"
                                + " AND conrelid = 'workflow_runs'::regclass")
                .query(String.class)
                .single();
        assertThat(quoted(check)).isEqualTo(ENUM);
    }

    @Test
    void the_openapi_enum_is_exactly_the_enum() throws IOException {
        String yaml = Files.readString(Path.of("src/main/resources/openapi.yaml"));
        Matcher m = Pattern.compile("RunStatus: \\{type: string, enum: \\[([^]]*)]}")
                .matcher(yaml);
        assertThat(m.find()).isTrue();
        assertThat(new LinkedHashSet<>(List.of(m.group(1).split(",\\s*")))).isEqualTo(ENUM);
    }

    @Test
    void the_web_app_knows_every_status() throws IOException {
        String types = Files.readString(Path.of("web/src/api-types.ts"));
        Matcher m = Pattern.compile("RunStatus: \"([^;]*)\";").matcher(types);
        assertThat(m.find())
                .as("RunStatus in web/src/api-types.ts (generated from openapi.yaml)")
                .isTrue();
        assertThat(new LinkedHashSet<>(List.of(m.group(1).split("\" \\| \"")))).isEqualTo(ENUM);
    }

    @Test
    void only_pending_running_and_retrying_are_unfinished() {
        assertThat(RunStatus.ACTIVE).containsExactly(RunStatus.PENDING, RunStatus.RUNNING, RunStatus.RETRYING);
        assertThat(Arrays.stream(RunStatus.values()).filter(RunStatus::finished))
                .containsExactly(
                        RunStatus.SUCCEEDED,
                        RunStatus.FAILED,
                        RunStatus.CANCELLED,
                        RunStatus.SKIPPED,
                        RunStatus.FILTERED);
        assertThat(RunStatus.ACTIVE_SQL).isEqualTo("('pending', 'running', 'retrying')");
    }

    private static Set<String> quoted(String sql) {
        Set<String> out = new LinkedHashSet<>();
        Matcher m = Pattern.compile("'([a-z_]+)'").matcher(sql);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }
}
