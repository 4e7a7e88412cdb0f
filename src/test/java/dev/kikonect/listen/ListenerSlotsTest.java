package dev.kikonect.listen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kikonect.common.DomainException;
import org.junit.jupiter.api.Test;

class ListenerSlotsTest {

    @Test
    void one_workspace_or_one_person_cannot_hold_every_slot_of_a_node() {
        ListenerSlots slots = new ListenerSlots(10, 3, 4);
        for (int i = 0; i < 3; i++) {
            slots.take(1, 100 + i);
        }
        assertThatThrownBy(() -> slots.take(1, 200))
                .isInstanceOf(DomainException.RateLimited.class)
                .hasMessageContaining("workspace");
        for (int w = 2; w < 6; w++) {
            slots.take(w, 7);
        }
        assertThatThrownBy(() -> slots.take(9, 7))
                .isInstanceOf(DomainException.RateLimited.class)
                .hasMessageContaining("You have 4");
        slots.take(9, 8); // another person, another workspace: 8 of 10
        slots.take(10, 9);
        slots.take(11, 10);
        assertThatThrownBy(() -> slots.take(12, 11)).isInstanceOf(DomainException.Unavailable.class);
        slots.give(1, 100);
        slots.take(1, 201);
        assertThat(slots.open()).isEqualTo(10);
    }

    @Test
    void a_slot_given_back_leaves_no_count_behind() {
        ListenerSlots slots = new ListenerSlots(2, 1, 1);
        slots.take(1, 1);
        slots.give(1, 1);
        slots.take(1, 1);
        slots.give(1, 1);
        assertThat(slots.open()).isZero();
        slots.take(1, 1);
        assertThatThrownBy(() -> slots.take(1, 2)).isInstanceOf(DomainException.RateLimited.class);
    }
}
