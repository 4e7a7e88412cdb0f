package dev.kikonect.web;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BodyBudgetTest {

    @Test
    void one_address_gets_at_most_its_share_of_bytes_and_of_bodies_at_once() {
        BodyBudget budget = new BodyBudget(100_000_000, 1_000_000, 3);

        assertThat(budget.begin("10.0.0.1", 600_000)).isNull();
        assertThat(budget.begin("10.0.0.1", 600_000)).isEqualTo(BodyBudget.Refusal.ADDRESS);
        assertThat(budget.begin("10.0.0.1", 100)).isNull();
        assertThat(budget.begin("10.0.0.1", 100)).isNull();
        assertThat(budget.begin("10.0.0.1", 100)).as("a fourth body at once").isEqualTo(BodyBudget.Refusal.ADDRESS);
        assertThat(budget.begin("10.0.0.2", 600_000)).as("another address").isNull();
    }

    @Test
    void the_node_refuses_big_bodies_at_three_quarters_and_small_ones_only_when_full() {
        BodyBudget budget = new BodyBudget(1_000_000, 1_000_000, 100);

        assertThat(budget.begin("a", 700_000)).isNull();
        assertThat(budget.begin("b", 100_000)).as("big, past three quarters").isEqualTo(BodyBudget.Refusal.NODE);
        assertThat(budget.begin("c", 65_000)).as("small still fits").isNull();
        assertThat(budget.begin("d", 65_000)).isNull();
        assertThat(budget.begin("e", 65_000)).isNull();
        assertThat(budget.begin("f", 65_000)).isNull();
        assertThat(budget.begin("g", 65_000)).as("full").isEqualTo(BodyBudget.Refusal.NODE);
        assertThat(budget.used()).isEqualTo(960_000);
    }

    @Test
    void ending_a_body_gives_its_bytes_back_and_forgets_an_address_with_nothing_left() {
        BodyBudget budget = new BodyBudget(1_000_000, 500_000, 2);
        assertThat(budget.begin("a", 300_000)).isNull();
        assertThat(budget.grow("a", 200_000)).isNull();
        assertThat(budget.grow("a", 1)).as("past the address's share").isEqualTo(BodyBudget.Refusal.ADDRESS);

        budget.end("a", 500_000);

        assertThat(budget.used()).isZero();
        assertThat(budget.addresses()).isZero();
        assertThat(budget.begin("a", 500_000)).isNull();
    }
}
