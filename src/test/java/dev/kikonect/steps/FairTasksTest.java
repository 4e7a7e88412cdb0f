package dev.kikonect.steps;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class FairTasksTest {

    private static Runnable named(List<String> log, String name) {
        return () -> log.add(name);
    }

    @Test
    void workspaces_take_turns_so_a_flood_waits_behind_itself() throws Exception {
        FairTasks tasks = new FairTasks(100);
        List<String> ran = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            assertThat(tasks.offer(1, named(ran, "a" + i))).isTrue();
        }
        tasks.offer(2, named(ran, "b1"));
        tasks.offer(3, named(ran, "c1"));
        tasks.offer(2, named(ran, "b2"));

        Runnable next;
        while ((next = tasks.take(0, TimeUnit.MILLISECONDS)) != null) {
            next.run();
        }

        assertThat(ran).containsExactly("a1", "b1", "c1", "a2", "b2", "a3", "a4", "a5");
    }

    @Test
    void one_workspace_may_fill_half_of_the_queue_and_the_queue_is_bounded() {
        FairTasks tasks = new FairTasks(10);
        int taken = 0;
        while (tasks.offer(1, () -> {})) {
            taken++;
        }
        assertThat(taken).isEqualTo(5);
        for (int i = 0; i < 5; i++) {
            assertThat(tasks.offer(2 + i, () -> {})).as("others still get in").isTrue();
        }
        assertThat(tasks.offer(99, () -> {})).as("full").isFalse();
        assertThat(tasks.size()).isEqualTo(10);
    }

    @Test
    void a_task_taken_back_frees_its_place_and_its_turn() throws Exception {
        FairTasks tasks = new FairTasks(2);
        List<String> ran = new ArrayList<>();
        Runnable gaveUp = named(ran, "a1");
        tasks.offer(1, gaveUp);
        tasks.offer(2, named(ran, "b1"));
        tasks.remove(1, gaveUp);
        assertThat(tasks.offer(3, named(ran, "c1"))).isTrue();
        tasks.take(0, TimeUnit.MILLISECONDS).run();
        tasks.take(0, TimeUnit.MILLISECONDS).run();
        assertThat(ran).containsExactly("b1", "c1");
    }

    @Test
    void an_empty_queue_answers_null_at_its_deadline_and_a_closed_one_at_once() throws Exception {
        FairTasks tasks = new FairTasks(4);
        assertThat(tasks.take(10, TimeUnit.MILLISECONDS)).isNull();
        tasks.close();
        assertThat(tasks.offer(1, () -> {})).isFalse();
        assertThat(tasks.take(1, TimeUnit.MINUTES)).isNull();
    }
}
