package dev.kikonect.client;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Python client generated from openapi.yaml (pom.xml, execution "python") reads a workflow: every field the API
 * may send as null is Optional in each per-trigger model (they were plain types once allOf flattened them in, and the
 * client raised on every workflow read). PyPI is not reachable here, so the client is read, not run.
 */
class GeneratedPythonClientTest {

  private static final List<String> NULLABLE = List.of("action_url", "max_attempts", "on_failure_url", "filter", "next_run_at",
      "last_fired_at", "last_run_status", "last_run_at", "webhook_url");

  @Test
  void every_nullable_workflow_field_is_optional_in_each_trigger_types_python_model() throws Exception {
    Path models = Path.of("target/generated-python/kikonect_client/models");
    for (String trigger : List.of("manual", "webhook", "interval", "cron")) {
      String model = Files.readString(models.resolve(trigger + "_workflow.py"));
      for (String field : NULLABLE) {
        Matcher declared = Pattern.compile("(?m)^    " + field + ": (.+)$").matcher(model);
        assertTrue(declared.find(), trigger + "_workflow.py declares " + field);
        assertTrue(declared.group(1).startsWith("Optional["), trigger + "_workflow.py: " + field + ": " + declared.group(1));
      }
    }
  }
}
