package dev.kikonect.common;

import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/** The base of the absolute URLs KiKonect hands out (webhook URLs, links in alerts). */
@Component
public class PublicUrls {

    private final String configured;
    private final Environment environment;

    PublicUrls(Environment environment) {
        this.configured = environment.getProperty("kikonect.public-base-url", "");
        this.environment = environment;
    }

    /** {@code kikonect.public-base-url} without a trailing slash, or http://localhost:PORT when it is not set. */
    public String base() {
        if (configured != null && !configured.isBlank()) {
            return configured.replaceAll("/+$", "");
        }
        return "http://localhost:"
                + environment.getProperty("local.server.port", environment.getProperty("server.port", "8080"));
    }
}
