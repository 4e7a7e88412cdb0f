package dev.kikonect.trigger;

import dev.kikonect.common.DomainException;
import dev.kikonect.web.ApiException;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.databind.json.JsonMapper;

/**
 * Turns an incoming trigger body into the JSON text that will be delivered: JSON exactly as it came (validated, not
 * re-serialised, so key order and numbers survive), a form as a JSON object, nothing as {@code {}}.
 */
@Component
class PayloadReader {

    static final int MAX_BYTES = 1024 * 1024;

    /** A body larger than this is checked in the large-body lane. */
    static final int LARGE = 64 * 1024;
    /** How long a large body waits for the lane before its sender is told to retry (503 + Retry-After). */
    static final Duration LANE_WAIT = Duration.ofSeconds(5);

    private final JsonMapper json;
    /**
     * At most half the cores check large JSON bodies at once (a 1 MiB body is ~5 ms of CPU): a flood of big webhooks
     * from anyone takes at most that share of the node, and logins, small webhooks and deliveries keep the rest
     * (bench/abuse attack 7). Small bodies never wait.
     */
    private final Semaphore largeLane =
            new Semaphore(Math.max(1, Runtime.getRuntime().availableProcessors() / 2), true);

    PayloadReader(JsonMapper json) {
        this.json = json;
    }

    String read(HttpServletRequest request) {
        return toPayload(readBytes(request), request.getContentType());
    }

    /** The raw body, at most 1 MiB (413 beyond). */
    byte[] readBytes(HttpServletRequest request) {
        long declared = request.getContentLengthLong();
        if (declared > MAX_BYTES) {
            throw tooLarge();
        }
        byte[] body;
        try (InputStream in = request.getInputStream()) {
            body = in.readNBytes(MAX_BYTES + 1);
        } catch (IOException e) { // the body is in memory already (web/BodyBufferFilter): not expected
            throw new UncheckedIOException(e);
        }
        if (body.length > MAX_BYTES) {
            throw tooLarge();
        }
        return body;
    }

    /** The JSON text to deliver for a raw body of this content type. */
    String toPayload(byte[] body, String contentType) {
        if (body.length == 0) {
            return "{}";
        }
        MediaType type = mediaType(contentType);
        if (type == null
                || type.isCompatibleWith(MediaType.APPLICATION_JSON)
                || "json".equals(type.getSubtypeSuffix())) {
            if (body.length <= LARGE) {
                return checkedJson(body, type);
            }
            boolean admitted;
            try {
                admitted = largeLane.tryAcquire(LANE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                admitted = false;
            }
            if (!admitted) {
                throw new DomainException.Unavailable(
                        "busy",
                        "This node is checking as many large bodies as it takes at once; retry.",
                        Duration.ofSeconds(1));
            }
            try {
                return checkedJson(body, type);
            } finally {
                largeLane.release();
            }
        }
        if (type.isCompatibleWith(MediaType.APPLICATION_FORM_URLENCODED)) {
            return json.writeValueAsString(form(decode(body, type)));
        }
        throw new ApiException(
                HttpStatus.UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "Send application/json or application/x-www-form-urlencoded, not " + type + ".");
    }

    private String checkedJson(byte[] body, MediaType type) {
        String text = decode(body, type);
        if (text.isBlank()) {
            return "{}";
        }
        // Checked by streaming through it, not by building its tree: a 1 MiB [0,0,...] is 500,000 nodes, and building
        // them was a fifth of a node's CPU under a flood of such webhooks (bench/abuse attack 7).
        try (JsonParser parser = json.createParser(text)) {
            if (parser.nextToken() == null) {
                throw new DomainException.InvalidRequest("malformed-json", "The body is not valid JSON: no value");
            }
            parser.skipChildren();
            if (parser.nextToken() != null) {
                throw new DomainException.InvalidRequest(
                        "malformed-json", "The body is not valid JSON: more than one value");
            }
        } catch (JacksonException e) {
            throw new DomainException.InvalidRequest(
                    "malformed-json", "The body is not valid JSON: " + e.getOriginalMessage());
        }
        return text;
    }

    private static MediaType mediaType(String header) {
        if (header == null || header.isBlank()) {
            return null;
        }
        try {
            return MediaType.parseMediaType(header);
        } catch (IllegalArgumentException e) {
            throw new ApiException(
                    HttpStatus.UNSUPPORTED_MEDIA_TYPE,
                    "unsupported-media-type",
                    "Unsupported media type",
                    "Content-Type '" + header + "' cannot be parsed.");
        }
    }

    private static String decode(byte[] body, MediaType type) {
        Charset charset = type == null || type.getCharset() == null ? StandardCharsets.UTF_8 : type.getCharset();
        try {
            return charset.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new DomainException.InvalidRequest(
                    "bad-encoding", "The body is not valid " + charset.name() + " text.");
        }
    }

    /** {@code a=1&b=2&b=3} becomes {@code {"a":"1","b":["2","3"]}}: a repeated key becomes an array. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> form(String body) {
        Map<String, Object> result = new LinkedHashMap<>();
        for (String pair : body.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String key;
            String value;
            try {
                key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new DomainException.InvalidRequest(
                        "malformed-form", "The form body has a bad percent-escape near '" + pair + "'.");
            }
            result.merge(key, value, (old, added) -> {
                List<Object> list = old instanceof List<?> l ? (List<Object>) l : new ArrayList<>(List.of(old));
                list.add(added);
                return list;
            });
        }
        return result;
    }

    private static ApiException tooLarge() {
        return new ApiException(
                HttpStatus.CONTENT_TOO_LARGE, "payload-too-large", "Payload too large", "Bodies are limited to 1 MiB.");
    }
}
