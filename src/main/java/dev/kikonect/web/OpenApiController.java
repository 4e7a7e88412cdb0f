package dev.kikonect.web;

import dev.kikonect.common.PublicUrls;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.core.io.ClassPathResource;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import tools.jackson.databind.json.JsonMapper;

/**
 * Serves the API description (written by hand in {@code openapi.yaml}, checked by OpenApiContractTest) as JSON at
 * /openapi.json; Swagger UI at /docs reads it from there.
 */
@RestController
class OpenApiController {

    private final Map<String, Object> document;
    private final JsonMapper mapper;
    private final PublicUrls urls;
    private volatile String json;

    OpenApiController(JsonMapper mapper, PublicUrls urls, @Value("${kikonect.build.version:dev}") String version) {
        try (InputStream in = new ClassPathResource("openapi.yaml").getInputStream()) {
            Map<String, Object> document = new Yaml(new LoaderOptions()).load(in);
            @SuppressWarnings("unchecked")
            Map<String, Object> info = (Map<String, Object>) document.get("info");
            info.put("version", version);
            this.document = document;
            this.mapper = mapper;
            this.urls = urls;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Swagger UI (from its webjar) reading /openapi.json. springdoc is not used: its UI only works with its own
     * generated description, and ours is written by hand because request bodies are read as raw JSON (to name every
     * bad field at once), which generation cannot describe.
     */
    @PublicEndpoint
    @GetMapping(value = "/docs", produces = MediaType.TEXT_HTML_VALUE)
    String docs() {
        String base = "/webjars/swagger-ui/" + SWAGGER_UI_VERSION;
        return """
        <!doctype html>
        <html lang="en">
        <head><meta charset="utf-8"><title>KiKonect API</title>
        <link rel="stylesheet" href="%1$s/swagger-ui.css"></head>
        <body><div id="ui"></div>
        <script src="%1$s/swagger-ui-bundle.js"></script>
        <script>%2$s</script>
        </body></html>
        """.formatted(base, DOCS_SCRIPT);
    }

    /** The one inline script of /docs; its hash is the only inline script the page's CSP allows. */
    static final String DOCS_SCRIPT =
            "window.onload = () => { window.ui = SwaggerUIBundle({url: \"/openapi.json\", dom_id: \"#ui\"}); };";

    static final String SWAGGER_UI_VERSION = "5.32.2";

    @PublicEndpoint
    @GetMapping(value = "/openapi.json", produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<String> openApi() {
        String served = json;
        if (served == null) {
            // As served: this installation's address (kikonect.public-base-url; known once the server listens) and
            // version, so that a client generated from /openapi.json talks to it.
            Map<String, Object> copy = new LinkedHashMap<>(document);
            copy.put("servers", List.of(Map.of("url", urls.base(), "description", "this KiKonect")));
            json = served = mapper.writeValueAsString(copy);
        }
        return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(served);
    }
}
