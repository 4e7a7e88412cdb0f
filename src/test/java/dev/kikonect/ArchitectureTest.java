package dev.kikonect;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.syntax.ArchRuleDefinition;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The package structure the code promises: feature packages without cycles, one owner for the run tables. */
class ArchitectureTest {

  private static final JavaClasses CLASSES =
      new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.kikonect");

  @Test
  void no_two_feature_packages_depend_on_each_other_in_a_cycle() {
    slices().matching("dev.kikonect.(*)..").should().beFreeOfCycles().check(CLASSES);
  }

  @Test
  void common_depends_on_no_other_package_of_ours() {
    ArchRuleDefinition.noClasses()
        .that()
        .resideInAPackage("dev.kikonect.common..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.kikonect.auth..", "dev.kikonect.web..", "dev.kikonect.workflow..", "dev.kikonect.trigger..",
            "dev.kikonect.run..", "dev.kikonect.lifecycle..", "dev.kikonect.scheduling..", "dev.kikonect.execution..",
            "dev.kikonect.db..")
        .orShould()
        .dependOnClassesThat()
        .belongToAnyOf(dev.kikonect.KiKonectProperties.class)
        .check(CLASSES);
  }

  @Test
  void the_lifecycle_package_depends_only_on_common() {
    ArchRuleDefinition.noClasses()
        .that()
        .resideInAPackage("dev.kikonect.lifecycle..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.kikonect.auth..", "dev.kikonect.web..", "dev.kikonect.workflow..", "dev.kikonect.trigger..",
            "dev.kikonect.run..", "dev.kikonect.scheduling..", "dev.kikonect.execution..")
        .check(CLASSES);
  }

  /** Statements that write a table: INSERT INTO t, UPDATE t, DELETE FROM t (with an optional alias). */
  private static final Pattern WRITES_RUN_TABLES =
      Pattern.compile("(?i)\\b(INSERT\\s+INTO|UPDATE|DELETE\\s+FROM)\\s+(workflow_runs|jobs|attempts|idempotency_keys|failure_alerts)\\b");

  @Test
  void only_the_lifecycle_package_writes_runs_jobs_and_attempts() throws IOException {
    Path main = Path.of("src/main/java/dev/kikonect");
    List<String> writers;
    try (Stream<Path> files = Files.walk(main)) {
      writers =
          files
              .filter(f -> f.toString().endsWith(".java"))
              .filter(f -> !f.startsWith(main.resolve("lifecycle")))
              .filter(f -> WRITES_RUN_TABLES.matcher(read(f)).find())
              .map(Path::toString)
              .toList();
    }
    assertThat(writers).isEmpty();
    // and the pattern does find the statements where they are
    try (Stream<Path> files = Files.walk(main.resolve("lifecycle"))) {
      assertThat(files.filter(f -> WRITES_RUN_TABLES.matcher(read(f)).find()).count()).isGreaterThanOrEqualTo(5);
    }
  }

  private static String read(Path f) {
    try {
      return Files.isRegularFile(f) ? Files.readString(f) : "";
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
