package dev.kikonect.steps;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The expression sandbox: JSONata over plain JSON values, errors with their position, bounded in time and depth. */
class ExpressionTest {

    private final Map<String, Object> context = Map.of(
            "payload",
            Map.of(
                    "ref",
                    "refs/heads/main",
                    "commits",
                    List.of(Map.of("id", "a"), Map.of("id", "b")),
                    "pusher",
                    Map.of("name", "ada"),
                    "repository",
                    Map.of("name", "kiki konect")));

    @Test
    void a_body_expression_builds_json_from_the_payload() {
        Object body = Expression.compile(
                        "steps[0].body",
                        "{ 'title': 'Push by ' & payload.pusher.name, 'commits': $count(payload.commits) }")
                .evaluate(context);

        assertThat(body).isInstanceOf(Map.class);
        Map<?, ?> map = (Map<?, ?>) body;
        assertThat(map.get("title")).isEqualTo("Push by ada");
        assertThat(((Number) map.get("commits")).intValue()).isEqualTo(2);
    }

    @Test
    void a_filter_is_true_or_false_and_a_missing_field_is_undefined() {
        assertThat(Expression.compile("filter", "payload.ref = 'refs/heads/main'")
                        .evaluate(context))
                .isEqualTo(true);
        assertThat(Expression.compile("filter", "payload.ref = 'refs/heads/dev'")
                        .evaluate(context))
                .isEqualTo(false);
        assertThat(Expression.compile("filter", "payload.nothing").evaluate(context))
                .isNull();
    }

    @Test
    void a_syntax_error_names_the_field_and_the_position() {
        assertThatThrownBy(() -> Expression.compile("steps[1].body", "{ 'a': payload.x & }"))
                .isInstanceOfSatisfying(ExpressionException.class, e -> {
                    assertThat(e.field()).isEqualTo("steps[1].body");
                    assertThat(e.position()).isBetween(15, 20);
                    assertThat(e.reason()).contains("at position");
                });
    }

    @Test
    void endless_recursion_and_long_loops_are_stopped_by_the_bounds() {
        assertThatThrownBy(() -> Expression.compile("body", "($f := function($n) { $f($n + 1) }; $f(0))")
                        .evaluate(context))
                .isInstanceOf(ExpressionException.class);
        assertThatThrownBy(() -> Expression.compile("body", "$sum([1..10000000].($ * 2))")
                        .evaluate(context))
                .isInstanceOf(ExpressionException.class);
    }

    @Test
    void an_expression_over_its_budget_fails_as_such_and_is_not_tried_again() {
        assertThatThrownBy(() ->
                        Expression.compile("body", "$sum([1..900000].($ * 2))").evaluate(context))
                .isInstanceOfSatisfying(ExpressionException.class, e -> {
                    assertThat(e.budgetExceeded()).isTrue();
                    assertThat(e.reason()).startsWith("expression budget exceeded: ");
                });
    }

    @Test
    void a_template_fills_its_parts_and_an_undefined_part_fails_with_its_position() {
        Template url = Template.compile(
                "steps[0].url",
                "https://chat.example.com/hooks/{{ $encodeUrlComponent(payload.repository.name) }}?n={{ $count(payload.commits) }}");

        assertThat(url.render(context, Object::toString)).isEqualTo("https://chat.example.com/hooks/kiki%20konect?n=2");
        assertThat(url.isStatic()).isFalse();
        assertThatThrownBy(() -> Template.compile("steps[0].url", "https://x.example/{{ payload.missing }}")
                        .render(context, Object::toString))
                .isInstanceOfSatisfying(ExpressionException.class, e -> {
                    assertThat(e.getMessage()).contains("undefined");
                    assertThat(e.position()).isEqualTo(20);
                });
        assertThatThrownBy(() -> Template.compile("steps[0].url", "https://x.example/{{ payload.a"))
                .isInstanceOf(ExpressionException.class);
    }
}
