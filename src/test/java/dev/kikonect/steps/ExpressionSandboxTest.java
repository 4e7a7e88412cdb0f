package dev.kikonect.steps;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * The sandbox against the bomb corpus: every hostile expression fails its own evaluation (refused at compile time
 * with a position, or over its budget), the built-ins it leans on honour the budget, and the sandbox's thread is free
 * for the next expression afterwards.
 */
class ExpressionSandboxTest {

    private static final Map<String, Object> CONTEXT = Map.of("payload", Collections.nCopies(100_000, 0));

    @Test
    void every_bomb_of_the_corpus_fails_its_own_evaluation_and_leaves_the_sandbox_usable() {
        List<String> bombs = ExpressionBombs.all();
        assertThat(bombs).hasSizeGreaterThanOrEqualTo(30);
        List<String> escaped = new ArrayList<>();
        for (String bomb : bombs) {
            try {
                Object result = Expression.compile("body", bomb).evaluate(CONTEXT);
                if (!ExpressionBombs.harmless().contains(bomb)) {
                    escaped.add(abbreviated(bomb) + " -> " + abbreviated(String.valueOf(result)));
                }
            } catch (ExpressionException e) {
                assertThat(e.busy()).as("%s: %s", abbreviated(bomb), e.reason()).isFalse();
                assertThat(e.reason()).as(abbreviated(bomb)).isNotBlank();
            }
            assertThat(Expression.compile("body", "1 + 1").evaluate(CONTEXT))
                    .as("after " + abbreviated(bomb))
                    .isEqualTo(2);
        }
        assertThat(escaped).as("bombs that were evaluated to the end").isEmpty();
    }

    @Test
    void a_doubling_recursion_stops_on_its_allocation_or_depth_not_the_heap() {
        assertThatThrownBy(() -> Expression.compile("body", "($f := function($s) { $f($s & $s) }; $f(\"x\"))")
                        .evaluate(CONTEXT))
                .isInstanceOfSatisfying(ExpressionException.class, e -> {
                    assertThat(e.budgetExceeded()).isTrue();
                    assertThat(e.reason()).startsWith("expression budget exceeded: ");
                });
    }

    @Test
    void a_pad_to_a_huge_width_is_refused_before_it_allocates() {
        ExpressionBudget.Limits limits = ExpressionBudget.Limits.DEFAULT;
        ExpressionSandbox sandbox =
                new ExpressionSandbox(new ExpressionSandbox.Settings(1, 4, Duration.ofSeconds(30), limits));
        ExpressionException e = sandbox.call("body", budget -> {
            try {
                Expression.compile("body", "$pad(\"x\", 150000000)").evaluate(CONTEXT);
                return null;
            } catch (ExpressionException thrown) {
                assertThat(budget.allocated()).as("bytes allocated").isLessThan(limits.allocatedBytes());
                return thrown;
            }
        });
        assertThat(e).isNotNull();
        assertThat(e.reason()).contains("would allocate more than");
    }

    @Test
    void a_catastrophic_regular_expression_is_stopped_inside_the_matcher() {
        assertThatThrownBy(() -> Expression.compile("filter", "$match($pad(\"\", 40, \"a\"), /(.*a){12}x/)")
                        .evaluate(CONTEXT))
                .isInstanceOfSatisfying(
                        ExpressionException.class,
                        e -> assertThat(e.budgetExceeded()).as(e.reason()).isTrue());
    }

    @Test
    void brackets_nested_too_deeply_are_refused_at_compile_time_with_their_position() {
        assertThatThrownBy(() -> Expression.compile("filter", "(".repeat(5000) + "1" + ")".repeat(5000)))
                .isInstanceOfSatisfying(ExpressionException.class, e -> {
                    assertThat(e.position()).isEqualTo(Expression.MAX_NESTING);
                    assertThat(e.reason()).contains("nested more than");
                });
        assertThat(Expression.compile("filter", "(".repeat(90) + "1" + ")".repeat(90))
                        .evaluate(CONTEXT))
                .isEqualTo(1);
        assertThat(Expression.compile("filter", "'((((' & \"[[[[\"").evaluate(CONTEXT))
                .isEqualTo("(((([[[[");
    }

    @Test
    void a_busy_sandbox_says_so_instead_of_evaluating_late() throws Exception {
        ExpressionSandbox sandbox = new ExpressionSandbox(
                new ExpressionSandbox.Settings(1, 1, Duration.ofMillis(50), ExpressionBudget.Limits.DEFAULT));
        var release = new CountDownLatch(1);
        var holding = new CountDownLatch(1);
        Thread holder = Thread.ofVirtual()
                .start(() -> sandbox.call("a", budget -> {
                    holding.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return null;
                }));
        holding.await();
        try {
            assertThatThrownBy(() -> sandbox.call("b", () -> 1))
                    .isInstanceOfSatisfying(
                            ExpressionException.class, e -> assertThat(e.busy()).isTrue());
        } finally {
            release.countDown();
            holder.join();
        }
        assertThat(sandbox.call("c", () -> 2)).isEqualTo(2);
    }

    @Test
    void legitimate_built_ins_still_give_jsonata_results() {
        Map<String, Object> ctx = Map.of("payload", Map.of("s", "a-b-c", "n", List.of(3, 1, 2)));
        assertThat(eval("$pad('ab', 5, '#')", ctx)).isEqualTo("ab###");
        assertThat(eval("$pad('ab', -5)", ctx)).isEqualTo("   ab");
        assertThat(eval("$join(['a','b'], ',')", ctx)).isEqualTo("a,b");
        assertThat(eval("$split(payload.s, '-')", ctx)).isEqualTo(List.of("a", "b", "c"));
        assertThat(eval("$split(payload.s, /-/, 2)", ctx)).isEqualTo(List.of("a", "b"));
        assertThat(eval("$replace(payload.s, '-', '+')", ctx)).isEqualTo("a+b+c");
        assertThat(eval("$replace('John Smith', /(\\w+)\\s(\\w+)/, '$2, $1')", ctx))
                .isEqualTo("Smith, John");
        assertThat(eval("$replace('a1b22', /\\d+/, function($m) { '<' & $m.match & '>' })", ctx))
                .isEqualTo("a<1>b<22>");
        assertThat(eval("$replace('costs 5', /(\\d)/, '$$$1')", ctx)).isEqualTo("costs $5");
        assertThat(eval("$contains(payload.s, /b-c$/)", ctx)).isEqualTo(true);
        assertThat(eval("$match('ab12cd3', /\\d+/).match", ctx)).isEqualTo(List.of("12", "3"));
        assertThat(eval("$string(payload.n)", ctx)).isEqualTo("[3,1,2]");
        assertThat(eval("$sort(payload.n)", ctx)).isEqualTo(List.of(1, 2, 3));
        assertThat(eval("$count([1..1000])", ctx)).isEqualTo(1000);
        assertThat(eval("'x' & 1 & true", ctx)).isEqualTo("x1true");
        assertThat(eval("$fromMillis(0, '[Y0001]-[M01]-[D01]')", ctx)).isEqualTo("1970-01-01");
        assertThat(eval("$map([1,2,3], function($v) { $v * 2 })", ctx)).isEqualTo(List.of(2, 4, 6));
    }

    private static Object eval(String expression, Map<String, Object> ctx) {
        Object result = Expression.compile("body", expression).evaluate(ctx);
        return result instanceof List<?> l ? new ArrayList<>(l) : result;
    }

    private static String abbreviated(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }
}
