package dev.kikonect.execution;

import dev.kikonect.common.Printable;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Optional;

/** What the attempt pipeline reads off a step's URL (rendered, so only known at send) and field names. */
final class StepUrls {

    private StepUrls() {}

    /** "steps[1].body" as the step's own field, "body". */
    static String relative(String field) {
        return field.startsWith("steps[") && field.contains("].") ? field.substring(field.indexOf("].") + 2) : field;
    }

    /** Why a URL (templated ones are only known now) cannot be sent to; the address is checked when connecting. */
    static Optional<String> badUrl(String url) {
        try {
            URI uri = new URI(url);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (scheme.equals("listen") && Listeners.validName(uri.getAuthority())) {
                return Optional.empty();
            }
            if (!uri.isAbsolute() || !(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
                return Optional.of("'" + Printable.of(url, 200) + "' is not an absolute http or https URL");
            }
            if (uri.getUserInfo() != null) {
                return Optional.of("must not contain credentials");
            }
            return Optional.empty();
        } catch (URISyntaxException e) {
            return Optional.of("'" + Printable.of(url, 200) + "' is not a valid URL: " + e.getReason());
        }
    }

    /** The receiver a delivery goes to, as host:port ("" when the URL has none: such a delivery fails on its own). */
    static String host(String url) {
        try {
            URI uri = URI.create(url);
            if (uri.getHost() == null) {
                return "";
            }
            int port = uri.getPort() >= 0 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
            return uri.getHost().toLowerCase(Locale.ROOT) + ":" + port;
        } catch (IllegalArgumentException e) {
            return "";
        }
    }
}
