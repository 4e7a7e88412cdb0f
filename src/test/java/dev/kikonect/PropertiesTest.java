package dev.kikonect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.support.TestProperties;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PropertiesTest {

    @Test
    void one_owner_can_get_another_delivery_limit_than_the_default() {
        KiKonectProperties properties = TestProperties.of(Map.of("executor.owner-concurrency.42", "1000"));

        assertThat(properties.executor().ownerConcurrency()).containsEntry(42L, 1000);
        assertThat(properties.executor().perOwnerConcurrency()).isEqualTo(256);
        assertThat(TestProperties.of(Map.of()).executor().ownerConcurrency()).isEmpty();
    }
}
