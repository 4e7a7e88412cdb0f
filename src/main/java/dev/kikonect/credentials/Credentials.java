package dev.kikonect.credentials;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.kikonect.common.DomainException;
import dev.kikonect.common.Fields;
import dev.kikonect.common.Printable;
import dev.kikonect.execution.DeliveryTargets;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * Credentials: created, listed, replaced and deleted by their owner through the API, opened only for a delivery.
 * What is secret (a token, a password, a header or parameter value, a client secret) is sealed with the master key
 * before it is stored and is never part of an answer; the rest (username, header_name, token_url, client_id...) is
 * shown.
 */
@Service
public class Credentials {

    /** A type: the fields it shows (required, then optional) and the fields it keeps secret (all required). */
    record Type(String name, List<String> shown, List<String> optional, List<String> secret) {
        List<String> all() {
            return Stream.of(shown, optional, secret).flatMap(List::stream).toList();
        }
    }

    static final Map<String, Type> TYPES = new LinkedHashMap<>();

    static {
        for (Type t : List.of(
                new Type("bearer", List.of(), List.of(), List.of("token")),
                new Type("basic", List.of("username"), List.of(), List.of("password")),
                new Type("header", List.of("header_name"), List.of(), List.of("value")),
                new Type("query", List.of("param_name"), List.of(), List.of("value")),
                new Type(
                        "oauth2_client_credentials",
                        List.of("token_url", "client_id"),
                        List.of("scope", "audience"),
                        List.of("client_secret")))) {
            TYPES.put(t.name(), t);
        }
    }

    /** Credentials one workspace may keep (each is a row and a line in every list). */
    static final int MAX_PER_ACCOUNT = 1000;

    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,99}");
    private static final Set<String> OWNED_HEADERS =
            Set.of("host", "content-length", "transfer-encoding", "connection", "content-type");
    private static final TypeReference<Map<String, String>> STRINGS = new TypeReference<>() {};

    /** A credential opened for a delivery: its type, shown fields and secret fields. Held only while a request is built. */
    public record Opened(
            long id,
            String name,
            String type,
            Map<String, String> fields,
            Map<String, String> secret,
            Instant updatedAt,
            List<String> allowedHosts) {

        /** Whether the credential may be sent to {@code host}: one of its hosts exactly, or below a {@code *.} one. */
        public boolean allows(String host) {
            return Credentials.allows(allowedHosts, host);
        }
    }

    /** Whether {@code host} is one of {@code allowed} (exact, any case) or below a {@code *.example.com} entry. */
    static boolean allows(List<String> allowed, String host) {
        if (host == null) {
            return false;
        }
        String h = host.toLowerCase(Locale.ROOT);
        for (String a : allowed) {
            if (a.startsWith("*.") ? h.endsWith(a.substring(1)) && h.length() > a.length() - 1 : h.equals(a)) {
                return true;
            }
        }
        return false;
    }

    /** An allowed host: a host name or address, or {@code *.} and a domain of at least two labels. */
    private static final Pattern HOST = Pattern.compile(
            "^(\\*\\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$|^\\[[0-9a-f:.]+\\]$");

    /** {@code allowed_hosts}: required, 1 to 50 hosts; lower-cased. */
    private static List<String> allowedHosts(Fields fields, Object raw) {
        if (!(raw instanceof List<?> list) || list.isEmpty() || list.size() > 50) {
            fields.problem(
                    "allowed_hosts",
                    raw == null
                            ? "is required: the hosts this credential may be sent to (api.example.com, or *.example.com for its subdomains)"
                            : "must be a list of 1 to 50 hosts");
            return List.of();
        }
        List<String> hosts = new ArrayList<>();
        for (Object item : list) {
            String host = item instanceof String s ? s.strip().toLowerCase(Locale.ROOT) : null;
            if (host == null
                    || host.length() > 253
                    || !HOST.matcher(host).matches()
                    || host.equals("*.")
                    || (host.startsWith("*.") && !host.substring(2).contains("."))) {
                fields.problem(
                        "allowed_hosts",
                        "'" + Printable.of(String.valueOf(item), 100)
                                + "' is not a host name (api.example.com) or a wildcard of a domain (*.example.com)");
            } else if (!hosts.contains(host)) {
                hosts.add(host);
            }
        }
        return hosts;
    }

    private final CredentialStore store;
    private final MasterKeys keys;
    private final Cache<Long, Boolean> recentlyUsed = Caffeine.newBuilder()
            .maximumSize(100_000)
            .expireAfterWrite(Duration.ofMinutes(1))
            .build();
    private final DeliveryTargets targets;
    private final JsonMapper json;
    private final Clock clock;

    private final TransactionTemplate transactions;

    Credentials(
            CredentialStore store,
            MasterKeys keys,
            DeliveryTargets targets,
            JsonMapper json,
            Clock clock,
            TransactionTemplate transactions) {
        this.transactions = transactions;
        this.store = store;
        this.keys = keys;
        this.targets = targets;
        this.json = json;
        this.clock = clock;
    }

    Credential create(long workspaceId, Map<String, Object> body) {
        return create(workspaceId, body, made -> {});
    }

    /** Validates outside any transaction (token URLs are resolved), then stores and calls {@code alongside} in one. */
    Credential create(long workspaceId, Map<String, Object> body, Consumer<Credential> alongside) {
        Fields fields = Fields.of(body);
        String name = fields.string("name", true, 1, 100);
        if (name != null && !NAME.matcher(name).matches()) {
            fields.problem(
                    "name", "must be letters, digits, '_', '.' or '-' (starting with a letter or digit), like erp-api");
        }
        String typeName = fields.string("type", true, 1, 40);
        Type type = typeName == null ? null : TYPES.get(typeName);
        if (typeName != null && type == null) {
            fields.problem("type", "must be one of " + String.join(", ", TYPES.keySet()));
        }
        Values values = type == null ? null : values(fields, body, type, Set.of("name", "type", "allowed_hosts"));
        List<String> hosts = allowedHosts(fields, body.get("allowed_hosts"));
        fields.throwIfInvalid();
        if (store.count(workspaceId) >= MAX_PER_ACCOUNT) {
            throw new DomainException.QuotaExceeded(
                    "credentials",
                    "This workspace has " + MAX_PER_ACCOUNT
                            + " credentials, the most one workspace may have; delete some first.");
        }
        long id = store.nextId();
        MasterKeys.Sealed sealed = seal(id, values.secret());
        return transactions.execute(tx -> {
            if (!store.insert(
                    id,
                    workspaceId,
                    name,
                    type.name(),
                    json.writeValueAsString(values.shown()),
                    sealed,
                    hosts,
                    clock.instant())) {
                throw new DomainException.Conflict(
                        "credential-name-taken", "This workspace already has a credential named '" + name + "'.");
            }
            Credential made = view(store.find(workspaceId, id).orElseThrow(), true);
            alongside.accept(made);
            return made;
        });
    }

    List<Credential> list(long workspaceId) {
        return store.list(workspaceId).stream().map(r -> view(r, true)).toList();
    }

    Credential get(long workspaceId, long id) {
        return view(owned(workspaceId, id), true);
    }

    /** Replaces the fields (secret ones included) of a credential; its name and type stay. */
    Credential replace(long workspaceId, long id, Map<String, Object> body) {
        return replace(workspaceId, id, body, (before, after) -> {});
    }

    Credential replace(
            long workspaceId, long id, Map<String, Object> body, BiConsumer<Credential, Credential> alongside) {
        CredentialStore.Row row = owned(workspaceId, id);
        Fields fields = Fields.of(body);
        if (body.containsKey("type") && !row.type().equals(body.get("type"))) {
            fields.problem("type", "cannot be changed; create a new credential instead");
        }
        if (body.containsKey("name") && !row.name().equals(body.get("name"))) {
            fields.problem("name", "cannot be changed (steps name it); create a new credential instead");
        }
        Values values = values(fields, body, TYPES.get(row.type()), Set.of("name", "type", "allowed_hosts"));
        // Absent: the hosts stay as they were (a PUT types the secret fields again, the hosts only when they change).
        List<String> hosts = body.containsKey("allowed_hosts")
                ? allowedHosts(fields, body.get("allowed_hosts"))
                : row.allowedHosts();
        fields.throwIfInvalid();
        MasterKeys.Sealed sealed = seal(id, values.secret());
        return transactions.execute(tx -> {
            Credential before = view(owned(workspaceId, id), true);
            store.replace(workspaceId, id, json.writeValueAsString(values.shown()), sealed, hosts, clock.instant());
            Credential after = view(owned(workspaceId, id), true);
            alongside.accept(before, after);
            return after;
        });
    }

    void delete(long workspaceId, long id) {
        CredentialStore.Row row = owned(workspaceId, id);
        if (!store.deleteUnused(workspaceId, id)) {
            List<Map<String, Object>> users = store.usedBy(workspaceId, row.name());
            throw new DomainException.Conflict(
                    "credential-in-use",
                    "Credential '" + row.name() + "' is used by "
                            + users.stream()
                                    .map(w -> "workflow " + w.get("id") + " (" + w.get("name") + ")")
                                    .toList() + "; change those steps first.");
        }
    }

    /** Whether the user has a credential of that name. */
    public boolean exists(long workspaceId, String name) {
        return store.findByName(workspaceId, name).isPresent();
    }

    /** The credential, opened, for building a request; its use is recorded (at most once a minute). */
    public Optional<Opened> open(long workspaceId, String name) {
        return store.findByName(workspaceId, name).map(row -> {
            Map<String, String> secret = json.readValue(
                    new String(keys.open(row.secret(), context(row.id())), StandardCharsets.UTF_8), STRINGS);
            if (recentlyUsed.asMap().putIfAbsent(row.id(), Boolean.TRUE) == null) {
                store.touch(row.id(), clock.instant()); // last_used_at, at most once a minute per credential and node
            }
            return new Opened(
                    row.id(),
                    row.name(),
                    row.type(),
                    json.readValue(row.fields(), STRINGS),
                    secret,
                    row.updatedAt(),
                    row.allowedHosts());
        });
    }

    private record Values(Map<String, String> shown, Map<String, String> secret) {}

    private Values values(Fields fields, Map<String, Object> body, Type type, Set<String> also) {
        for (String key : body.keySet()) {
            if (!also.contains(key) && !type.all().contains(key)) {
                fields.problem(
                        key,
                        "is not a field of a " + type.name() + " credential (" + String.join(", ", type.all()) + ")");
            }
        }
        Map<String, String> shown = new LinkedHashMap<>();
        Map<String, String> secret = new LinkedHashMap<>();
        for (String f : type.shown()) {
            String v = fields.string(f, true, 1, 2048);
            if (v != null) {
                shown.put(f, v);
            }
        }
        for (String f : type.optional()) {
            String v = fields.string(f, false, 1, 2048);
            if (v != null) {
                shown.put(f, v);
            }
        }
        for (String f : type.secret()) {
            String v = fields.string(f, true, 1, 8192);
            if (v != null && (v.indexOf('\r') >= 0 || v.indexOf('\n') >= 0)) {
                fields.problem(f, "must be a single line");
            } else if (v != null
                    && v.chars().anyMatch(c -> Character.isISOControl(c) || c == '\u2028' || c == '\u2029')) {
                // A control character is escaped wherever the value is quoted (an error, the log), where scrubbing the
                // secret would have to find it in another form; no real secret needs one.
                fields.problem(f, "must not contain control characters");
            } else if (v != null) {
                secret.put(f, v);
            }
        }
        String header = shown.get("header_name");
        if (header != null) {
            String lower = header.toLowerCase(Locale.ROOT);
            if (!header.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}")) {
                fields.problem("header_name", "is not a valid header name");
            } else if (OWNED_HEADERS.contains(lower) || lower.startsWith("webhook-")) {
                fields.problem("header_name", "is set by KiKonect and cannot be a credential's header");
            }
        }
        String tokenUrl = shown.get("token_url");
        if (tokenUrl != null) {
            tokenUrl(fields, tokenUrl);
        }
        return new Values(shown, secret);
    }

    private void tokenUrl(Fields fields, String url) {
        try {
            URI uri = new URI(url);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!uri.isAbsolute() || !(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
                fields.problem("token_url", "must be an absolute http or https URL");
            } else if (uri.getUserInfo() != null) {
                fields.problem("token_url", "must not contain credentials");
            } else {
                targets.refusal(uri).ifPresent(r -> fields.problem("token_url", "is refused: " + r));
            }
        } catch (URISyntaxException e) {
            fields.problem("token_url", "is not a valid URL: " + e.getReason());
        }
    }

    private MasterKeys.Sealed seal(long id, Map<String, String> secret) {
        return keys.seal(json.writeValueAsString(secret).getBytes(StandardCharsets.UTF_8), context(id));
    }

    static String context(long id) {
        return "credential:" + id;
    }

    private CredentialStore.Row owned(long workspaceId, long id) {
        return store.find(workspaceId, id).orElseThrow(() -> new DomainException.NotFound("Credential " + id));
    }

    private Credential view(CredentialStore.Row row, boolean withUsers) {
        Map<String, Object> shown = new LinkedHashMap<>(json.readValue(row.fields(), STRINGS));
        return new Credential(
                row.id(),
                row.name(),
                row.type(),
                shown,
                row.allowedHosts(),
                row.createdAt(),
                row.updatedAt(),
                row.lastUsedAt(),
                withUsers ? store.usedBy(row.workspaceId(), row.name()) : null);
    }
}
