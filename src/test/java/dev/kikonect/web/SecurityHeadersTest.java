package dev.kikonect.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class SecurityHeadersTest extends ApiTest {

    @Test
    void the_web_app_and_the_docs_forbid_framing_foreign_scripts_and_sniffing() throws Exception {
        for (String page : new String[] {"/app/", "/docs"}) {
            var response = api.get(page, null);
            assertThat(response.status()).as(page).isEqualTo(200);
            String csp = response.header("Content-Security-Policy");
            assertThat(csp)
                    .as(page)
                    .contains("frame-ancestors 'none'")
                    .contains("object-src 'none'")
                    .contains("script-src 'self'");
            assertThat(csp).doesNotContain("unsafe-eval");
            assertThat(response.header("X-Frame-Options")).isEqualTo("DENY");
            assertThat(response.header("X-Content-Type-Options")).isEqualTo("nosniff");
            assertThat(response.header("Referrer-Policy")).isEqualTo("no-referrer");
        }
    }

    @Test
    void the_docs_policy_allows_exactly_the_inline_script_the_page_contains() throws Exception {
        var docs = api.get("/docs", null);
        String body = docs.body();
        String script = body.substring(
                body.indexOf("<script>") + "<script>".length(), body.indexOf("</script>", body.indexOf("<script>")));
        String hash = "sha256-"
                + Base64.getEncoder()
                        .encodeToString(
                                MessageDigest.getInstance("SHA-256").digest(script.getBytes(StandardCharsets.UTF_8)));

        assertThat(docs.header("Content-Security-Policy")).contains("'" + hash + "'");
    }

    @Test
    void api_answers_are_not_sniffed_either() {
        assertThat(api.get("/openapi.json", null).header("X-Content-Type-Options"))
                .isEqualTo("nosniff");
    }
}
