package dev.kikonect.support;

import dev.kikonect.KiKonectProperties;
import java.util.Map;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** {@link KiKonectProperties} as the application binds them (defaults included), for tests without a context. */
public final class TestProperties {

    private TestProperties() {}

    /** {@code settings} are property names without the {@code kikonect.} prefix, e.g. {@code delivery.retry-delays}. */
    public static KiKonectProperties of(Map<String, String> settings) {
        MapConfigurationPropertySource source = new MapConfigurationPropertySource();
        settings.forEach((k, v) -> source.put("kikonect." + k, v));
        return new Binder(source).bindOrCreate("kikonect", KiKonectProperties.class);
    }
}
