package dev.kikonect;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The package structure the code promises, read from one table: which of our packages each package may use. A new
 * package without an entry fails, so does an entry for a package that no longer exists, and so does any use the table
 * does not allow; and only {@code lifecycle} writes the run tables.
 */
class ArchitectureTest {

    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.kikonect");

    /** "root" is {@code dev.kikonect} itself: the application class and {@code KiKonectProperties}. */
    private static final String ROOT = "root";

    /**
     * Every package of {@code dev.kikonect} and the packages it may use (besides itself). Keep it tight: a new arrow is a
     * design decision, made here in review, not by an import.
     */
    private static final Map<String, Set<String>> MAY_USE = Map.ofEntries(
            Map.entry(ROOT, Set.of("common", "cli")), // main() hands a command line to the CLI before Spring starts
            Map.entry("common", Set.of()),
            Map.entry("web", Set.of(ROOT, "common")),
            Map.entry("lifecycle", Set.of(ROOT, "common")),
            Map.entry("db", Set.of(ROOT, "common")),
            Map.entry("audit", Set.of(ROOT, "common")),
            Map.entry("auth", Set.of(ROOT, "common", "web", "audit")),
            Map.entry("steps", Set.of(ROOT, "common", "auth")),
            Map.entry("scheduling", Set.of(ROOT, "common", "lifecycle")),
            Map.entry("execution", Set.of(ROOT, "common", "lifecycle", "steps")),
            Map.entry("cli", Set.of(ROOT, "common", "execution")),
            Map.entry("listen", Set.of(ROOT, "common", "auth", "execution")),
            Map.entry("credentials", Set.of(ROOT, "common", "auth", "audit", "execution")),
            Map.entry("workspace", Set.of(ROOT, "common", "auth", "audit")),
            Map.entry("sso", Set.of(ROOT, "common", "auth", "web")),
            Map.entry(
                    "workflow",
                    Set.of(ROOT, "common", "auth", "audit", "credentials", "execution", "scheduling", "steps")),
            Map.entry("run", Set.of(ROOT, "common", "auth", "audit", "lifecycle", "workflow")),
            Map.entry("notify", Set.of(ROOT, "common", "auth", "credentials", "execution", "workflow")),
            Map.entry("trigger", Set.of(ROOT, "common", "auth", "audit", "lifecycle", "steps", "web", "workflow")));

    /** The package of ours a class is in ("root" for dev.kikonect itself), or null for someone else's. */
    private static String packageOf(JavaClass c) {
        String name = c.getPackageName();
        if (name.equals("dev.kikonect")) {
            return ROOT;
        }
        if (!name.startsWith("dev.kikonect.")) {
            return null;
        }
        String rest = name.substring("dev.kikonect.".length());
        return rest.contains(".") ? rest.substring(0, rest.indexOf('.')) : rest;
    }

    @Test
    void every_package_is_in_the_table_and_every_entry_is_a_package() {
        Set<String> packages = new TreeSet<>();
        CLASSES.forEach(c -> packages.add(packageOf(c)));
        assertThat(packages)
                .as("packages of dev.kikonect")
                .containsExactlyInAnyOrderElementsOf(new TreeSet<>(MAY_USE.keySet()));
    }

    @Test
    void every_package_uses_only_the_packages_its_entry_allows() {
        Set<String> violations = new TreeSet<>();
        for (JavaClass c : CLASSES) {
            String from = packageOf(c);
            for (Dependency d : c.getDirectDependenciesFromSelf()) {
                String to = packageOf(d.getTargetClass());
                if (to != null
                        && !to.equals(from)
                        && !MAY_USE.getOrDefault(from, Set.of()).contains(to)) {
                    violations.add(from + " -> " + to + ": " + d.getDescription());
                }
            }
        }
        assertThat(violations).isEmpty();
    }

    @Test
    void no_two_packages_depend_on_each_other_in_a_cycle() {
        slices().matching("dev.kikonect.(*)..").should().beFreeOfCycles().check(CLASSES);
    }

    /** Statements that write a table: INSERT INTO t, UPDATE t, DELETE FROM t (with an optional alias). */
    private static final Pattern WRITES_RUN_TABLES = Pattern.compile(
            "(?i)\\b(INSERT\\s+INTO|UPDATE|DELETE\\s+FROM)\\s+(workflow_runs|jobs|attempts|run_steps|idempotency_keys|failure_alerts|sub_runs)\\b");

    @Test
    void only_the_lifecycle_package_writes_runs_steps_jobs_and_attempts() throws IOException {
        Path main = Path.of("src/main/java/dev/kikonect");
        List<String> writers;
        try (Stream<Path> files = Files.walk(main)) {
            writers = files.filter(f -> f.toString().endsWith(".java"))
                    .filter(f -> !f.startsWith(main.resolve("lifecycle")))
                    .filter(f -> WRITES_RUN_TABLES.matcher(read(f)).find())
                    .map(Path::toString)
                    .toList();
        }
        assertThat(writers).isEmpty();
        // and the pattern does find the statements where they are
        try (Stream<Path> files = Files.walk(main.resolve("lifecycle"))) {
            assertThat(files.filter(f -> WRITES_RUN_TABLES.matcher(read(f)).find())
                            .count())
                    .isGreaterThanOrEqualTo(5);
        }
    }

    private static String read(Path f) {
        try {
            return Files.isRegularFile(f) ? Files.readString(f) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
