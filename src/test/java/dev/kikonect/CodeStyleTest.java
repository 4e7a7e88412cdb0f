package dev.kikonect;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No inline fully-qualified type names in code: a type is imported and named by its simple name. Comments and string
 * literals are not code; a name stays qualified only where its simple name is taken (imported from another package,
 * declared in the file or in its package), the one reason Java has for it.
 */
class CodeStyleTest {

    private static final Pattern QUALIFIED =
            Pattern.compile("(?<![\\w.$\"])((?:[a-z][a-z0-9_]*\\.)+)([A-Z][A-Za-z0-9_]*)");
    private static final Pattern IMPORT = Pattern.compile("(?m)^import (static )?([\\w.]+)\\.(\\w+);");
    private static final Pattern DECLARED = Pattern.compile("\\b(?:class|interface|enum|record)\\s+([A-Z]\\w*)");
    private static final Pattern HEADER = Pattern.compile("(?m)^(?:import|package) .*;\\s*$");
    private static final List<String> ROOTS =
            List.of("java.", "javax.", "jakarta.", "org.", "com.", "tools.", "io.", "dev.", "okhttp3.", "okio.");

    @Test
    void code_names_types_by_their_imported_simple_names() throws IOException {
        List<String> found = new ArrayList<>();
        for (Path root : List.of(Path.of("src/main/java"), Path.of("src/test/java"))) {
            try (Stream<Path> files = Files.walk(root)) {
                for (Path file :
                        files.filter(f -> f.toString().endsWith(".java")).toList()) {
                    found.addAll(qualifiedNames(file));
                }
            }
        }
        assertThat(found).isEmpty();
    }

    @Test
    void the_check_sees_a_qualified_name_in_code_but_not_in_a_comment_or_a_string() {
        String source = """
        package dev.kikonect.x;

        import java.util.List;

        class A {
          /** {@link java.util.Map} */
          java.util.Set<String> s; // java.util.Queue
          String t = "java.util.Deque";
          java.awt.List clash;
        }
        """;
        assertThat(qualifiedNames(source, Set.of("A"))).containsExactly("java.util.Set");
    }

    private static List<String> qualifiedNames(Path file) {
        try (Stream<Path> siblings = Files.list(file.getParent())) {
            Set<String> samePackage = siblings.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".java"))
                    .map(n -> n.substring(0, n.length() - 5))
                    .collect(Collectors.toSet());
            return qualifiedNames(Files.readString(file), samePackage).stream()
                    .map(n -> file + ": " + n)
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<String> qualifiedNames(String source, Set<String> samePackage) {
        Map<String, String> imported = new HashMap<>();
        Matcher imports = IMPORT.matcher(source);
        while (imports.find()) {
            if (imports.group(1) == null) {
                imported.put(imports.group(3), imports.group(2) + "." + imports.group(3));
            }
        }
        Set<String> declared =
                DECLARED.matcher(source).results().map(r -> r.group(1)).collect(Collectors.toSet());
        int bodyStart =
                HEADER.matcher(source).results().mapToInt(r -> r.end()).max().orElse(0);
        List<String> found = new ArrayList<>();
        for (String code : code(source.substring(bodyStart))) {
            Matcher m = QUALIFIED.matcher(code);
            while (m.find()) {
                String prefix = m.group(1);
                String name = m.group(2);
                String full = prefix + name;
                if (ROOTS.stream().noneMatch(prefix::startsWith)) {
                    continue;
                }
                boolean taken = declared.contains(name)
                        || samePackage.contains(name)
                        || (imported.containsKey(name) && !imported.get(name).equals(full));
                if (!taken) {
                    found.add(full);
                }
            }
        }
        return found;
    }

    /** The code of a Java source without its comments, string and character literals and text blocks. */
    private static List<String> code(String src) {
        List<String> runs = new ArrayList<>();
        StringBuilder run = new StringBuilder();
        int i = 0;
        while (i < src.length()) {
            int end;
            if (src.startsWith("\"\"\"", i)) {
                end = src.indexOf("\"\"\"", i + 3);
                end = end < 0 ? src.length() : end + 3;
            } else if (src.charAt(i) == '"' || src.charAt(i) == '\'') {
                char quote = src.charAt(i);
                end = i + 1;
                while (end < src.length() && src.charAt(end) != quote) {
                    end += src.charAt(end) == '\\' ? 2 : 1;
                }
                end++;
            } else if (src.startsWith("//", i)) {
                end = src.indexOf('\n', i);
                end = end < 0 ? src.length() : end;
            } else if (src.startsWith("/*", i)) {
                end = src.indexOf("*/", i + 2);
                end = end < 0 ? src.length() : end + 2;
            } else {
                run.append(src.charAt(i++));
                continue;
            }
            runs.add(run.toString());
            run.setLength(0);
            runs.add(" "); // a literal or comment separates code
            i = Math.min(end, src.length());
        }
        runs.add(run.toString());
        return runs;
    }
}
